// The outbox against a real redis-server and a fake Telegram API on loopback: delivery, retries
// with backoff and Retry-After on a controllable clock, dead letters, and crash take-over
// without double sends.
#include "bot/outbox.h"

#include <catch2/catch.hpp>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "bot/keys.h"
#include "bot/metrics.h"
#include "bot/pipeline.h"  // system_now_ms
#include "tests/integration/fixture.h"
#include "tests/support/fake_platform.h"

using namespace nivaran;
using nivaran::testing::FakePlatform;
using nivaran::testing::RedisFixture;
using nlohmann::json;

namespace {

struct OutboxHarness {
  OutboxHarness(int max_attempts = 8, std::map<std::string, int64_t> rates = {},
                int batch_size = OutboxOptions{}.batch_size) {
    fake.start();
    auto handler = make_handler("telegram", json{{"token", "T"},
                                                 {"secret_token", ""},
                                                 {"api_base", fake.base_url()}});
    REQUIRE(handler.ok());
    transport = make_http_transport(std::chrono::milliseconds(3000));
    OutboxOptions o;
    o.max_attempts = max_attempts;
    o.batch_size = batch_size;
    o.reclaim_idle_ms = 0;  // take over anything pending on another consumer at once
    o.block_ms = 10;
    o.sends_per_second = std::move(rates);
    sender = std::make_unique<OutboxSender>(*f.redis,
                                            std::map<std::string, std::shared_ptr<Handler>>{
                                                {"telegram", handler.value()}},
                                            *transport, o, [this] { return now; });
    REQUIRE(sender->ensure_group().is_ok());
  }

  // Queues an entry exactly as the pipeline does.
  std::string enqueue(const std::string& chat, std::vector<std::string> texts,
                      const std::string& callback = "") {
    json replies = json::array();
    for (auto& t : texts) replies.push_back({{"text", t}});
    json entry = {{"platform", "telegram"}, {"chat_id", chat}, {"callback_id", callback},
                  {"replies", replies},     {"attempt", 0}};
    return f.run({"XADD", keys::outbox(), "*", "m", entry.dump()}).str;
  }

  int turn() {
    auto n = sender->run_once("live", 10);
    REQUIRE(n.ok());
    return n.value();
  }

  // The texts the fake platform received for `chat`, in the order they arrived.
  std::vector<std::string> texts_to(int64_t chat) {
    std::vector<std::string> out;
    for (const auto& r : fake.requests()) {
      json body = json::parse(r.body);
      if (body["chat_id"] == chat) out.push_back(body["text"]);
    }
    return out;
  }

  std::vector<json> dead_letters() {
    std::vector<json> out;
    for (const auto& e : f.run({"XRANGE", keys::dead_letters(), "-", "+"}).elements) {
      out.push_back(json::parse(e.elements[1].elements[1].str));
    }
    return out;
  }

  RedisFixture f;
  FakePlatform fake;
  std::unique_ptr<ApiTransport> transport;
  std::unique_ptr<OutboxSender> sender;
  int64_t now = 1795000000000;
};

}  // namespace

TEST_CASE("a queued reply is sent to the platform and leaves the outbox", "[outbox][redis]") {
  OutboxHarness h;
  h.enqueue("555", {"नमस्ते! आपकी शिकायत दर्ज हो गई है।"});
  CHECK(h.turn() == 1);
  auto reqs = h.fake.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].path == "/botT/sendMessage");
  json body = json::parse(reqs[0].body);
  CHECK(body["chat_id"] == 555);
  CHECK(body["text"] == "नमस्ते! आपकी शिकायत दर्ज हो गई है।");
  CHECK(h.f.run({"XLEN", keys::outbox()}).integer == 0);
  CHECK(h.f.run({"XPENDING", keys::outbox(), keys::kOutboxGroup}).elements[0].integer == 0);
  CHECK(h.f.run({"HLEN", keys::outbox_progress()}).integer == 0);
}

TEST_CASE("a worker takes at most a batch of entries at a time, and the rest on its next turn",
          "[outbox][redis]") {
  OutboxHarness h(8, {}, /*batch_size=*/3);
  for (int i = 0; i < 5; ++i) h.enqueue(std::to_string(600 + i), {"उत्तर " + std::to_string(i)});
  CHECK(h.turn() == 3);
  CHECK(h.fake.requests().size() == 3);
  CHECK(h.f.run({"XLEN", keys::outbox()}).integer == 2);
  CHECK(h.turn() == 2);
  CHECK(h.fake.requests().size() == 5);
  CHECK(h.turn() == 0);
  for (int i = 0; i < 5; ++i) {
    CHECK(h.texts_to(600 + i) == std::vector<std::string>{"उत्तर " + std::to_string(i)});
  }
}

