// End to end for the web chat's JSON API: the real `nivaran serve`, a real redis-server, plain
// HTTP on loopback. The page itself is tested in Chromium by tests/browser/webchat.test.js.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include "bot/keys.h"
#include "bot/redis.h"
#include "tests/e2e/bot_process.h"
#include "tests/e2e/http_probe.h"
#include "tests/support/redis_server.h"

using namespace nivaran;
using namespace nivaran::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A folder with a stand-in page, so these tests do not depend on the real page's content.
std::string page_dir() {
  std::string tmpl = (fs::temp_directory_path() / "nivaran-webchat-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  std::ofstream(tmpl + "/index.html") << "<!doctype html><title>test page</title>";
  std::ofstream(tmpl + "/app.js") << "console.log('ok');";
  return tmpl;
}

struct WebChatWorld {
  explicit WebChatWorld(json webchat = json::object()) {
    redis_server.start();
    json config = test_config(redis_server.port(), "http://127.0.0.1:9");
    webchat["enabled"] = true;
    webchat["static_dir"] = page_dir();
    config["platforms"]["webchat"] = webchat;
    bot = std::make_unique<BotProcess>(config);
    bot->start();
    redis = std::make_unique<Redis>(RedisEndpoint{"127.0.0.1", redis_server.port(), 0, 500});
  }

  std::string new_session() {
    auto r = post(bot->port(), "/webchat/api/session", "");
    REQUIRE(r.status == 201);
    return json::parse(r.body).at("session").get<std::string>();
  }

  ProbeResponse say(const std::string& session, const std::string& id, const std::string& text) {
    return post(bot->port(), "/webchat/api/messages",
                json{{"session", session}, {"id", id}, {"text", text}}.dump());
  }

  json poll(const std::string& session, const std::string& after = "0") {
    auto r = get(bot->port(), "/webchat/api/messages?session=" + session + "&after=" + after);
    REQUIRE(r.status == 200);
    return json::parse(r.body);
  }

  RedisServer redis_server;
  std::unique_ptr<BotProcess> bot;
  std::unique_ptr<Redis> redis;
};

const std::vector<std::string> kConversation = {
    "नमस्ते",     "1",         "बरेली",      "पता नहीं", "पुराना शहर, किला पुल के पास", "कल रात 11 बजे",
    "कल रात मेरी मोटरसाइकिल घर के बाहर से चोरी हो गई", "राम कुमार", "9876543210",
    "हाँ" /* consent */, "हाँ" /* confirm */};

}  // namespace

TEST_CASE("a citizen files a grievance through the web chat API and reads the reference",
          "[e2e][webchat]") {
  WebChatWorld w;
  std::string session = w.new_session();
  CHECK(std::regex_match(session, std::regex("[0-9a-f]{32}")));
  int n = 0;
  for (const auto& text : kConversation) {
    auto r = w.say(session, "m" + std::to_string(++n), text);
    REQUIRE(r.status == 200);
  }
  json all = w.poll(session);
  REQUIRE(all["messages"].size() >= kConversation.size());
  std::string last = all["messages"].back()["text"];
  INFO("last reply: " << last);
  std::smatch m;
  REQUIRE(std::regex_search(last, m, std::regex("BLY-\\d{2}-\\d{6}")));
  auto ticket = w.redis->command({"HMGET", keys::ticket(m.str()), "platform", "category"});
  REQUIRE(ticket.ok());
  CHECK(ticket->elements[0].str == "webchat");
  CHECK(ticket->elements[1].str == "theft");

  // Nothing went to the outbox: the page reads its replies itself.
  auto outbox = w.redis->command({"XLEN", keys::outbox()});
  CHECK(outbox->integer == 0);

  // The cursor moves on: asking after the last reply gives nothing new.
  json later = w.poll(session, all["cursor"]);
  CHECK(later["messages"].empty());
  CHECK(later["cursor"] == all["cursor"]);
  CHECK(w.bot->stop() == 0);
}

TEST_CASE("the first reply offers its choices as options", "[e2e][webchat]") {
  WebChatWorld w;
  std::string session = w.new_session();
  REQUIRE(w.say(session, "a1", "नमस्ते").status == 200);
  json first = w.poll(session);
  REQUIRE_FALSE(first["messages"].empty());
  json options = first["messages"].back()["options"];
  REQUIRE(options.size() >= 2);
  // Pressing a button sends its id.
  auto r = post(w.bot->port(), "/webchat/api/messages",
                json{{"session", session}, {"id", "a2"}, {"button", options[0]["id"]}}.dump());
  CHECK(r.status == 200);
  json next = w.poll(session, first["cursor"]);
  CHECK_FALSE(next["messages"].empty());
}

