#include "bot/config.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using nivaran::load_config;

namespace {

// Writes `text` as a config file in a fresh folder and returns its path.
std::string write_config(const std::string& text) {
  static int n = 0;
  fs::path dir = fs::temp_directory_path() /
                 ("nivaran-config-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
  fs::create_directories(dir);
  fs::path file = dir / "nivaran.json";
  std::ofstream(file) << text;
  return file.string();
}

const char* kValid = R"({
  "http": {"host": "127.0.0.1", "port": 8081, "threads": 4},
  "redis": {"host": "127.0.0.1", "port": 6390},
  "platforms": {"telegram": {"token": "${NIVARAN_TEST_TOKEN}", "secret_token": "s",
                             "api_base": "http://127.0.0.1:9/x"}},
  "dialogs": {"flow": "flows/grievance.json"},
  "reference": {"districts": "/abs/districts.json", "categories": "categories.json"}
})";

}  // namespace

TEST_CASE("a valid file loads with environment substitution and resolved paths", "[config]") {
  setenv("NIVARAN_TEST_TOKEN", "123:abc", 1);
  std::string path = write_config(kValid);
  auto c = load_config(path);
  REQUIRE(c.ok());
  CHECK(c->http.port == 8081);
  CHECK(c->http.threads == 4);
  CHECK(c->redis.port == 6390);
  CHECK(c->platforms.at("telegram")["token"] == "123:abc");
  std::string dir = fs::path(path).parent_path().string();
  CHECK(c->flow_file == dir + "/flows/grievance.json");
  CHECK(c->districts_file == "/abs/districts.json");
  CHECK(c->categories_file == dir + "/categories.json");
}

TEST_CASE("an unset environment variable is an error naming the field", "[config]") {
  unsetenv("NIVARAN_TEST_TOKEN");
  std::string path = write_config(kValid);
  auto c = load_config(path);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().message() ==
        path + ": platforms.telegram.token: environment variable NIVARAN_TEST_TOKEN is not set");
}

TEST_CASE("invalid files are refused with the field named", "[config]") {
  setenv("NIVARAN_TEST_TOKEN", "t", 1);
  struct Case {
    std::string from, to, error;
  };
  const std::vector<Case> cases = {
      {"\"port\": 8081", "\"port\": 70000", "http.port: expected an integer from 1 to 65535"},
      {"\"port\": 8081", "\"port\": \"8081\"", "http.port: expected an integer from 1 to 65535"},
      {"\"threads\": 4", "\"threads\": 0", "http.threads: expected an integer from 1 to 256"},
      {"\"port\": 6390}", "\"port\": 6390}, \"outbox\": {\"sends_per_second\": {\"x\": 0}}",
       "outbox.sends_per_second.x: expected an integer from 1 to 100000"},
      {"\"port\": 6390}", "\"port\": 6390}, \"outbox\": {\"sends_per_second\": 5}",
       "outbox.sends_per_second: expected an object of platform: replies per second"},
      {"\"port\": 6390}", "\"port\": 6390}, \"intake\": {\"window_days\": 0}",
       "intake.window_days: expected an integer from 1 to 3650"},
      {"\"port\": 6390}", "\"port\": 6390}, \"sessions\": {\"cache_entries\": -1}",
       "sessions.cache_entries: expected an integer from 0 to 10000000"},
      {"\"port\": 6390}", "\"port\": 6390}, \"outbox\": {\"batch_size\": 0}",
       "outbox.batch_size: expected an integer from 1 to 1000"},
      {"\"port\": 6390}", "\"port\": 6390}, \"outbox\": {\"pause_unreachable_ms\": -5}",
       "outbox.pause_unreachable_ms: expected an integer from 0 to 3600000"},
      {"\"port\": 6390}", "\"port\": 6390}, \"outbox\": {\"reclaim_idle_ms\": 5000}",
       "outbox.reclaim_idle_ms: must be at least twice outbox.request_timeout_ms (10000 ms)"},

      {"\"host\": \"127.0.0.1\", \"port\": 6390", "\"host\": 5, \"port\": 6390",
       "redis.host: expected a string"},
      {"\"flow\": \"flows/grievance.json\"", "\"flow_file\": \"x\"",
       "dialogs.flow: required, expected a string"},
      {"\"platforms\": {\"telegram\"", "\"platforms\": {\"x\": 1, \"telegram\"",
       "platforms.x: expected an object"},
  };
  for (const auto& c : cases) {
    std::string text = kValid;
    auto at = text.find(c.from);
    REQUIRE(at != std::string::npos);
    text.replace(at, c.from.size(), c.to);
    std::string path = write_config(text);
    auto r = load_config(path);
    INFO(text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == path + ": " + c.error);
  }
}

TEST_CASE("a file that is not JSON, or missing, is refused", "[config]") {
  std::string path = write_config("{\"http\": ");
  CHECK(load_config(path).status().message() == path + ": not valid JSON");
  CHECK(load_config("/nonexistent/nivaran.json").status().message() ==
        "/nonexistent/nivaran.json: cannot read the file");
}

TEST_CASE("the auth block is optional, and the scrypt cost must be a power of two", "[config]") {
  setenv("NIVARAN_TEST_TOKEN", "t", 1);
  auto defaults = load_config(write_config(kValid));
  REQUIRE(defaults.ok());
  CHECK(defaults->auth.token_ttl_seconds == 12 * 3600);
  CHECK(defaults->auth.scrypt_n == 32768);

  auto with_auth = [](const std::string& block) {
    std::string text = kValid;
    text.replace(text.rfind('}'), 1, ", \"auth\": " + block + "}");
    return write_config(text);
  };
  auto set = load_config(with_auth(R"({"token_ttl_seconds": 3600, "scrypt_n": 1024})"));
  REQUIRE(set.ok());
  CHECK(set->auth.token_ttl_seconds == 3600);
  CHECK(set->auth.scrypt_n == 1024);

  std::string path = with_auth(R"({"scrypt_n": 3000})");
  CHECK(load_config(path).status().message() ==
        path + ": auth.scrypt_n: expected a power of two from 1024 to 262144");
  path = with_auth(R"({"scrypt_n": 512})");
  CHECK(load_config(path).status().message() ==
        path + ": auth.scrypt_n: expected an integer from 1024 to 262144");
  path = with_auth(R"({"token_ttl_seconds": 10})");
  CHECK(load_config(path).status().message() ==
        path + ": auth.token_ttl_seconds: expected an integer from 300 to 2592000");
}