TEST_CASE("the outbox lag at /metrics is the age of the oldest new reply at the last read",
          "[outbox][redis]") {
  OutboxHarness h;
  // Queued five seconds before the worker's clock: a stream id is "<ms>-<seq>".
  json entry = {{"platform", "telegram"}, {"chat_id", "610"}, {"callback_id", ""},
                {"replies", json::array({{{"text", "देर से भेजा गया उत्तर"}}})}, {"attempt", 0}};
  h.f.run({"XADD", keys::outbox(), std::to_string(h.now - 5000) + "-0", "m", entry.dump()});
  h.enqueue("611", {"अभी का उत्तर"});
  CHECK(h.turn() == 2);
  CHECK(metrics::counters().outbox_lag_ms == 5000);
  CHECK(metrics::render_prometheus().find("\nnivaran_outbox_lag_seconds 5.000\n") !=
        std::string::npos);
  CHECK(h.turn() == 0);  // nothing new: no lag
  CHECK(metrics::counters().outbox_lag_ms == 0);
}

TEST_CASE("a button press is acknowledged before the reply is sent", "[outbox][redis]") {
  OutboxHarness h;
  h.enqueue("556", {"ज़िला चुनें"}, "cbq-77");
  h.turn();
  auto reqs = h.fake.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].path == "/botT/answerCallbackQuery");
  CHECK(json::parse(reqs[0].body)["callback_query_id"] == "cbq-77");
  CHECK(reqs[1].path == "/botT/sendMessage");
}

TEST_CASE("entries of the wrong shape become dead letters, and the replies queued after them "
          "are sent",
          "[outbox][redis]") {
  // Written by another version of the program during an upgrade, or by hand: once, fields of
  // the wrong type threw inside a worker and took the whole process down, again after every
  // restart, since the entry stayed pending.
  OutboxHarness h;
  const std::vector<std::string> bad = {
      "not json",
      R"({"platform":"telegram","chat_id":12345,"replies":[{"text":"a number for a chat"}]})",
      R"({"platform":"telegram","chat_id":null,"replies":[{"text":"no chat"}]})",
      R"({"platform":"telegram","chat_id":"1","replies":["a string for a reply"]})",
      R"({"platform":"telegram","chat_id":"1","replies":[{"text":"x","options":[7]}]})",
      R"({"platform":"telegram","chat_id":"1","attempt":"1","replies":[{"text":"x"}]})",
      R"({"platform":"telegram","chat_id":"1","outside_window":1,"replies":[{"text":"x"}]})",
      R"({"platform":"telegram","chat_id":"1","held_since":"soon","replies":[{"text":"x"}]})",
      R"({"platform":"telegram","chat_id":"1","replies":{"text":"not a list"}})",
  };
  for (const auto& payload : bad) h.f.run({"XADD", keys::outbox(), "*", "m", payload});
  h.enqueue("557", {"यह उत्तर जाना चाहिए"});
  CHECK(h.turn() == static_cast<int>(bad.size()) + 1);
  auto reqs = h.fake.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(json::parse(reqs[0].body)["text"] == "यह उत्तर जाना चाहिए");
  auto dead = h.dead_letters();
  REQUIRE(dead.size() == bad.size());
  for (size_t i = 0; i < bad.size(); ++i) {
    CHECK(dead[i]["reason"] == "malformed outbox entry");
    CHECK(dead[i]["reply"] == bad[i]);  // the payload as it was, for staff to see
  }
  CHECK(h.f.run({"XLEN", keys::outbox()}).integer == 0);
}

TEST_CASE("a dead letter Redis refuses to record leaves its entry pending, not dropped",
          "[outbox][redis]") {
  OutboxHarness h;
  h.f.run({"SET", keys::dead_letters(), "in the way"});  // XADD to it fails: WRONGTYPE
  h.f.run({"XADD", keys::outbox(), "*", "m", "not json"});
  auto n = h.sender->run_once("live", 10);
  REQUIRE_FALSE(n.ok());
  CHECK(n.status().message().find("WRONGTYPE") != std::string::npos);
  CHECK(h.f.run({"XPENDING", keys::outbox(), keys::kOutboxGroup}).elements[0].integer == 1);

  h.f.run({"DEL", keys::dead_letters()});
  CHECK(h.turn() == 1);  // taken over (reclaim_idle_ms is 0 here) and recorded this time
  REQUIRE(h.dead_letters().size() == 1);
  CHECK(h.dead_letters()[0]["reason"] == "malformed outbox entry");
  CHECK(h.f.run({"XPENDING", keys::outbox(), keys::kOutboxGroup}).elements[0].integer == 0);
}

