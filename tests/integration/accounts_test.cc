// Staff accounts and console sign-in against a real redis-server: password hashing, tokens
// stored only as digests, expiry, lock-out after repeated failures, and the audit trail.
#include "bot/accounts.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>

#include "bot/keys.h"
#include "tests/integration/fixture.h"

using namespace nivaran;
using nivaran::testing::RedisFixture;
using nlohmann::json;

namespace {

const int64_t kNow = 1'780'000'000'000;  // ms
const std::string kPassword = "Surakshit#2026";

AccountOptions fast_options() {
  AccountOptions o;
  o.known_districts = {"bareilly", "badaun", "pilibhit", "shahjahanpur"};
  o.scrypt.n = 1024;  // tests only; the service default is 2^15
  o.token_ttl_s = 3600;
  return o;
}

struct AccountsFixture : RedisFixture {
  AccountsFixture() : accounts(*redis, fast_options()) {}

  void add(const std::string& login, const std::string& role, const std::string& district = "") {
    Status st = accounts.add_user({login, role, district}, kPassword, "cli:test", kNow);
    REQUIRE(st.message() == "");
    REQUIRE(st.is_ok());
  }

  std::string login(const std::string& login, const std::string& password = kPassword,
                    int64_t now = kNow) {
    auto token = accounts.login(login, password, "10.0.0.7", now);
    REQUIRE(token.status().message() == "");
    return token.value();
  }

  // Every key and every value in the database, as one text to search.
  std::string everything() {
    std::string all;
    std::string cursor = "0";
    do {
      RedisValue page = run({"SCAN", cursor, "COUNT", "1000"});
      cursor = page.elements[0].str;
      for (const auto& k : page.elements[1].elements) {
        all += k.str + "\n";
        std::string type = run({"TYPE", k.str}).str;
        RedisValue v;
        if (type == "string") v = run({"GET", k.str});
        if (type == "hash") v = run({"HGETALL", k.str});
        if (type == "set") v = run({"SMEMBERS", k.str});
        if (type == "zset") v = run({"ZRANGE", k.str, "0", "-1", "WITHSCORES"});
        if (type == "stream") v = run({"XRANGE", k.str, "-", "+"});
        append(v, all);
      }
    } while (cursor != "0");
    return all;
  }

  static void append(const RedisValue& v, std::string& out) {
    out += v.str + "\n";
    for (const auto& e : v.elements) append(e, out);
  }

  std::vector<json> audit_entries() {
    std::vector<json> out;
    for (const auto& entry : run({"XRANGE", keys::audit(), "-", "+"}).elements) {
      out.push_back(json::parse(entry.elements[1].elements[1].str));
    }
    return out;
  }

  Accounts accounts;
};

}  // namespace

TEST_CASE_METHOD(AccountsFixture, "a staff member is added, logs in and is known by the token",
                 "[accounts]") {
  add("ram.kumar", "staff", "pilibhit");
  std::string token = login("ram.kumar");
  CHECK(std::regex_match(token, std::regex("[0-9a-f]{64}")));

  auto who = accounts.authenticate(token, kNow + 1000);
  REQUIRE(who.ok());
  CHECK(who.value() == StaffAccount{"ram.kumar", "staff", "pilibhit"});

  SECTION("the login is matched without regard to case") {
    CHECK(accounts.login("Ram.Kumar", kPassword, "10.0.0.7", kNow).ok());
  }
  SECTION("each login gets its own token") { CHECK(login("ram.kumar") != token); }
  SECTION("logout ends the session and is harmless to repeat") {
    CHECK(accounts.logout(token, kNow).is_ok());
    CHECK(accounts.authenticate(token, kNow).status().code() == Status::Code::kUnauthorized);
    CHECK(accounts.logout(token, kNow).is_ok());
  }
}

