// The nivaran binary's command line: usage and exit codes, check-config, the terminal chat
// filing a ticket through the same pipeline and Redis, and adding staff accounts.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <streambuf>
#include <thread>

#include "bot/accounts.h"
#include "bot/commands.h"
#include "bot/keys.h"
#include "bot/pipeline.h"  // system_now_ms
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

// Standard input for run_chat, line by line, running the test's action before each line is
// handed over (so Redis can be stopped or stalled between two messages).
class ScriptedInput : public std::streambuf {
 public:
  ScriptedInput(std::vector<std::string> lines, std::function<void(size_t)> before)
      : lines_(std::move(lines)), before_(std::move(before)) {}

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (next_ >= lines_.size()) return traits_type::eof();
    before_(next_);
    current_ = lines_[next_++] + "\n";
    setg(current_.data(), current_.data(), current_.data() + current_.size());
    return traits_type::to_int_type(*gptr());
  }

 private:
  std::vector<std::string> lines_;
  std::function<void(size_t)> before_;
  std::string current_;
  size_t next_ = 0;
};

// How many of the terminal citizen's messages with this text the transcript of their current
// conversation holds.
int recorded(Redis& redis, const std::string& user, const std::string& text) {
  auto s = redis.command({"HGET", keys::session("terminal", user), "s"});
  REQUIRE(s.ok());
  const std::string episode = nlohmann::json::parse(s->str).value("episode", "");
  auto log = redis.command({"XRANGE", keys::transcript(episode), "-", "+"});
  REQUIRE(log.ok());
  int n = 0;
  for (const auto& entry : log->elements) {
    auto e = nlohmann::json::parse(entry.elements.at(1).elements.at(1).str);
    if (e.value("dir", "") == "in" && e["msg"].value("text", "") == text) ++n;
  }
  return n;
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

TEST_CASE("user add creates a staff account from a password on stdin, and refuses bad ones",
          "[e2e][cli][accounts]") {
  RedisServer redis_server;
  redis_server.start();
  auto cfg = test_config(redis_server.port(), "http://127.0.0.1:9");
  cfg["auth"] = {{"scrypt_n", 1024}};
  std::string path = write_temp("users.json", cfg.dump());
  auto user_add = [&](std::vector<std::string> extra, const std::string& input, std::string& out,
                      std::string& err) {
    std::vector<std::string> args = {"user", "add", "--config", path};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_nivaran(args, input, out, err);
  };
  std::string out, err;
  REQUIRE(user_add({"--login", "ram.kumar", "--role", "staff", "--district", "pilibhit"},
                   "Surakshit#2026\n", out, err) == 0);
  CHECK(out == "user ram.kumar added (role staff, district pilibhit)\n");
  CHECK(err.empty());

  Redis redis(RedisEndpoint{"127.0.0.1", redis_server.port(), 0, 500});
  auto stored = redis.command({"HGETALL", keys::staff_user("ram.kumar")});
  REQUIRE(stored.ok());
  CHECK(stored->elements.size() == 12);
  AccountOptions options;
  options.known_districts = {"pilibhit"};
  options.scrypt.n = 1024;
  Accounts accounts(redis, options);
  auto token = accounts.login("ram.kumar", "Surakshit#2026", "127.0.0.1", system_now_ms());
  REQUIRE(token.ok());  // the newline was not part of the password
  CHECK(accounts.authenticate(token.value(), system_now_ms())->district == "pilibhit");

  SECTION("a range role takes no district") {
    CHECK(user_add({"--login", "ig.range", "--role", "ig"}, "Surakshit#2026\r\n", out, err) == 0);
    CHECK(out == "user ig.range added (role ig, whole range)\n");
    CHECK(accounts.login("ig.range", "Surakshit#2026", "127.0.0.1", system_now_ms()).ok());
  }
  SECTION("a taken login is refused with exit 1") {
    CHECK(user_add({"--login", "ram.kumar", "--role", "sp", "--district", "bareilly"},
                   "another-password\n", out, err) == 1);
    CHECK(err == "nivaran: user add: login: 'ram.kumar' already exists\n");
    CHECK(out.empty());
  }
  SECTION("an unknown district, a bad role or a weak password is refused with exit 1") {
    CHECK(user_add({"--login", "sita", "--role", "staff", "--district", "lucknow"},
                   "Surakshit#2026\n", out, err) == 1);
    CHECK(err.find("district: 'lucknow' is not a configured district (bareilly, badaun, "
                   "pilibhit, shahjahanpur)") != std::string::npos);
    CHECK(user_add({"--login", "sita", "--role", "chief"}, "Surakshit#2026\n", out, err) == 1);
    CHECK(err.find("role: 'chief' is not one of staff, nodal, sp, ig, admin") != std::string::npos);
    CHECK(user_add({"--login", "sita", "--role", "admin"}, "short\n", out, err) == 1);
    CHECK(err.find("password: at least 8 characters") != std::string::npos);
    CHECK(user_add({"--login", "sita", "--role", "admin"}, "", out, err) == 1);
    CHECK(err.find("no password on standard input") != std::string::npos);
    CHECK(redis.command({"EXISTS", keys::staff_user("sita")})->integer == 0);
  }
  SECTION("a missing option is a usage error, exit 2") {
    CHECK(user_add({"--login", "sita"}, "Surakshit#2026\n", out, err) == 2);
    CHECK(err.find("usage: nivaran") != std::string::npos);
  }
}

TEST_CASE("a terminal message Redis did not take is sent again with Enter, and recorded once",
          "[e2e][cli][chat][redis-down]") {
  RedisServer redis_server;
  redis_server.start();
  redis_server.stop();  // the chat starts with Redis down
  std::string path =
      write_temp("chat-down.json", test_config(redis_server.port(), "http://127.0.0.1:9").dump());
  ScriptedInput input({"नमस्ते", ""}, [&](size_t line) {
    if (line == 1) redis_server.start();  // back before the citizen presses Enter
  });
  std::istream in(&input);
  std::ostringstream out;
  REQUIRE(run_chat(path, "sita", in, out) == 0);
  INFO(out.str());
  // First the citizen is told the message may not have been recorded and how to resend it;
  // Enter sends it again, and the greeting with the category menu follows.
  const auto unsure = out.str().find("यह पक्का नहीं है। Enter दबाएँ");
  REQUIRE(unsure != std::string::npos);
  const auto greeting = out.str().find("निवारण> ", unsure);
  REQUIRE(greeting != std::string::npos);
  CHECK(out.str().find("1. ", greeting) != std::string::npos);

  Redis redis(RedisEndpoint{"127.0.0.1", redis_server.port(), 0, 500});
  CHECK(recorded(redis, "sita", "नमस्ते") == 1);
}

TEST_CASE("a terminal message applied while its answer was lost is not recorded twice",
          "[e2e][cli][chat][redis-down]") {
  RedisServer redis_server({"--enable-debug-command", "yes"});
  redis_server.start();
  std::string path =
      write_temp("chat-stall.json", test_config(redis_server.port(), "http://127.0.0.1:9").dump());
  std::thread stall;
  ScriptedInput input({"नमस्ते", "1"}, [&](size_t line) {
    if (line != 1) return;
    // Redis stalls for 1.5 s: the commit of "1" reaches it but its answer comes after the
    // chat's 300 ms timeout; Redis applies it on waking, and the chat's next try finds it done.
    stall = std::thread([port = redis_server.port()] {
      Redis r(RedisEndpoint{"127.0.0.1", port, 0, 5000});
      (void)r.command({"DEBUG", "SLEEP", "1.5"});
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  });
  std::istream in(&input);
  std::ostringstream out;
  int code = run_chat(path, "gita", in, out);
  if (stall.joinable()) stall.join();
  REQUIRE(code == 0);
  INFO(out.str());
  CHECK(out.str().find("आपका संदेश दर्ज हो चुका है, पर उसका उत्तर यहाँ नहीं पहुँचा") !=
        std::string::npos);
  CHECK(out.str().find("यह पक्का नहीं है") == std::string::npos);

  Redis redis(RedisEndpoint{"127.0.0.1", redis_server.port(), 0, 500});
  CHECK(recorded(redis, "gita", "1") == 1);
}