TEST_CASE("a long reply whose second part failed is retried from that part, not from the first",
          "[outbox][redis]") {
  OutboxHarness h;
  std::string long_text;
  for (int i = 0; i < 800; ++i) long_text += "शिकायत ";  // 5,600 UTF-16 units: two messages
  h.fake.program("sendMessage", 200, R"({"ok":true,"result":{"message_id":1}})");
  h.fake.program("sendMessage", 500, R"({"ok":false,"error_code":500,"description":"oops"})");
  h.enqueue("558", {long_text}, "cbq-9");
  h.turn();  // the press acknowledged, part 1 sent, part 2 failed
  h.now += 5000;  // past the backoff
  h.turn();
  h.turn();
  std::vector<std::string> parts;
  int acks = 0;
  for (const auto& r : h.fake.requests()) {
    if (r.path.find("answerCallbackQuery") != std::string::npos) ++acks;
    if (r.path.find("sendMessage") != std::string::npos) {
      parts.push_back(json::parse(r.body)["text"]);
    }
  }
  CHECK(acks == 1);
  REQUIRE(parts.size() == 3);
  CHECK(parts[0] != parts[1]);
  CHECK(parts[2] == parts[1]);  // only the part that failed went again
  CHECK(h.dead_letters().empty());
  CHECK(h.f.run({"ZCARD", keys::outbox_delayed()}).integer == 0);
}

TEST_CASE("a batch of entries sent, retried and given up is finished whole: acknowledged, "
          "deleted and unmarked", "[outbox][redis]") {
  OutboxHarness h;
  h.fake.program("sendMessage", 429,
                 R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}})");
  h.fake.program("sendMessage", 403,
                 R"({"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"})");
  for (int chat = 600; chat < 620; ++chat) h.enqueue(std::to_string(chat), {"उत्तर"});
  CHECK(h.turn() == 20);
  CHECK(h.fake.request_count() == 20);
  // One command each acknowledged, deleted and unmarked the twenty: nothing is left behind.
  CHECK(h.f.run({"XLEN", keys::outbox()}).integer == 0);
  CHECK(h.f.run({"XPENDING", keys::outbox(), keys::kOutboxGroup}).elements[0].integer == 0);
  CHECK(h.f.run({"HLEN", keys::outbox_progress()}).integer == 0);
  CHECK(h.f.run({"ZCARD", keys::outbox_delayed()}).integer == 1);  // the 429, for later
  CHECK(h.dead_letters().size() == 1);                              // the 403
}

TEST_CASE("429 with retry_after is retried after the delay and not before", "[outbox][redis]") {
  OutboxHarness h;
  h.fake.program("sendMessage", 429,
                 R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}})");
  h.enqueue("557", {"पहला", "दूसरा"});
  h.turn();
  CHECK(h.fake.request_count() == 1);
  CHECK(h.f.run({"ZCARD", keys::outbox_delayed()}).integer == 1);

  h.now += 4000;  // still inside Retry-After
  h.turn();
  CHECK(h.fake.request_count() == 1);

  h.now += 2500;  // past 5 s plus the largest jitter (25 %)
  h.turn();
  h.turn();
  auto reqs = h.fake.requests();
  REQUIRE(reqs.size() == 3);
  CHECK(json::parse(reqs[1].body)["text"] == "पहला");
  CHECK(json::parse(reqs[2].body)["text"] == "दूसरा");
  CHECK(h.f.run({"ZCARD", keys::outbox_delayed()}).integer == 0);
  CHECK(h.dead_letters().empty());
}

