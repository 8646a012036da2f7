#include "bot/password.h"

#include <catch2/catch.hpp>

using namespace nivaran;

namespace {

const ScryptParams kFast{1024, 8, 1};  // 1 MiB: fast enough for tests, same code path

}  // namespace

TEST_CASE("a password hash describes itself and verifies only its own password", "[password]") {
  auto hashed = hash_password("correct horse", kFast);
  REQUIRE(hashed.ok());
  const std::string& h = hashed.value();
  CHECK(h.rfind("scrypt$1024$8$1$", 0) == 0);
  CHECK(h.find("correct horse") == std::string::npos);
  CHECK(verify_password("correct horse", h));
  CHECK_FALSE(verify_password("correct horsE", h));
  CHECK_FALSE(verify_password("", h));

  auto again = hash_password("correct horse", kFast);
  REQUIRE(again.ok());
  CHECK(again.value() != h);  // a fresh salt each time
  CHECK(verify_password("correct horse", again.value()));
}

TEST_CASE("a damaged or hostile hash record never verifies", "[password]") {
  auto good = hash_password("correct horse", kFast).value();
  const std::string salt_and_hash = good.substr(std::string("scrypt$1024$8$1$").size());
  const std::vector<std::string> bad = {
      "",
      "correct horse",
      "bcrypt$1024$8$1$" + salt_and_hash,
      "scrypt$1000$8$1$" + salt_and_hash,        // N not a power of two
      "scrypt$1073741824$8$1$" + salt_and_hash,  // would need gigabytes
      "scrypt$1024$8$1$" + salt_and_hash + "$x",
      "scrypt$1024$8$1$!!!!$" + salt_and_hash.substr(salt_and_hash.find('$') + 1),
      "scrypt$1024$8$1$" + salt_and_hash.substr(0, salt_and_hash.find('$') + 1),
      "scrypt$ 1024$8$1$" + salt_and_hash,
  };
  for (const auto& b : bad) {
    INFO(b);
    CHECK_FALSE(verify_password("correct horse", b));
  }
}

TEST_CASE("password rules name what is wrong", "[password]") {
  CHECK(check_password_rules("").message() == "password: empty");
  CHECK(check_password_rules("seven77").message() == "password: at least 8 characters");
  CHECK(check_password_rules(std::string(257, 'a')).message() == "password: longer than 256 bytes");
  CHECK(check_password_rules("tab\tinside").message() == "password: contains a control character");
  CHECK(check_password_rules("eight888").is_ok());
  CHECK(check_password_rules(std::string(256, 'a')).is_ok());
  // Characters, not bytes: seven Devanagari letters are 21 bytes but still too short.
  CHECK_FALSE(check_password_rules("अबकखगघच").is_ok());
  CHECK(check_password_rules("अबकखगघचछ").is_ok());
}

TEST_CASE("the default cost (N=2^15, 32 MiB) hashes and verifies", "[password]") {
  auto hashed = hash_password("correct horse", ScryptParams{});
  REQUIRE(hashed.ok());
  CHECK(hashed.value().rfind("scrypt$32768$8$1$", 0) == 0);
  CHECK(verify_password("correct horse", hashed.value()));
}