TEST_CASE("a retried web chat send is stored once", "[e2e][webchat]") {
  WebChatWorld w;
  std::string session = w.new_session();
  REQUIRE(w.say(session, "same-id", "नमस्ते").status == 200);
  size_t replies = w.poll(session)["messages"].size();
  REQUIRE(replies > 0);
  REQUIRE(w.say(session, "same-id", "नमस्ते").status == 200);
  CHECK(w.poll(session)["messages"].size() == replies);
}

TEST_CASE("the web chat serves its page and refuses what is not a page file", "[e2e][webchat]") {
  WebChatWorld w;
  auto index = get(w.bot->port(), "/webchat/");
  CHECK(index.status == 200);
  CHECK(index.headers["content-type"].find("text/html") == 0);
  CHECK(index.body.find("test page") != std::string::npos);
  CHECK_FALSE(index.headers["content-security-policy"].empty());
  auto js = get(w.bot->port(), "/webchat/app.js");
  CHECK(js.status == 200);
  CHECK(js.headers["content-type"].find("text/javascript") == 0);
  CHECK(get(w.bot->port(), "/webchat").status == 301);
  CHECK(get(w.bot->port(), "/webchat/missing.js").status == 404);
  CHECK(get(w.bot->port(), "/webchat/..%2F..%2Fetc%2Fpasswd").status == 404);
  CHECK(get(w.bot->port(), "/webchat/.hidden.js").status == 404);
  CHECK(get(w.bot->port(), "/webchat/api/nothing").status == 404);
}

TEST_CASE("bad web chat requests get a clear 4xx", "[e2e][webchat][input]") {
  WebChatWorld w;
  std::string session = w.new_session();
  const std::string path = "/webchat/api/messages";
  struct Case {
    const char* what;
    std::string body;
    int status;
    const char* says;
  };
  const std::vector<Case> cases = {
      {"not JSON", "{\"session\":", 400, "not valid JSON"},
      {"not an object", "[1,2]", 400, "JSON object"},
      {"no session", json{{"id", "x"}, {"text", "hi"}}.dump(), 400, "session"},
      {"malformed session", json{{"session", "abc"}, {"id", "x"}, {"text", "hi"}}.dump(), 400,
       "session"},
      {"unknown session",
       json{{"session", std::string(32, 'a')}, {"id", "x"}, {"text", "hi"}}.dump(), 404,
       "unknown or expired"},
      {"no id", json{{"session", session}, {"text", "hi"}}.dump(), 400, "\"id\""},
      {"id with spaces", json{{"session", session}, {"id", "a b"}, {"text", "hi"}}.dump(), 400,
       "\"id\""},
      {"text of the wrong type", json{{"session", session}, {"id", "x"}, {"text", 5}}.dump(), 400,
       "\"text\" must be a string"},
      {"nothing said", json{{"session", session}, {"id", "x"}, {"text", ""}}.dump(), 400,
       "non-empty"},
      {"text too long",
       json{{"session", session}, {"id", "x"}, {"text", std::string(5000, 'a')}}.dump(), 400,
       "longer than"},
      {"invalid UTF-8", "{\"session\":\"" + session + "\",\"id\":\"x\",\"text\":\"\xff\xfe\"}",
       400, "not valid JSON"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    auto r = post(w.bot->port(), path, c.body);
    CHECK(r.status == c.status);
    CHECK(json::parse(r.body, nullptr, false).value("error", "").find(c.says) != std::string::npos);
  }
  CHECK(get(w.bot->port(), path + "?session=zz").status == 400);
  CHECK(get(w.bot->port(), path + "?session=" + session + "&after=abc").status == 400);
  CHECK(get(w.bot->port(), path + "?session=" + std::string(32, 'b')).status == 404);
  ProbeRequest del;
  del.method = "DELETE";
  del.path = path;
  CHECK(probe(w.bot->port(), del).status == 405);
  CHECK(get(w.bot->port(), "/webchat/api/session").status == 405);
  CHECK(w.bot->stop() == 0);
}

TEST_CASE("the web chat limits messages per session and new sessions per address",
          "[e2e][webchat][input]") {
  WebChatWorld w(json{{"messages_per_session_per_minute", 3}, {"sessions_per_address_per_hour", 2}});
  std::string session = w.new_session();
  for (int i = 0; i < 3; ++i) REQUIRE(w.say(session, "r" + std::to_string(i), "नमस्ते").status == 200);
  auto limited = w.say(session, "r3", "नमस्ते");
  CHECK(limited.status == 429);
  CHECK(limited.headers["retry-after"] == "60");
  w.new_session();  // the second of two allowed
  CHECK(post(w.bot->port(), "/webchat/api/session", "").status == 429);
}

TEST_CASE("the web chat is off unless configured", "[e2e][webchat]") {
  RedisServer redis;
  redis.start();
  BotProcess bot(test_config(redis.port(), "http://127.0.0.1:9"));
  bot.start();
  CHECK(post(bot.port(), "/webchat/api/session", "").status == 404);
  CHECK(bot.stop() == 0);
}