TEST_CASE("server errors back off exponentially and end as a dead letter after max attempts",
          "[outbox][redis]") {
  OutboxHarness h(/*max_attempts=*/3);
  h.fake.program("sendMessage", 500, R"({"ok":false,"error_code":500})", {}, 10);
  h.enqueue("558", {"संदेश"});
  h.turn();  // attempt 1 fails: due in 1-1.25 s
  CHECK(h.fake.request_count() == 1);
  h.now += 900;
  h.turn();
  CHECK(h.fake.request_count() == 1);  // not yet
  h.now += 400;
  h.turn();
  h.turn();  // attempt 2 fails: due in 2-2.5 s
  CHECK(h.fake.request_count() == 2);
  h.now += 2600;
  h.turn();
  h.turn();  // attempt 3 fails: gives up
  CHECK(h.fake.request_count() == 3);
  auto dead = h.dead_letters();
  REQUIRE(dead.size() == 1);
  CHECK(dead[0]["reason"].get<std::string>().rfind("gave up after 3 attempts", 0) == 0);
  h.now += 600000;
  h.turn();
  CHECK(h.fake.request_count() == 3);  // never again
}

TEST_CASE("a user who blocked the bot is a dead letter at once, never retried", "[outbox][redis]") {
  OutboxHarness h;
  h.fake.program("sendMessage", 403,
                 R"({"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"})");
  h.enqueue("559", {"आपकी शिकायत पर कार्रवाई हुई"});
  h.turn();
  h.now += 3600000;
  h.turn();
  CHECK(h.fake.request_count() == 1);
  auto dead = h.dead_letters();
  REQUIRE(dead.size() == 1);
  CHECK(dead[0]["reason"].get<std::string>().find("blocked by the user") != std::string::npos);
  CHECK(dead[0]["chat_id"] == "559");
  CHECK(h.f.run({"ZCARD", keys::outbox_delayed()}).integer == 0);
  CHECK(h.f.run({"XLEN", keys::outbox()}).integer == 0);
}

TEST_CASE("a worker that crashed while sending: the reply in flight is not sent twice, the rest "
          "are delivered",
          "[outbox][redis][crash]") {
  OutboxHarness h;
  std::string id = h.enqueue("560", {"पहला संदेश", "दूसरा संदेश"});
  // A worker takes the entry, marks reply 0 as handed to the network, and dies.
  h.f.run({"XREADGROUP", "GROUP", keys::kOutboxGroup, "dead-worker", "COUNT", "1", "STREAMS",
           keys::outbox(), ">"});
  h.f.run({"HSET", keys::outbox_progress(), id, "sending:0"});

  h.turn();  // the live worker takes over the stale entry
  auto reqs = h.fake.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(json::parse(reqs[0].body)["text"] == "दूसरा संदेश");
  auto dead = h.dead_letters();
  REQUIRE(dead.size() == 1);
  CHECK(dead[0]["reply"]["text"] == "पहला संदेश");
  CHECK(dead[0]["reason"].get<std::string>().rfind("delivery uncertain", 0) == 0);
  CHECK(h.f.run({"XPENDING", keys::outbox(), keys::kOutboxGroup}).elements[0].integer == 0);
}

TEST_CASE("a worker that crashed before sending: another worker delivers everything",
          "[outbox][redis][crash]") {
  OutboxHarness h;
  h.enqueue("561", {"एक", "दो"});
  h.f.run({"XREADGROUP", "GROUP", keys::kOutboxGroup, "dead-worker", "COUNT", "1", "STREAMS",
           keys::outbox(), ">"});
  h.turn();
  auto reqs = h.fake.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(json::parse(reqs[0].body)["text"] == "एक");
  CHECK(json::parse(reqs[1].body)["text"] == "दो");
  CHECK(h.dead_letters().empty());
}

TEST_CASE("one conversation's replies keep their order while conversations are sent together",
          "[outbox][redis]") {
  OutboxHarness h;
  h.enqueue("570", {"पहला"});
  h.enqueue("571", {"अलग बातचीत"});
  h.enqueue("570", {"दूसरा", "तीसरा"});
  CHECK(h.turn() == 3);
  std::vector<std::string> to_570;
  for (const auto& r : h.fake.requests()) {
    json body = json::parse(r.body);
    if (body["chat_id"] == 570) to_570.push_back(body["text"]);
  }
  CHECK(to_570 == std::vector<std::string>{"पहला", "दूसरा", "तीसरा"});
  CHECK(h.fake.request_count() == 4);
  CHECK(h.f.run({"XLEN", keys::outbox()}).integer == 0);
}

