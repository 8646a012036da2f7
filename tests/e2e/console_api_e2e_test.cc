// The console API end to end: the real `nivaran serve`, accounts made with `nivaran user add`,
// tickets filed over the Telegram webhook, replies delivered to a fake Telegram API.
#include <catch2/catch.hpp>
#include <thread>
#include <nlohmann/json.hpp>

#include <regex>

#include "bot/keys.h"
#include "bot/redis.h"
#include "tests/e2e/bot_process.h"
#include "tests/e2e/http_probe.h"
#include "tests/support/fake_platform.h"
#include "tests/support/redis_server.h"

using namespace nivaran;
using namespace nivaran::testing;
using nlohmann::json;

namespace {

const std::vector<std::pair<std::string, std::string>> kSecret = {
    {"X-Telegram-Bot-Api-Secret-Token", "test-secret"}};

std::string text_update(long update_id, long chat, const std::string& text) {
  return json{{"update_id", update_id},
              {"message",
               {{"message_id", update_id},
                {"from", {{"id", chat}, {"is_bot", false}, {"first_name", "सीता"}}},
                {"chat", {{"id", chat}, {"type", "private"}}},
                {"date", 1795000000},
                {"text", text}}}}
      .dump();
}

struct Console {
  Console() {
    redis_server.start();
    fake.start();
    json config = test_config(redis_server.port(), fake.base_url());
    config["auth"] = {{"scrypt_n", 1024}};
    bot = std::make_unique<BotProcess>(config);
    bot->start();
    add_user("asha", "staff", "bareilly");
    add_user("ravi", "staff", "pilibhit");
    add_user("ig.range", "ig", "");
  }

  void add_user(const std::string& login, const std::string& role, const std::string& district) {
    std::vector<std::string> args = {"user", "add", "--config", bot->config_path(),
                                     "--login", login, "--role", role};
    if (!district.empty()) args.insert(args.end(), {"--district", district});
    std::string out, err;
    INFO(err);
    REQUIRE(run_nivaran(args, "sahi-password-123\n", out, err) == 0);
  }

  std::string login(const std::string& who) {
    auto r = post(bot->port(), "/api/v1/login",
                  json{{"login", who}, {"password", "sahi-password-123"}}.dump());
    INFO(r.body);
    REQUIRE(r.status == 200);
    return json::parse(r.body).at("token");
  }

  // Files a theft complaint over the webhook; returns its reference.
  std::string file(long chat, const std::string& district) {
    const std::vector<std::string> answers = {
        "/start", "1", district, "पता नहीं", "बाज़ार", "कल शाम", "मेरी साइकिल चोरी हो गई",
        "सीता देवी", "98765" + std::to_string(10000 + chat % 90000), "हाँ", "हाँ"};
    for (const auto& a : answers) {
      REQUIRE(post(bot->port(), "/webhook/telegram", text_update(++update, chat, a), kSecret)
                  .status == 200);
    }
    Redis redis(RedisEndpoint{"127.0.0.1", redis_server.port(), 0, 500});
    auto refs = redis.command({"ZREVRANGE", keys::citizen_tickets("telegram", std::to_string(chat)),
                               "0", "0"});
    REQUIRE(refs.ok());
    REQUIRE(refs->elements.size() == 1);
    return refs->elements[0].str;
  }

  ProbeResponse call(const std::string& method, const std::string& path, const std::string& token,
                     const std::string& body = "") {
    ProbeRequest req;
    req.method = method;
    req.path = path;
    req.body = body;
    if (!token.empty()) req.headers.push_back({"Authorization", "Bearer " + token});
    if (!body.empty()) req.headers.push_back({"Content-Type", "application/json"});
    return probe(bot->port(), req);
  }

  RedisServer redis_server;
  FakePlatform fake;
  std::unique_ptr<BotProcess> bot;
  long update = 100;
};

}  // namespace

