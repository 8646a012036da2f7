// End to end over HTTP: the real `nivaran serve` binary, a real redis-server and a fake Telegram
// API on loopback that records what the bot sends.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <atomic>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "bot/keys.h"
#include "bot/redis.h"
#include "core/message.h"
#include "handlers/common/text.h"
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
               {{"message_id", update_id % 100000},
                {"from", {{"id", chat}, {"is_bot", false}, {"first_name", "राम"}}},
                {"chat", {{"id", chat}, {"type", "private"}, {"first_name", "राम"}}},
                {"date", 1795000000},
                {"text", text}}}}
      .dump();
}

std::string button_update(long update_id, long chat, const std::string& data) {
  return json{{"update_id", update_id},
              {"callback_query",
               {{"id", "cb" + std::to_string(update_id)},
                {"from", {{"id", chat}, {"is_bot", false}, {"first_name", "राम"}}},
                {"message",
                 {{"message_id", 9},
                  {"chat", {{"id", chat}, {"type", "private"}}},
                  {"date", 1795000000},
                  {"text", "..."}}},
                {"chat_instance", "1"},
                {"data", data}}}}
      .dump();
}

struct World {
  World() {
    redis_server.start();
    fake.start();
    bot = another_process();
    redis = std::make_unique<Redis>(RedisEndpoint{"127.0.0.1", redis_server.port(), 0, 500});
  }

  // A `nivaran serve` process on this world's Redis and platform API, started.
  std::unique_ptr<BotProcess> another_process() {
    auto p = std::make_unique<BotProcess>(test_config(redis_server.port(), fake.base_url()));
    p->start();
    return p;
  }

  ProbeResponse send(const std::string& body) {
    return post(bot->port(), "/webhook/telegram", body, kSecret);
  }

  // The sendMessage bodies received so far, waiting until there are at least n.
  std::vector<json> sent_messages(size_t n) {
    std::vector<json> out;
    for (int i = 0; i < 200 && out.size() < n; ++i) {
      out.clear();
      for (const auto& r : fake.requests()) {
        if (r.path.find("/sendMessage") != std::string::npos) out.push_back(json::parse(r.body));
      }
      if (out.size() < n) fake.wait_for_requests(fake.request_count() + 1,
                                                 std::chrono::milliseconds(50));
    }
    return out;
  }

  int64_t session_version(const std::string& chat) {
    auto v = redis->command({"HGET", keys::session("telegram", chat), "v"});
    REQUIRE(v.ok());
    return v->is_nil() ? 0 : std::stoll(v->str);
  }

  RedisServer redis_server;
  FakePlatform fake;
  std::unique_ptr<BotProcess> bot;
  std::unique_ptr<Redis> redis;
};

const std::vector<std::string> kConversation = {
    "/start",      "1",         "बरेली",      "पता नहीं", "पुराना शहर, किला पुल के पास", "कल रात 11 बजे",
    "कल रात मेरी मोटरसाइकिल घर के बाहर से चोरी हो गई", "राम कुमार", "9876543210",
    "हाँ" /* consent */, "हाँ" /* confirm */};

// Citizens walking the grievance dialog at once, each to a ticket: `clients` threads, each
// walking its share of `chats` one step at a time, at a citizen's pace rather than a flood. A
// step is redelivered, as the platform would, until it is answered 200: a refused connection, a
// reset or a 503 is tried again. The port may change while they walk (another process taking
// over). The destructor stops and joins them, so a failed REQUIRE never leaves them running.
class Walkers {
 public:
  Walkers(int port, int chats, int clients, long first_chat)
      : port_(port), chats_(chats), first_chat_(first_chat) {
    for (int k = 0; k < clients; ++k)
      threads_.emplace_back([this, k, clients] { walk(k, clients); });
  }
  ~Walkers() {
    stop_ = true;
    join();
  }