TEST_CASE("replies over a platform's send rate wait for the next second, keeping each chat's order",
          "[outbox][redis][rate]") {
  OutboxHarness h(8, {{"telegram", 2}});
  h.now = 1795000000000;  // the start of a second
  h.enqueue("601", {"एक"});
  h.enqueue("602", {"दो"});
  h.enqueue("603", {"तीन"});
  h.enqueue("601", {"चार"});
  h.turn();
  CHECK(h.fake.request_count() == 2);  // two replies this second; 603 and 601's second wait
  CHECK(h.f.run({"ZCARD", keys::outbox_delayed()}).integer == 2);
  CHECK(h.turn() == 0);  // not due yet
  CHECK(h.fake.request_count() == 2);

  h.now += 1300;  // the next second (plus the spread)
  h.turn();
  h.turn();
  CHECK(h.fake.request_count() == 4);
  CHECK(h.texts_to(601) == std::vector<std::string>{"एक", "चार"});
  // Waiting for the rate is not a failed attempt.
  CHECK(h.dead_letters().empty());
  CHECK(h.f.run({"XLEN", keys::outbox()}).integer == 0);
  CHECK(h.f.run({"ZCARD", keys::outbox_delayed()}).integer == 0);
}

TEST_CASE("a reply queued after one held back for the send rate waits behind it, even when "
          "read first",
          "[outbox][redis][rate]") {
  OutboxHarness h(8, {{"telegram", 1}});
  h.now = 1795000000000;  // the start of a second
  h.enqueue("700", {"another chat"});
  h.enqueue("701", {"पहला"});
  h.turn();  // one reply this second: 701's waits for the next
  CHECK(h.fake.request_count() == 1);
  // The citizen writes again; the answer is queued before the held reply comes back, so it is
  // read first, in the same batch.
  h.enqueue("701", {"दूसरा"});
  h.now += 1300;
  for (int i = 0; i < 4 && h.fake.request_count() < 3; ++i) {
    h.turn();
    h.now += 1100;
  }
  CHECK(h.texts_to(701) == std::vector<std::string>{"पहला", "दूसरा"});
  CHECK(h.dead_letters().empty());
  CHECK(h.f.run({"XLEN", keys::outbox()}).integer == 0);
  CHECK(h.f.run({"ZCARD", keys::outbox_delayed()}).integer == 0);
}

namespace {

// A Telegram handler for a fake transport: its api_base is never dialled.
std::shared_ptr<Handler> telegram_handler(const std::string& api_base = "http://127.0.0.1:9") {
  auto handler =
      make_handler("telegram", json{{"token", "T"}, {"secret_token", ""}, {"api_base", api_base}});
  REQUIRE(handler.ok());
  return handler.value();
}

// A platform that answers each call after a pause of `min_us`..`max_us` (random), recording
// the calls in the order they arrived, as a real API does when two workers send to it at once.
struct SlowTransport : ApiTransport {
  SlowTransport(int min_us, int max_us) : min_us(min_us), max_us(max_us) {}
  ApiResponse send(const ApiCall& call) override {
    thread_local std::mt19937 rng{std::random_device{}()};
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution<int>(min_us, max_us)(rng)));
    std::lock_guard lock(mu);
    arrived.push_back(json::parse(call.body));
    return ApiResponse{200, R"({"ok":true,"result":{"message_id":1}})", {}};
  }
  std::vector<std::string> texts() {
    std::lock_guard lock(mu);
    std::vector<std::string> out;
    for (const auto& body : arrived) out.push_back(body["text"]);
    return out;
  }
  const int min_us, max_us;
  std::mutex mu;
  std::vector<json> arrived;
};

}  // namespace