TEST_CASE_METHOD(AccountsFixture, "the stored password hash is not the password and verifies it",
                 "[accounts]") {
  add("sita", "nodal", "bareilly");
  std::string stored = run({"HGET", keys::staff_user("sita"), "password"}).str;
  CHECK(stored.rfind("scrypt$1024$8$1$", 0) == 0);
  CHECK(stored.find(kPassword) == std::string::npos);
  CHECK(verify_password(kPassword, stored));
  CHECK_FALSE(verify_password("Surakshit#2027", stored));
  CHECK(everything().find(kPassword) == std::string::npos);
}

TEST_CASE_METHOD(AccountsFixture, "a wrong password and an unknown login get the same answer",
                 "[accounts]") {
  add("ram.kumar", "staff", "pilibhit");
  auto wrong = accounts.login("ram.kumar", "not-the-password", "10.0.0.7", kNow);
  auto unknown = accounts.login("shyam", kPassword, "10.0.0.7", kNow);
  auto malformed = accounts.login("x", kPassword, "10.0.0.7", kNow);
  for (const auto* r : {&wrong, &unknown, &malformed}) {
    REQUIRE_FALSE(r->ok());
    CHECK(r->status().code() == Status::Code::kUnauthorized);
    CHECK(r->status().message() == "wrong login or password");
  }
}

TEST_CASE_METHOD(AccountsFixture, "a login that is taken is refused, and the first account stays",
                 "[accounts]") {
  add("ram.kumar", "staff", "pilibhit");
  Status again =
      accounts.add_user({"ram.kumar", "sp", "bareilly"}, "another-password", "cli:test", kNow);
  CHECK(again.code() == Status::Code::kRefused);
  CHECK(again.http_status() == 409);
  CHECK(again.message() == "login: 'ram.kumar' already exists");
  CHECK(run({"HGET", keys::staff_user("ram.kumar"), "role"}).str == "staff");
  CHECK(accounts.login("ram.kumar", kPassword, "10.0.0.7", kNow).ok());
}

TEST_CASE_METHOD(AccountsFixture, "roles, districts and logins follow the rules", "[accounts]") {
  struct Case {
    StaffAccount account;
    std::string error;  // empty: accepted
  };
  const std::vector<Case> cases = {
      {{"staff1", "staff", "pilibhit"}, ""},
      {{"nodal.bly", "nodal", "bareilly"}, ""},
      {{"sp_badaun", "sp", "badaun"}, ""},
      {{"ig-range", "ig", ""}, ""},
      {{"admin", "admin", ""}, ""},
      {{"staff2", "staff", ""},
       "district: role staff works one district; give one of bareilly, badaun, pilibhit, "
       "shahjahanpur"},
      {{"staff3", "staff", "lucknow"},
       "district: 'lucknow' is not a configured district (bareilly, badaun, pilibhit, "
       "shahjahanpur)"},
      {{"ig2", "ig", "bareilly"}, "district: role ig covers the whole range and takes no district"},
      {{"boss", "superuser", ""}, "role: 'superuser' is not one of staff, nodal, sp, ig, admin"},
      {{"Ram", "staff", "pilibhit"},
       "login: 'Ram' must be 3 to 64 of a-z, 0-9, '.', '_', '-' (lower case), starting with a "
       "letter or digit"},
      {{"ab", "staff", "pilibhit"},
       "login: 'ab' must be 3 to 64 of a-z, 0-9, '.', '_', '-' (lower case), starting with a "
       "letter or digit"},
      {{".ram", "staff", "pilibhit"},
       "login: '.ram' must be 3 to 64 of a-z, 0-9, '.', '_', '-' (lower case), starting with a "
       "letter or digit"},
      {{std::string(65, 'a'), "ig", ""},
       "login: '" + std::string(65, 'a') +
           "' must be 3 to 64 of a-z, 0-9, '.', '_', '-' "
           "(lower case), starting with a letter or digit"},
  };
  for (const auto& c : cases) {
    INFO(c.account.login << " " << c.account.role << " " << c.account.district);
    Status st = accounts.add_user(c.account, kPassword, "cli:test", kNow);
    CHECK(st.message() == c.error);
    CHECK(st.is_ok() == c.error.empty());
    CHECK(run({"EXISTS", keys::staff_user(c.account.login)}).integer == (c.error.empty() ? 1 : 0));
  }
  auto listed = accounts.list_users();
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 5);
  CHECK(listed->front().account == StaffAccount{"admin", "admin", ""});
  CHECK(listed->front().created_at == kNow);
}

