// The nivaran binary's command line: usage and exit codes, check-config, and the terminal chat
// filing a ticket through the same pipeline and Redis.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "bot/keys.h"
#include "bot/redis.h"
#include "tests/e2e/bot_process.h"
#include "tests/support/redis_server.h"

using namespace nivaran;
using namespace nivaran::testing;
namespace fs = std::filesystem;

namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  fs::path dir = fs::temp_directory_path() / ("nivaran-cli-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / name) << text;
  return (dir / name).string();
}

}  // namespace

TEST_CASE("bad command lines print usage on stderr and exit 2", "[e2e][cli]") {
  const std::vector<std::vector<std::string>> bad = {
      {}, {"launch"}, {"serve"}, {"serve", "--config"}, {"chat", "--bogus", "x"}};
  for (const auto& args : bad) {
    std::string out, err;
    CHECK(run_nivaran(args, "", out, err) == 2);
    CHECK(err.find("usage: nivaran") != std::string::npos);
    CHECK(out.empty());
  }
}

TEST_CASE("check-config accepts the demo configuration and names the field of a bad one",
          "[e2e][cli]") {
  std::string out, err;
  CHECK(run_nivaran({"check-config", "--config", source_dir() + "/config/demo.json"}, "", out,
                    err) == 0);
  CHECK(out.find(": ok") != std::string::npos);

  auto cfg = test_config(6379, "http://127.0.0.1:9");
  cfg["http"]["port"] = "eighty";
  std::string path = write_temp("bad.json", cfg.dump());
  CHECK(run_nivaran({"check-config", "--config", path}, "", out, err) == 1);
  CHECK(err.find("http.port: expected an integer") != std::string::npos);

  cfg = test_config(6379, "ftp://nowhere");
  path = write_temp("bad2.json", cfg.dump());
  CHECK(run_nivaran({"check-config", "--config", path}, "", out, err) == 1);
  CHECK(err.find("platforms.telegram.api_base") != std::string::npos);

  std::string out2, err2;
  CHECK(run_nivaran({"serve", "--config", path}, "", out2, err2) == 1);  // start refuses it too
  CHECK(err2.find("platforms.telegram.api_base") != std::string::npos);
}

TEST_CASE("a citizen files a grievance in the terminal and the ticket is in Redis",
          "[e2e][cli][chat]") {
  RedisServer redis_server;
  redis_server.start();
  auto cfg = test_config(redis_server.port(), "http://127.0.0.1:9");
  std::string path = write_temp("chat.json", cfg.dump());
  std::string input =
      "नमस्ते\n1\nबरेली\nपता नहीं\nकिला पुल के पास\nकल रात 11 बजे\nकल रात मेरी मोटरसाइकिल चोरी हो गई\nराम कुमार\n९८७६५४३२१०\nहाँ\nहाँ\n";
  std::string out, err;
  REQUIRE(run_nivaran({"chat", "--config", path, "--user", "ram"}, input, out, err) == 0);
  std::smatch m;
  INFO(out << err);
  REQUIRE(std::regex_search(out, m, std::regex("BLY-\\d{2}-\\d{6}")));

  Redis redis(RedisEndpoint{"127.0.0.1", redis_server.port(), 0, 500});
  auto mobile = redis.command({"HGET", keys::ticket(m.str()), "mobile"});
  REQUIRE(mobile.ok());
  CHECK(mobile->str == "9876543210");
  auto session = redis.command({"EXISTS", keys::session("terminal", "ram")});
  CHECK(session->integer == 1);
}