  int total() const { return chats_ * static_cast<int>(kConversation.size()); }
  int acknowledged() const { return acknowledged_; }
  void set_port(int port) { port_ = port; }
  // Waits until a third of the steps are acknowledged (where the fault tests strike); false
  // after 30 s.
  bool wait_for_a_third() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (acknowledged_ < total() / 3) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }
  // Waits for every walk to end; false when one gave up (60 s without an answer 200).
  bool finish() {
    join();
    return !gave_up_;
  }
  // The update of step `step` of chat number `chat` (its own mobile number, and update id).
  std::string update(int chat, size_t step) const {
    std::string text = kConversation[step];
    if (text == "9876543210") text = "98765" + std::to_string(10000 + chat);
    return text_update(100000 + chat * 100 + static_cast<long>(step), first_chat_ + chat, text);
  }

 private:
  void walk(int k, int clients) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (size_t step = 0; step < kConversation.size(); ++step) {
      for (int chat = k; chat < chats_; chat += clients) {
        const std::string body = update(chat, step);
        while (post(port_, "/webhook/telegram", body, kSecret).status != 200) {
          if (stop_ || std::chrono::steady_clock::now() > deadline) {
            gave_up_ = true;
            return;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        ++acknowledged_;
        std::this_thread::sleep_for(std::chrono::milliseconds(15));
      }
    }
  }
  void join() {
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  std::atomic<int> port_;
  const int chats_;
  const long first_chat_;
  std::atomic<int> acknowledged_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> gave_up_{false};
  std::vector<std::thread> threads_;
};

long long redis_count(Redis& redis, const std::vector<std::string>& cmd) {
  auto r = redis.command(cmd);
  REQUIRE(r.ok());
  return r->type == RedisValue::Type::kArray ? r->elements.at(0).integer : r->integer;
}

// Waits until the outbox is empty: nothing unread, pending or waiting for a retry.
bool outbox_drained(Redis& redis) {
  for (int i = 0; i < 300; ++i) {
    if (redis_count(redis, {"XLEN", keys::outbox()}) == 0 &&
        redis_count(redis, {"XPENDING", keys::outbox(), keys::kOutboxGroup}) == 0 &&
        redis_count(redis, {"ZCARD", keys::outbox_delayed()}) == 0) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// After the walks ended and the outbox drained: every acknowledged message is in a transcript
// exactly once, every walk filed its ticket, and each reply reached the platform once or, when
// a sender died while sending it, is a dead letter saying its delivery is uncertain (it may
// have arrived; it is not sent again). Returns how many replies are such dead letters.
size_t check_nothing_lost_nothing_twice(World& w, const Walkers& walkers, int chats) {
  std::map<std::string, int> inbound;                           // message id → times recorded
  std::map<std::string, std::multiset<std::string>> committed;  // chat → replies, as sent
  std::string cursor = "0";
  do {
    auto page = w.redis->command({"SCAN", cursor, "MATCH", "nv:log:*", "COUNT", "100"});
    REQUIRE(page.ok());
    cursor = page->elements.at(0).str;
    for (const auto& key : page->elements.at(1).elements) {
      auto entries = w.redis->command({"XRANGE", key.str, "-", "+"});
      REQUIRE(entries.ok());
      std::string chat;
      std::vector<std::string> replies;
      for (const auto& entry : entries->elements) {
        json e = json::parse(entry.elements.at(1).elements.at(1).str);
        if (e["dir"] == "in") {
          inbound[e["msg"]["message_id"].get<std::string>()]++;
          chat = e["msg"]["chat_id"].get<std::string>();
        } else {
          replies.push_back(handlers::numbered_text(e["reply"].get<Reply>()));
        }
      }
      committed[chat].insert(replies.begin(), replies.end());
    }
  } while (cursor != "0");
  CHECK(inbound.size() == static_cast<size_t>(walkers.total()));
  for (const auto& [id, times] : inbound) {
    INFO("message " << id);
    CHECK(times == 1);
  }
  CHECK(redis_count(*w.redis, {"ZCARD", keys::all_tickets()}) == chats);

  std::map<std::string, std::multiset<std::string>> sent, uncertain;
  for (const auto& r : w.fake.requests()) {
    if (r.path.find("/sendMessage") == std::string::npos) continue;
    json body = json::parse(r.body);
    sent[std::to_string(body["chat_id"].get<long>())].insert(body["text"].get<std::string>());
  }
  auto dead = w.redis->command({"XRANGE", keys::dead_letters(), "-", "+"});
  REQUIRE(dead.ok());
  for (const auto& entry : dead->elements) {
    json d = json::parse(entry.elements.at(1).elements.at(1).str);
    INFO("dead letter: " << d.dump());
    CHECK(d["reason"].get<std::string>().rfind("delivery uncertain", 0) == 0);
    uncertain[d["chat_id"].get<std::string>()].insert(
        handlers::numbered_text(d["reply"].get<Reply>()));
  }
  CHECK(committed.size() == static_cast<size_t>(chats));
  size_t uncertain_total = 0;
  for (const auto& [chat, replies] : committed) {
    for (const auto& text : std::set<std::string>(replies.begin(), replies.end())) {
      INFO("chat " << chat << ", reply: " << text);
      size_t made = replies.count(text), arrived = sent[chat].count(text);
      size_t unsure = uncertain[chat].count(text);
      CHECK(arrived <= made);           // never sent twice
      CHECK(arrived + unsure >= made);  // never lost without a record
      uncertain_total += unsure;
    }
    for (const auto& text : sent[chat]) {
      INFO("chat " << chat << ", sent: " << text);
      CHECK(replies.count(text) > 0);  // nothing sent that was not committed
    }
  }
  return uncertain_total;
}

}  // namespace

TEST_CASE("a citizen files a complete Hindi grievance over Telegram and is given a reference",
          "[e2e][telegram]") {
  World w;
  long id = 5000;
  for (const auto& text : kConversation) {
    auto r = w.send(text_update(++id, 7001, text));
    REQUIRE(r.status == 200);
    CHECK(json::parse(r.body)["ok"] == true);
  }
  auto sent = w.sent_messages(kConversation.size());
  REQUIRE(sent.size() >= kConversation.size());
  std::smatch m;
  std::string last = sent.back()["text"];
  INFO("last reply: " << last);
  REQUIRE(std::regex_search(last, m, std::regex("BLY-\\d{2}-\\d{6}")));
  for (const auto& s : sent) CHECK(s["chat_id"] == 7001);

  auto ticket = w.redis->command({"HGET", keys::ticket(m.str()), "category"});
  REQUIRE(ticket.ok());
  CHECK(ticket->str == "theft");
  CHECK(w.bot->stop() == 0);
}

TEST_CASE("an inline-keyboard press is acknowledged and moves the dialog on", "[e2e][telegram]") {
  World w;
  REQUIRE(w.send(text_update(6001, 7002, "/start")).status == 200);
  auto first = w.sent_messages(1);
  REQUIRE_FALSE(first.empty());
  REQUIRE(first[0].contains("reply_markup"));
  std::string data = first[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"];

  REQUIRE(w.send(button_update(6002, 7002, data)).status == 200);
  auto sent = w.sent_messages(2);
  REQUIRE(sent.size() == 2);
  bool acked = false;
  for (const auto& r : w.fake.requests()) {
    if (r.path.find("/answerCallbackQuery") != std::string::npos) {
      acked = json::parse(r.body)["callback_query_id"] == "cb6002";
    }
  }
  CHECK(acked);
  CHECK(sent[1]["text"] != sent[0]["text"]);
  CHECK(w.session_version("7002") == 2);
}

TEST_CASE("a redelivered update is answered 200 and changes nothing", "[e2e][telegram]") {
  World w;
  std::string update = text_update(6101, 7003, "नमस्ते");
  REQUIRE(w.send(update).status == 200);
  REQUIRE(w.send(update).status == 200);
  REQUIRE(w.send(text_update(6102, 7003, "1")).status == 200);
  CHECK(w.session_version("7003") == 2);
  // Exactly one reply per distinct update: the third request's reply arrives after the
  // duplicate's would have, so two replies here means the duplicate sent nothing.
  auto sent = w.sent_messages(2);
  CHECK(sent.size() == 2);
}

TEST_CASE("two updates for one chat arriving together are both processed", "[e2e][telegram]") {
  World w;
  REQUIRE(w.send(text_update(6200, 7004, "नमस्ते")).status == 200);
  for (int round = 0; round < 5; ++round) {
    int s1 = 0, s2 = 0;
    std::thread a([&] { s1 = w.send(text_update(6300 + 2 * round, 7004, "हेलो")).status; });
    std::thread b([&] { s2 = w.send(text_update(6301 + 2 * round, 7004, "मदद")).status; });
    a.join();
    b.join();
    CHECK(s1 == 200);
    CHECK(s2 == 200);
  }
  CHECK(w.session_version("7004") == 11);
}

TEST_CASE("with Redis stopped the webhook and health answer 503, and both recover by themselves",
          "[e2e][telegram][fault]") {
  World w;
  REQUIRE(w.send(text_update(6401, 7005, "नमस्ते")).status == 200);
  REQUIRE(get(w.bot->port(), "/healthz").status == 200);

  w.redis_server.stop();
  auto refused = w.send(text_update(6402, 7005, "1"));
  CHECK(refused.status == 503);
  CHECK(get(w.bot->port(), "/healthz").status == 503);

  w.redis_server.start();
  auto retried = w.send(text_update(6402, 7005, "1"));  // the platform redelivers
  CHECK(retried.status == 200);
  CHECK(get(w.bot->port(), "/healthz").status == 200);
  CHECK(w.session_version("7005") == 2);
  CHECK(w.sent_messages(2).size() == 2);  // the outbox workers recovered too
}

TEST_CASE("bad requests get a clear 4xx and never hurt the process", "[e2e][telegram][input]") {
  World w;
  const int port = w.bot->port();
  std::string deep(10000, '[');
  deep += std::string(10000, ']');

  struct Case {
    std::string name;
    ProbeRequest req;
    int status;
    std::string error;  // substring of {"error": ...}
  };
  auto webhook = [](std::string body, bool secret = true) {
    ProbeRequest r;
    r.path = "/webhook/telegram";
    r.body = std::move(body);
    r.headers = {{"Content-Type", "application/json"}};
    if (secret) r.headers.push_back(kSecret[0]);
    return r;
  };
  std::vector<Case> cases;
  {
    // Refused from its Content-Length: the server stops reading after the first chunk.
    ProbeRequest big = webhook("{\"update_id\": 1, \"pad\": \"" + std::string(2 << 20, 'x') + "\"}");
    cases.push_back({"2 MB body", big, 413, "larger than"});
  }
  cases.push_back({"not JSON", webhook("this is not json"), 400, "not valid JSON"});
  cases.push_back({"truncated JSON", webhook(text_update(1, 2, "x").substr(0, 40)), 400,
                   "not valid JSON"});
  cases.push_back({"invalid UTF-8", webhook("{\"update_id\":1,\"message\":{\"text\":\"\xff\xfe\"}}"),
                   400, "not valid JSON"});
  cases.push_back({"wrong shape", webhook(R"({"update_id":"seven"})"), 400, "update_id"});
  cases.push_back({"not an object", webhook("[1,2,3]"), 400, ""});
  cases.push_back({"nested 10,000 deep", webhook(deep), 400, ""});
  cases.push_back({"missing secret", webhook(text_update(1, 2, "x"), false), 401, ""});
  {
    ProbeRequest wrong = webhook(text_update(1, 2, "x"), false);
    wrong.headers.emplace_back("X-Telegram-Bot-Api-Secret-Token", "guess");
    cases.push_back({"wrong secret", wrong, 401, ""});
  }
  {
    ProbeRequest r = webhook("{}");
    r.path = "/nope";
    cases.push_back({"unknown path", r, 404, "no such path"});
  }
  {
    ProbeRequest r = webhook("{}");
    r.path = "/webhook/whatsapp";
    cases.push_back({"platform not configured", r, 404, "no such webhook"});
  }
  {
    ProbeRequest r;
    r.method = "GET";
    r.path = "/webhook/telegram";
    cases.push_back({"GET on the webhook", r, 405, "method not allowed"});
  }
  {
    ProbeRequest r = webhook("{}");
    r.method = "PUT";
    cases.push_back({"PUT on the webhook", r, 405, "method not allowed"});
  }

  for (const auto& c : cases) {
    INFO(c.name);
    auto resp = probe(port, c.req);
    CHECK(resp.status == c.status);
    json body = json::parse(resp.body, nullptr, false);
    REQUIRE(body.is_object());
    REQUIRE(body.contains("error"));
    CHECK(body["error"].get<std::string>().find(c.error) != std::string::npos);
  }

  // Connection: close is answered, and says so.
  ProbeRequest closing = webhook(text_update(6501, 7006, "नमस्ते"));
  closing.headers.emplace_back("Connection", "close");
  auto resp = probe(port, closing);
  CHECK(resp.status == 200);
  CHECK(resp.headers["connection"] == "close");

  CHECK(get(port, "/healthz").status == 200);
  CHECK(w.bot->stop() == 0);  // still alive, and shuts down cleanly on SIGTERM
}

TEST_CASE("metrics are served in the Prometheus text format", "[e2e]") {
  World w;
  REQUIRE(w.send(text_update(6601, 7007, "नमस्ते")).status == 200);
  auto m = get(w.bot->port(), "/metrics");
  CHECK(m.status == 200);
  CHECK(m.body.find("nivaran_messages_processed_total 1") != std::string::npos);
  CHECK(m.body.find("# TYPE nivaran_outbox_lag_seconds gauge\nnivaran_outbox_lag_seconds ") !=
        std::string::npos);
}

TEST_CASE("two serve processes sharing one Redis lose no update of a chat they both receive",
          "[e2e][telegram][concurrency]") {
  World w;
  auto second = w.another_process();
  REQUIRE(w.send(text_update(6700, 7008, "नमस्ते")).status == 200);
  constexpr int kRounds = 10;
  std::atomic<int> ok{0};
  std::thread a([&] {
    for (int i = 0; i < kRounds; ++i) {
      ok += w.send(text_update(6800 + i, 7008, "हेलो")).status == 200;
    }
  });
  std::thread b([&] {
    for (int i = 0; i < kRounds; ++i) {
      ok += post(second->port(), "/webhook/telegram", text_update(6900 + i, 7008, "मदद"), kSecret)
                .status == 200;
    }
  });
  a.join();
  b.join();
  CHECK(ok == 2 * kRounds);
  CHECK(w.session_version("7008") == 1 + 2 * kRounds);
  // Both processes' outbox workers share the replies; each is sent once.
  CHECK(w.sent_messages(1 + 2 * kRounds).size() == 1 + 2 * kRounds);
  CHECK(second->stop() == 0);
}

TEST_CASE("a serve process killed under load loses no acknowledged message, and another process "
          "sends its replies, none twice",
          "[e2e][telegram][fault]") {
  World w;
  // The platform answers each call 300 ms after it arrives, so that the kill below finds a reply
  // handed to the network and not yet answered.
  w.fake.set_delay(std::chrono::milliseconds(300));
  constexpr int kChats = 24;
  Walkers walkers(w.bot->port(), kChats, 6, 7100);

  // Kill the first process once a third of the messages are acknowledged, the moment one of its
  // replies reaches the platform.
  REQUIRE(walkers.wait_for_a_third());
  REQUIRE(w.fake.wait_for_requests(w.fake.request_count() + 1, std::chrono::seconds(10)));
  w.bot->kill();
  const int acknowledged_by_first = walkers.acknowledged();

  auto second = w.another_process();
  walkers.set_port(second->port());
  REQUIRE(walkers.finish());
  CHECK(acknowledged_by_first < walkers.total());

  // The second process takes over what the first left pending (after reclaim_idle_ms) and
  // sends what was never read.
  REQUIRE(outbox_drained(*w.redis));
  size_t uncertain = check_nothing_lost_nothing_twice(w, walkers, kChats);
  CHECK(uncertain >= 1);  // the kill did catch a reply in flight
  CHECK(second->stop() == 0);
}

TEST_CASE("Redis killed under load and started again loses no acknowledged message, and the bot "
          "goes on by itself",
          "[e2e][telegram][fault]") {
  World w;
  constexpr int kChats = 24;
  Walkers walkers(w.bot->port(), kChats, 6, 7200);
  REQUIRE(walkers.wait_for_a_third());
  w.redis_server.kill();  // a crash: only what the AOF holds comes back
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the walkers meet 503s
  CHECK(get(w.bot->port(), "/healthz").status == 503);
  w.redis_server.start();
  REQUIRE(walkers.finish());

  REQUIRE(outbox_drained(*w.redis));
  check_nothing_lost_nothing_twice(w, walkers, kChats);
  CHECK(get(w.bot->port(), "/healthz").status == 200);
  CHECK(w.bot->stop() == 0);
}

TEST_CASE("a rolling restart under load (SIGTERM, a second process already serving) loses "
          "nothing, and every reply is sent exactly once",
          "[e2e][telegram][fault]") {
  World w;
  // Slow answers, so that the first process is stopped with replies in flight: a clean
  // shutdown waits for them and finishes their entries, leaving nothing uncertain behind.
  w.fake.set_delay(std::chrono::milliseconds(300));
  constexpr int kChats = 24;
  Walkers walkers(w.bot->port(), kChats, 6, 7300);
  REQUIRE(walkers.wait_for_a_third());
  auto second = w.another_process();
  walkers.set_port(second->port());
  REQUIRE(w.fake.wait_for_requests(w.fake.request_count() + 1, std::chrono::seconds(10)));
  CHECK(w.bot->stop() == 0);  // SIGTERM while a reply of its is in flight
  REQUIRE(walkers.finish());

  REQUIRE(outbox_drained(*w.redis));
  CHECK(check_nothing_lost_nothing_twice(w, walkers, kChats) == 0);
  CHECK(redis_count(*w.redis, {"XLEN", keys::dead_letters()}) == 0);
  CHECK(second->stop() == 0);
}