TEST_CASE_METHOD(AccountsFixture, "weak passwords are refused with the reason", "[accounts]") {
  const StaffAccount a{"ram.kumar", "staff", "pilibhit"};
  CHECK(accounts.add_user(a, "", "cli:test", kNow).message() == "password: empty");
  CHECK(accounts.add_user(a, "short", "cli:test", kNow).message() ==
        "password: at least 8 characters");
  CHECK(accounts.add_user(a, std::string(257, 'x'), "cli:test", kNow).message() ==
        "password: longer than 256 bytes");
  CHECK(accounts.add_user(a, "ram.kumar", "cli:test", kNow).message() ==
        "password: must not be the login");
  CHECK(run({"EXISTS", keys::staff_user("ram.kumar")}).integer == 0);
}

TEST_CASE_METHOD(AccountsFixture, "a token expires token_ttl_s after login, in Redis too",
                 "[accounts]") {
  add("ram.kumar", "staff", "pilibhit");
  std::string token = login("ram.kumar");
  CHECK(accounts.authenticate(token, kNow + 3600 * 1000 - 1).ok());
  auto expired = accounts.authenticate(token, kNow + 3600 * 1000);
  CHECK(expired.status().code() == Status::Code::kUnauthorized);
  CHECK(expired.status().message() == "unknown or expired token; log in again");

  RedisValue scan = run({"KEYS", "nv:auth:token:*"});
  REQUIRE(scan.elements.size() == 1);
  long long ttl = run({"PTTL", scan.elements[0].str}).integer;
  CHECK(ttl > 3590 * 1000);
  CHECK(ttl <= 3600 * 1000);

  SECTION("malformed and made-up tokens are refused") {
    for (const std::string& t : {std::string(), std::string("abc"), std::string(64, 'g'),
                                 std::string(64, '0'), token + "0"}) {
      CHECK(accounts.authenticate(t, kNow).status().code() == Status::Code::kUnauthorized);
    }
  }
}

TEST_CASE_METHOD(AccountsFixture, "tokens are stored only as digests", "[accounts]") {
  add("ram.kumar", "staff", "pilibhit");
  std::string token = login("ram.kumar");
  std::string all = everything();
  CHECK(all.find(token) == std::string::npos);
  CHECK(all.find(token.substr(0, 16)) == std::string::npos);
  RedisValue scan = run({"KEYS", "nv:auth:token:*"});
  REQUIRE(scan.elements.size() == 1);
  CHECK(run({"HGET", scan.elements[0].str, "login"}).str == "ram.kumar");
}

TEST_CASE_METHOD(AccountsFixture, "a disabled or deleted account's tokens stop working",
                 "[accounts]") {
  add("ram.kumar", "staff", "pilibhit");
  std::string token = login("ram.kumar");

  SECTION("disabled") {
    REQUIRE(accounts.disable_user("ram.kumar", "admin", kNow).is_ok());
    CHECK(accounts.authenticate(token, kNow).status().code() == Status::Code::kUnauthorized);
    auto again = accounts.login("ram.kumar", kPassword, "10.0.0.7", kNow);
    CHECK(again.status().message() == "wrong login or password");
    CHECK(accounts.disable_user("nobody", "admin", kNow).code() == Status::Code::kNotFound);
    auto listed = accounts.list_users();
    REQUIRE(listed.ok());
    CHECK(listed->at(0).disabled);
  }
  SECTION("deleted from Redis by hand") {
    run({"DEL", keys::staff_user("ram.kumar")});
    CHECK(accounts.authenticate(token, kNow).status().code() == Status::Code::kUnauthorized);
  }
}