TEST_CASE("staff log in, work their district's queue and reply to the citizen",
          "[e2e][console]") {
  Console c;
  std::string bly = c.file(3001, "बरेली");
  std::string pbt = c.file(3002, "पीलीभीत");
  std::string asha = c.login("asha");

  auto queue = c.call("GET", "/api/v1/tickets?status=new", asha);
  REQUIRE(queue.status == 200);
  json tickets = json::parse(queue.body)["tickets"];
  REQUIRE(tickets.size() == 1);
  CHECK(tickets[0]["id"] == bly);
  CHECK(tickets[0]["district"] == "bareilly");
  CHECK(tickets[0]["cell"] == "social_media");

  auto one = c.call("GET", "/api/v1/tickets/" + bly, asha);
  REQUIRE(one.status == 200);
  json ticket = json::parse(one.body);
  CHECK(ticket["transcript"].size() >= 11);
  CHECK(ticket["status"] == "new");

  const size_t sent_before = c.fake.request_count();
  auto reply = c.call("POST", "/api/v1/tickets/" + bly + "/reply", asha,
                      json{{"text", "नमस्ते, आपकी शिकायत पर कार्रवाई शुरू हो गई है।"}}.dump());
  REQUIRE(reply.status == 200);
  CHECK(json::parse(reply.body)["status"] == "in_progress");
  // The conversation's own last replies may still be on their way: wait for this one itself.
  bool delivered = false;
  for (int i = 0; i < 100 && !delivered; ++i) {
    c.fake.wait_for_requests(sent_before + 1, std::chrono::milliseconds(100));
    for (const auto& r : c.fake.requests()) {
      if (r.path.find("/sendMessage") == std::string::npos) continue;
      json body = json::parse(r.body);
      if (body["chat_id"] == 3001 &&
          std::string(body["text"]).find("कार्रवाई शुरू हो गई है") != std::string::npos) {
        delivered = true;
      }
    }
    if (!delivered) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(delivered);

  auto resolved = c.call("POST", "/api/v1/tickets/" + bly + "/status", asha,
                         json{{"status", "resolved"}, {"note", "साइकिल बरामद"}}.dump());
  CHECK(resolved.status == 200);
  auto again = c.call("POST", "/api/v1/tickets/" + bly + "/status", asha,
                      json{{"status", "in_progress"}}.dump());
  CHECK(again.status == 409);
  CHECK(json::parse(again.body)["error"].get<std::string>().find("closed, reopened") !=
        std::string::npos);

  // The IG sees the whole range.
  std::string ig = c.login("ig.range");
  auto range = c.call("GET", "/api/v1/tickets", ig);
  REQUIRE(range.status == 200);
  CHECK(json::parse(range.body)["tickets"].size() == 2);
  CHECK(c.call("GET", "/api/v1/tickets/" + pbt, ig).status == 200);
  // Undelivered messages: the range sees them, a district's staff may not.
  auto dead = c.call("GET", "/api/v1/dead-letters", ig);
  CHECK(dead.status == 200);
  CHECK(json::parse(dead.body)["dead_letters"].is_array());
  CHECK(c.call("GET", "/api/v1/dead-letters", asha).status == 403);
  CHECK(c.bot->stop() == 0);
}

TEST_CASE("a staff member of one district can read nothing of another's over the API",
          "[e2e][console][scope]") {
  Console c;
  std::string bly = c.file(3101, "बरेली");
  std::string ravi = c.login("ravi");  // Pilibhit

  auto list = c.call("GET", "/api/v1/tickets", ravi);
  REQUIRE(list.status == 200);
  CHECK(json::parse(list.body)["tickets"].empty());
  CHECK(c.call("GET", "/api/v1/tickets?district=bareilly", ravi).status == 403);

  auto read = c.call("GET", "/api/v1/tickets/" + bly, ravi);
  auto missing = c.call("GET", "/api/v1/tickets/BLY-26-999999", ravi);
  CHECK(read.status == 404);
  CHECK(missing.status == 404);
  CHECK(read.body.find("सीता") == std::string::npos);
  CHECK(read.body.find("साइकिल") == std::string::npos);
  CHECK(c.call("POST", "/api/v1/tickets/" + bly + "/reply", ravi,
               json{{"text", "hello"}}.dump()).status == 404);
  CHECK(c.call("POST", "/api/v1/tickets/" + bly + "/status", ravi,
               json{{"status", "resolved"}}.dump()).status == 404);
  CHECK(c.call("POST", "/api/v1/tickets/" + bly + "/notes", ravi,
               json{{"text", "x"}}.dump()).status == 404);
}

TEST_CASE("bad console requests get a clear 4xx", "[e2e][console][input]") {
  Console c;
  std::string bly = c.file(3201, "बरेली");
  std::string asha = c.login("asha");
  struct Case {
    const char* what;
    std::string method, path, token, body;
    int status;
    const char* says;
  };
  const std::vector<Case> cases = {
      {"no token", "GET", "/api/v1/tickets", "", "", 401, "sign in"},
      {"forged token", "GET", "/api/v1/tickets", std::string(64, 'a'), "", 401, ""},
      {"wrong password", "POST", "/api/v1/login", "",
       json{{"login", "asha"}, {"password", "galat-password"}}.dump(), 401, "wrong login or password"},
      {"unknown login", "POST", "/api/v1/login", "",
       json{{"login", "nobody"}, {"password", "galat-password"}}.dump(), 401, "wrong login or password"},
      {"login without password", "POST", "/api/v1/login", "", json{{"login", "asha"}}.dump(), 400,
       "password"},
      {"login not JSON", "POST", "/api/v1/login", "", "{login", 400, "not valid JSON"},
      {"login by GET", "GET", "/api/v1/login", "", "", 405, "POST"},
      {"unknown filter value", "GET", "/api/v1/tickets?status=pending", asha, "", 400, "status"},
      {"bad limit", "GET", "/api/v1/tickets?limit=abc", asha, "", 400, "limit"},
      {"bad cursor", "GET", "/api/v1/tickets?cursor=zzz", asha, "", 400, "cursor"},
      {"malformed id", "GET", "/api/v1/tickets/../../etc", asha, "", 404, ""},
      {"reply without text", "POST", "/api/v1/tickets/" + bly + "/reply", asha, "{}", 400, "text"},
      {"reply text not a string", "POST", "/api/v1/tickets/" + bly + "/reply", asha,
       json{{"text", 5}}.dump(), 400, "must be a string"},
      {"reply not JSON", "POST", "/api/v1/tickets/" + bly + "/reply", asha, "[", 400, "JSON"},
      {"unknown status", "POST", "/api/v1/tickets/" + bly + "/status", asha,
       json{{"status", "done"}}.dump(), 400, "unknown"},
      {"forward without a station", "POST", "/api/v1/tickets/" + bly + "/status", asha,
       json{{"status", "forwarded"}}.dump(), 400, "police_station"},
      {"unknown action", "POST", "/api/v1/tickets/" + bly + "/explode", asha, "{}", 404, ""},
      {"reply by GET", "GET", "/api/v1/tickets/" + bly + "/reply", asha, "", 405, "POST"},
      {"unknown API path", "GET", "/api/v1/nothing", asha, "", 404, ""},
  };
  for (const auto& k : cases) {
    INFO(k.what);
    auto r = c.call(k.method, k.path, k.token, k.body);
    CHECK(r.status == k.status);
    json body = json::parse(r.body, nullptr, false);
    REQUIRE(body.is_object());
    CHECK(body.value("error", "").find(k.says) != std::string::npos);
  }
  // Logged out, the token stops working.
  CHECK(c.call("POST", "/api/v1/logout", asha).status == 200);
  CHECK(c.call("GET", "/api/v1/tickets", asha).status == 401);
  CHECK(c.bot->stop() == 0);
}