TEST_CASE("with several workers, each conversation's replies still arrive in the order they were "
          "committed",
          "[outbox][redis][concurrency]") {
  RedisFixture f;
  SlowTransport transport(0, 4000);
  auto handler = telegram_handler();
  OutboxOptions o;
  o.block_ms = 10;
  OutboxSender sender(*f.redis, {{"telegram", handler}}, transport, o,
                      [] { return int64_t{1795000000000}; });
  REQUIRE(sender.ensure_group().is_ok());
  // Three conversations, 40 replies each, interleaved, queued while the workers run.
  sender.start(4, "order");
  constexpr int kEach = 40;
  for (int i = 0; i < kEach; ++i) {
    for (const std::string chat : {"801", "802", "803"}) {
      json entry = {{"platform", "telegram"}, {"chat_id", chat}, {"callback_id", ""},
                    {"replies", {{{"text", std::to_string(i)}}}}, {"attempt", 0}};
      f.run({"XADD", keys::outbox(), "*", "m", entry.dump()});
    }
    if (i % 8 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }
  for (int i = 0; i < 500; ++i) {
    {
      std::lock_guard lock(transport.mu);
      if (transport.arrived.size() >= 3 * kEach) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  sender.stop();
  std::map<long long, std::vector<int>> by_chat;
  for (const auto& body : transport.arrived) {
    by_chat[body["chat_id"].get<long long>()].push_back(std::stoi(body["text"].get<std::string>()));
  }
  REQUIRE(by_chat.size() == 3);
  std::vector<int> in_order(kEach);
  for (int i = 0; i < kEach; ++i) in_order[i] = i;
  for (const auto& [chat, texts] : by_chat) {
    INFO("chat " << chat);
    CHECK(texts == in_order);
  }
}

namespace {

// Telegram answers; Messenger does not answer at all while `down` (what ApiTransport reports for
// a timeout or a refused connection: status 0), and answers once it is back.
struct HalfDownTransport : ApiTransport {
  ApiResponse send(const ApiCall& call) override {
    std::lock_guard lock(mu);
    const bool messenger = call.url.find("down.test") != std::string::npos;
    if (messenger && down) {
      ++unanswered;
      return ApiResponse{0, "timed out", {}};
    }
    json body = json::parse(call.body);
    if (messenger) {
      messenger_texts.push_back(body["message"]["text"]);
      return ApiResponse{200, R"({"recipient_id":"1","message_id":"m.1"})", {}};
    }
    telegram_texts.push_back(body["text"]);
    return ApiResponse{200, R"({"ok":true,"result":{"message_id":1}})", {}};
  }
  std::mutex mu;
  bool down = true;
  int unanswered = 0;
  std::vector<std::string> telegram_texts, messenger_texts;
};

// A Messenger handler whose calls go to HalfDownTransport's Messenger.
Result<std::shared_ptr<Handler>> down_messenger() {
  return make_handler("messenger", json{{"verify_token", "v"},
                                        {"app_secret", "s"},
                                        {"page_access_token", "t"},
                                        {"api_base", "http://down.test"}});
}

// Queues a one-reply entry to `chat` on `platform`, as the pipeline does.
void enqueue_text(RedisFixture& f, const std::string& platform, const std::string& chat,
                  const std::string& text) {
  json entry = {{"platform", platform}, {"chat_id", chat},  {"callback_id", ""},
                {"replies", {{{"text", text}}}}, {"attempt", 0}};
  f.run({"XADD", keys::outbox(), "*", "m", entry.dump()});
}

}  // namespace

TEST_CASE("entries waiting in a long batch are not taken over by another process and sent twice",
          "[outbox][redis][concurrency]") {
  // Six replies to one conversation take six rounds of a slow platform, 600 ms, longer than
  // reclaim_idle_ms: meanwhile another process's worker looks for stale entries to take over.
  RedisFixture f;
  SlowTransport transport(100000, 100000);  // 100 ms a call
  auto handler = telegram_handler();
  OutboxOptions o;
  o.block_ms = 10;
  o.reclaim_idle_ms = 400;
  OutboxSender first(*f.redis, {{"telegram", handler}}, transport, o, system_now_ms);
  Redis other_redis(f.redis->endpoint());
  OutboxSender second(other_redis, {{"telegram", handler}}, transport, o, system_now_ms);
  REQUIRE(first.ensure_group().is_ok());
  for (int i = 0; i < 6; ++i) enqueue_text(f, "telegram", "901", std::to_string(i));

  std::thread busy([&first] { CHECK(first.run_once("p1", 10).ok()); });
  // The other process starts looking once the first holds all six.
  for (int i = 0; i < 200; ++i) {
    if (f.run({"XPENDING", keys::outbox(), keys::kOutboxGroup}).elements[0].integer == 6) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1200);
  int taken_over = 0;
  while (std::chrono::steady_clock::now() < until) {
    auto n = second.run_once("p2", 10, true);  // takes over what looks stale, reads anew
    REQUIRE(n.ok());
    taken_over += n.value();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  busy.join();
  CHECK(taken_over == 0);
  CHECK(transport.texts() == std::vector<std::string>{"0", "1", "2", "3", "4", "5"});
  CHECK(f.run({"XRANGE", keys::dead_letters(), "-", "+"}).elements.empty());
  CHECK(f.run({"XLEN", keys::outbox()}).integer == 0);
}

TEST_CASE("a platform that does not answer is paused, and the other platforms' replies go on",
          "[outbox][redis][pause]") {
  RedisFixture f;
  HalfDownTransport transport;
  auto telegram = telegram_handler("http://tg.test");
  auto messenger = down_messenger();
  REQUIRE(messenger.ok());
  OutboxOptions o;
  o.block_ms = 10;
  o.pause_unreachable_ms = 30000;
  int64_t now = 1795000000000;
  const int64_t start = now;
  OutboxSender sender(*f.redis,
                      {{"telegram", telegram}, {"messenger", messenger.value()}},
                      transport, o, [&now] { return now; });
  REQUIRE(sender.ensure_group().is_ok());
  auto enqueue = [&f](const std::string& platform, const std::string& chat,
                      const std::string& text) { enqueue_text(f, platform, chat, text); };
  auto turn = [&sender] {
    auto n = sender.run_once("w", 10);
    REQUIRE(n.ok());
  };
  auto delayed = [&f] {
    std::vector<json> out;
    for (const auto& e : f.run({"ZRANGE", keys::outbox_delayed(), "0", "-1"}).elements) {
      out.push_back(json::parse(e.str));
    }
    return out;
  };

  // Messenger times out once: that reply is retried as any failed one, and Messenger is paused.
  enqueue("messenger", "m1", "पहला");
  enqueue("telegram", "t1", "एक");
  turn();
  CHECK(transport.unanswered == 1);
  CHECK(transport.telegram_texts == std::vector<std::string>{"एक"});
  REQUIRE(delayed().size() == 1);
  CHECK(delayed()[0]["attempt"] == 1);

  // While paused, Messenger's replies are held back without a call; Telegram's still go out.
  enqueue("messenger", "m2", "दूसरा");
  enqueue("telegram", "t2", "दो");
  enqueue("messenger", "m2", "तीसरा");
  turn();
  CHECK(transport.unanswered == 1);
  CHECK(transport.telegram_texts == std::vector<std::string>{"एक", "दो"});
  std::multiset<std::string> held;  // chat and attempt: holding is not a failed attempt
  for (const auto& entry : delayed()) {
    held.insert(entry["chat_id"].get<std::string>() + "/" + std::to_string(entry["attempt"].get<int>()));
  }
  CHECK(held == std::multiset<std::string>{"m1/1", "m2/0", "m2/0"});
  CHECK(f.run({"XLEN", keys::outbox()}).integer == 0);

  // The first reply's retry falls due within the pause: it is held again, still no call.
  now += 1500;
  turn();
  CHECK(transport.unanswered == 1);
  CHECK(delayed().size() == 3);

  // The pause ends and Messenger is back: one probe goes first, then the rest, in order.
  {
    std::lock_guard lock(transport.mu);
    transport.down = false;
  }
  now = start + 30000 + 500;
  for (int i = 0; i < 6 && !delayed().empty(); ++i) {
    turn();
    now += 1100;
  }
  turn();
  CHECK(delayed().empty());
  CHECK(transport.unanswered == 1);
  REQUIRE(transport.messenger_texts.size() == 3);
  std::vector<std::string> to_m2;
  for (const auto& t : transport.messenger_texts) {
    if (t != "पहला") to_m2.push_back(t);
  }
  CHECK(to_m2 == std::vector<std::string>{"दूसरा", "तीसरा"});
  CHECK(f.run({"XRANGE", keys::dead_letters(), "-", "+"}).elements.empty());
  CHECK(f.run({"XLEN", keys::outbox()}).integer == 0);
}

TEST_CASE("a probe that is not answered pauses the platform again", "[outbox][redis][pause]") {
  RedisFixture f;
  HalfDownTransport transport;
  auto messenger = down_messenger();
  REQUIRE(messenger.ok());
  OutboxOptions o;
  o.block_ms = 10;
  o.pause_unreachable_ms = 30000;
  int64_t now = 1795000000000;
  OutboxSender sender(*f.redis, {{"messenger", messenger.value()}}, transport, o,
                      [&now] { return now; });
  REQUIRE(sender.ensure_group().is_ok());
  for (const std::string chat : {"a", "b", "c"}) enqueue_text(f, "messenger", chat, chat);
  // One round sends all three at once (different conversations): three unanswered calls.
  REQUIRE(sender.run_once("w", 10).ok());
  CHECK(transport.unanswered == 3);
  // After the pause, a single probe goes out; unanswered, it starts another pause.
  now += 30000 + 2000;
  REQUIRE(sender.run_once("w", 10).ok());
  CHECK(transport.unanswered == 4);
  now += 5000;
  REQUIRE(sender.run_once("w", 10).ok());
  CHECK(transport.unanswered == 4);
  // Setting pause_unreachable_ms to 0 turns pausing off: every due reply is tried.
  OutboxOptions never = o;
  never.pause_unreachable_ms = 0;
  OutboxSender eager(*f.redis, {{"messenger", messenger.value()}}, transport, never,
                     [&now] { return now; });
  now += 400000;  // every retry is due
  REQUIRE(eager.run_once("w2", 10).ok());
  CHECK(transport.unanswered == 7);
}

TEST_CASE("a probe held back by the send rate does not leave the platform paused for another "
          "pause",
          "[outbox][redis][pause]") {
  RedisFixture f;
  HalfDownTransport transport;
  auto messenger = down_messenger();
  REQUIRE(messenger.ok());
  OutboxOptions o;
  o.block_ms = 10;
  o.pause_unreachable_ms = 30000;
  o.sends_per_second = {{"messenger", 1}};
  const int64_t start = 1795000000000;
  int64_t now = start;
  OutboxSender sender(*f.redis, {{"messenger", messenger.value()}}, transport, o,
                      [&now] { return now; });
  REQUIRE(sender.ensure_group().is_ok());
  enqueue_text(f, "messenger", "a", "पहला");
  REQUIRE(sender.run_once("w", 10).ok());  // no answer: Messenger is paused
  CHECK(transport.unanswered == 1);
  {
    std::lock_guard lock(transport.mu);
    transport.down = false;
  }
  // The pause is over, but this second's sends are used up elsewhere: the reply that would
  // probe is held for the next second. It must still probe then, not wait out another pause.
  now = start + 30000 + 500;
  f.run({"SET", keys::rate_window("send:messenger", now / 1000), "5"});
  enqueue_text(f, "messenger", "b", "दूसरा");
  REQUIRE(sender.run_once("w", 10).ok());
  CHECK(transport.messenger_texts.empty());
  for (int i = 0; i < 4 && transport.messenger_texts.size() < 2; ++i) {
    now += 1100;
    REQUIRE(sender.run_once("w", 10).ok());
  }
  CHECK(now < start + 30000 + 500 + 5000);
  CHECK(transport.messenger_texts.size() == 2);
}

TEST_CASE("replies held longer than their retries could have taken become dead letters",
          "[outbox][redis][pause]") {
  RedisFixture f;
  HalfDownTransport transport;
  auto messenger = down_messenger();
  REQUIRE(messenger.ok());
  OutboxOptions o;
  o.block_ms = 10;
  o.pause_unreachable_ms = 30000;
  o.max_attempts = 2;
  o.max_backoff_ms = 1000;  // held for 2 × 1 s at most
  const int64_t start = 1795000000000;
  int64_t now = start;
  OutboxSender sender(*f.redis, {{"messenger", messenger.value()}}, transport, o,
                      [&now] { return now; });
  REQUIRE(sender.ensure_group().is_ok());
  auto enqueue = [&f](const std::string& chat) { enqueue_text(f, "messenger", chat, "to " + chat); };
  enqueue("a");
  REQUIRE(sender.run_once("w", 10).ok());  // no answer: a is retried, messenger paused
  CHECK(transport.unanswered == 1);
  enqueue("b");
  enqueue("c");
  REQUIRE(sender.run_once("w", 10).ok());  // b and c held from `start`
  now = start + 1500;
  REQUIRE(sender.run_once("w", 10).ok());  // a's retry falls due and is held from now
  CHECK(transport.unanswered == 1);

  // The pause ends: b goes out as the probe; c and a have waited over 2 s and are given up.
  now = start + 31000;
  REQUIRE(sender.run_once("w", 10).ok());
  CHECK(transport.unanswered == 2);
  std::vector<std::string> given_up;
  for (const auto& e : f.run({"XRANGE", keys::dead_letters(), "-", "+"}).elements) {
    json d = json::parse(e.elements[1].elements[1].str);
    CHECK_THAT(d["reason"].get<std::string>(), Catch::StartsWith("messenger did not answer for"));
    given_up.push_back(d["chat_id"]);
  }
  std::sort(given_up.begin(), given_up.end());
  CHECK(given_up == std::vector<std::string>{"a", "c"});
  auto left = f.run({"ZRANGE", keys::outbox_delayed(), "0", "-1"}).elements;
  REQUIRE(left.size() == 1);
  json b = json::parse(left[0].str);
  CHECK(b["chat_id"] == "b");
  CHECK(b["attempt"] == 1);
  CHECK_FALSE(b.contains("held_since"));  // it was tried: a later pause counts afresh
}