TEST_CASE_METHOD(AccountsFixture, "ten failed logins lock the name for the window", "[accounts]") {
  add("ram.kumar", "staff", "pilibhit");
  const int64_t minute = 60 * 1000;
  for (int i = 0; i < 10; ++i) {
    auto r = accounts.login("ram.kumar", "guess-" + std::to_string(i), "10.0.0.9", kNow + i);
    CHECK(r.status().code() == Status::Code::kUnauthorized);
  }
  auto locked = accounts.login("ram.kumar", kPassword, "10.0.0.7", kNow + minute);
  CHECK(locked.status().code() == Status::Code::kRateLimited);
  CHECK(locked.status().http_status() == 429);
  CHECK(locked.status().message() ==
        "too many failed logins for 'ram.kumar'; wait up to 15 minutes and try again");
  CHECK(run({"PTTL", keys::login_failures("ram.kumar")}).integer > 0);

  SECTION("an unknown name locks the same way, so locking reveals nothing") {
    for (int i = 0; i < 10; ++i) accounts.login("ghost", "guess", "10.0.0.9", kNow + i);
    CHECK(accounts.login("ghost", "guess", "10.0.0.9", kNow + minute).status().code() ==
          Status::Code::kRateLimited);
  }
  SECTION("once the failures leave the window, the right password works and clears them") {
    CHECK(accounts.login("ram.kumar", kPassword, "10.0.0.7", kNow + 15 * minute + 10).ok());
    CHECK(run({"EXISTS", keys::login_failures("ram.kumar")}).integer == 0);
  }
  SECTION("other accounts are not affected") {
    add("sita", "staff", "pilibhit");
    CHECK(accounts.login("sita", kPassword, "10.0.0.7", kNow + minute).ok());
  }
}

TEST_CASE_METHOD(AccountsFixture,
                 "logins, failures and account changes are audited without secrets", "[accounts]") {
  add("ram.kumar", "staff", "pilibhit");
  std::string token = login("ram.kumar");
  accounts.login("ram.kumar", "wrong-password!", "10.0.0.9", kNow + 1);
  accounts.login("ghost", kPassword, "10.0.0.9", kNow + 2);
  accounts.logout(token, kNow + 3);

  auto entries = audit_entries();
  REQUIRE(entries.size() == 5);
  CHECK(entries[0]["action"] == "user_add");
  CHECK(entries[0]["actor"] == "cli:test");
  CHECK(entries[0]["login"] == "ram.kumar");
  CHECK(entries[0]["district"] == "pilibhit");
  CHECK(entries[1]["action"] == "login");
  CHECK(entries[1]["actor"] == "ram.kumar");
  CHECK(entries[1]["role"] == "staff");
  CHECK(entries[1]["addr"] == "10.0.0.7");
  CHECK(entries[1]["at"] == kNow);
  CHECK(entries[2]["action"] == "login_failed");
  CHECK(entries[2]["reason"] == "wrong_password");
  CHECK(entries[2]["addr"] == "10.0.0.9");
  CHECK(entries[3]["action"] == "login_failed");
  CHECK(entries[3]["actor"] == "ghost");
  CHECK(entries[3]["reason"] == "unknown_login");
  CHECK(entries[4]["action"] == "logout");
  CHECK(entries[4]["session"] == entries[1]["session"]);

  std::string audit_text;
  for (const auto& e : entries) audit_text += e.dump();
  CHECK(audit_text.find(kPassword) == std::string::npos);
  CHECK(audit_text.find("wrong-password!") == std::string::npos);
  CHECK(audit_text.find(token) == std::string::npos);
}
