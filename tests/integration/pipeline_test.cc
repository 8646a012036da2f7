// The inbound pipeline against a real redis-server: one atomic commit per message, dedupe,
// per-conversation ordering under concurrency, and recovery after Redis restarts.
#include "bot/pipeline.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "bot/keys.h"
#include "bot/metrics.h"
#include "tests/integration/fixture.h"

namespace nivaran::testing {

const dialogs::Flow& repo_flow() {
  static const dialogs::Flow flow =
      dialogs::load_flow(std::string(NIVARAN_SOURCE_DIR) + "/dialogs/flows/grievance.json").value();
  return flow;
}

const dialogs::ReferenceData& repo_reference() {
  static const dialogs::ReferenceData ref =
      dialogs::load_reference_data(std::string(NIVARAN_SOURCE_DIR) + "/config/districts.json",
                                   std::string(NIVARAN_SOURCE_DIR) + "/config/categories.json")
          .value();
  return ref;
}

RedisValue RedisFixture::run(const std::vector<std::string>& args) {
  auto r = redis->command(args);
  REQUIRE(r.ok());
  return r.value();
}

}  // namespace nivaran::testing

using namespace nivaran;
using nivaran::testing::RedisFixture;
using nlohmann::json;

namespace {

// The answers of a complete grievance, in the order the flow asks.
const std::vector<std::string> kConversation = {
    "नमस्ते",
    "1",                                              // category: चोरी / लूट
    "बरेली",                                          // district
    "पता नहीं",                                       // police station
    "पुराना शहर, किला पुल के पास",                    // place
    "कल रात 11 बजे",                                  // time
    "कल रात मेरी मोटरसाइकिल घर के बाहर से चोरी हो गई",  // description
    "राम कुमार",                                      // name
    "98765 43210",                                    // mobile
    "हाँ",                                            // consent to be contacted
    "हाँ",                                            // confirm the summary
};

// One `nivaran serve` process: its own pipeline and, when `cached`, its own session cache (as
// the service runs), else a read of Redis for every message.
struct Harness {
  explicit Harness(Redis& redis, int64_t* clock, bool cached = false, StoreLimits limits = {})
      : store(redis, limits),
        cache(cached ? 1000 : 0),
        pipeline(store, nivaran::testing::repo_flow(), nivaran::testing::repo_reference(),
                 options(), [clock] { return *clock; }, dialogs::step, cached ? &cache : nullptr) {}

  static PipelineOptions options() {
    PipelineOptions o;
    for (const auto& d : nivaran::testing::repo_reference().districts) {
      o.ticket_prefixes[d.code] = d.ticket_prefix;
    }
    return o;
  }

  Result<Processed> say(const std::string& user, const std::string& text, const std::string& id) {
    InboundMessage m;
    m.platform = "telegram";
    m.user_id = user;
    m.chat_id = user;
    m.message_id = id;
    m.text = text;
    return pipeline.process(m);
  }

  ConversationStore store;
  SessionCache cache;
  Pipeline pipeline;
};

// Every key, member, field and value in Redis, as one text.
std::string everything_in(RedisFixture& f) {
  std::string all;
  auto add = [&all](const RedisValue& v, auto& self) -> void {
    all += v.str + "\n";
    for (const auto& e : v.elements) self(e, self);
  };
  for (const auto& key : f.run({"KEYS", "*"}).elements) {
    const std::string type = f.run({"TYPE", key.str}).str;
    all += key.str + "\n";
    if (type == "string") add(f.run({"GET", key.str}), add);
    if (type == "hash") add(f.run({"HGETALL", key.str}), add);
    if (type == "zset") add(f.run({"ZRANGE", key.str, "0", "-1"}), add);
    if (type == "stream") add(f.run({"XRANGE", key.str, "-", "+"}), add);
    if (type == "set") add(f.run({"SMEMBERS", key.str}), add);
    if (type == "list") add(f.run({"LRANGE", key.str, "0", "-1"}), add);
  }
  return all;
}

// Two `nivaran serve` processes, each with its own Redis client and session cache, on one Redis.
struct TwoProcesses {
  RedisFixture f;
  Redis second{f.redis->endpoint()};
  int64_t now = 1795000000000;
  Harness a{*f.redis, &now, true};
  Harness b{second, &now, true};
};

int64_t session_version(RedisFixture& f, const std::string& user) {
  auto v = f.run({"HGET", keys::session("telegram", user), "v"});
  return v.is_nil() ? 0 : std::stoll(v.str);
}

}  // namespace

TEST_CASE("a complete Hindi conversation files a ticket with its transcript and session",
          "[pipeline][redis]") {
  RedisFixture f;
  int64_t now = 1795000000000;  // 2026-11-18
  const bool cached = GENERATE(false, true);
  INFO("session cache: " << (cached ? "on" : "off"));
  Harness h(*f.redis, &now, cached);
  std::string ref;
  std::string last_reply;
  for (size_t i = 0; i < kConversation.size(); ++i) {
    auto r = h.say("1001", kConversation[i], "u" + std::to_string(i));
    REQUIRE(r.ok());
    REQUIRE_FALSE(r->duplicate);
    REQUIRE_FALSE(r->replies.empty());
    if (!r->ticket_ref.empty()) ref = r->ticket_ref;
    last_reply = r->replies.back().text;
    now += 1000;
  }
  INFO("last reply: " << last_reply);
  REQUIRE(std::regex_match(ref, std::regex("BLY-26-\\d{6}")));
  bool ref_told = false;
  for (const auto& text : {last_reply}) ref_told |= text.find(ref) != std::string::npos;
  CHECK(ref_told);

  auto fields = f.run({"HGETALL", keys::ticket(ref)});
  std::map<std::string, std::string> t;
  for (size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
    t[fields.elements[i].str] = fields.elements[i + 1].str;
  }
  CHECK(t["id"] == ref);
  CHECK(t["district"] == "bareilly");
  CHECK(t["category"] == "theft");
  CHECK(t["mobile"] == "9876543210");
  CHECK(t["status"] == "new");
  CHECK(t["platform"] == "telegram");
  CHECK(t["description"].find("मोटरसाइकिल") != std::string::npos);

  // Indexed for the queues, transcript kept for ever, session and dedupe keys expiring.
  CHECK(f.run({"ZSCORE", keys::district_tickets("bareilly"), ref}).str == t["created_at"]);
  CHECK(f.run({"ZSCORE", keys::all_tickets(), ref}).type == RedisValue::Type::kString);
  const std::string log = keys::transcript(t["transcript"]);
  CHECK(f.run({"XLEN", log}).integer >= static_cast<long long>(2 * kConversation.size()));
  CHECK(f.run({"PTTL", log}).integer == -1);
  CHECK(f.run({"PTTL", keys::ticket(ref)}).integer == -1);
  CHECK(f.run({"PTTL", keys::session("telegram", "1001")}).integer > 0);
  CHECK(f.run({"PTTL", keys::seen("telegram", "u0")}).integer > 0);
  CHECK(session_version(f, "1001") == static_cast<int64_t>(kConversation.size()));

  // The reference was taken in the commit: no placeholder is left anywhere in Redis.
  CHECK(everything_in(f).find("{ticket:") == std::string::npos);
  CHECK(everything_in(f).find(ref) != std::string::npos);

  // Each reply went to the outbox in the same commit as its message.
  CHECK(f.run({"XLEN", keys::outbox()}).integer == static_cast<long long>(kConversation.size()));
  // ...and the outbox entry carries the very reply the transcript records.
  auto last_out = f.run({"XREVRANGE", keys::outbox(), "+", "-", "COUNT", "1"});
  json entry = json::parse(last_out.elements[0].elements[1].elements[1].str);
  auto last_log = f.run({"XREVRANGE", log, "+", "-", "COUNT", "1"});
  json said = json::parse(last_log.elements[0].elements[1].elements[1].str);
  CHECK(entry["platform"] == "telegram");
  CHECK(entry["chat_id"] == "1001");
  CHECK(entry["attempt"] == 0);
  REQUIRE(entry["replies"].size() == 1);
  CHECK(said["dir"] == "out");
  CHECK(said["by"] == "bot");
  CHECK(said["reply"] == entry["replies"][0]);
  CHECK(said["reply"]["text"].get<std::string>().find(ref) != std::string::npos);
}

TEST_CASE("a redelivered message changes nothing", "[pipeline][redis]") {
  RedisFixture f;
  int64_t now = 1795000000000;
  const bool cached = GENERATE(false, true);
  INFO("session cache: " << (cached ? "on" : "off"));
  Harness h(*f.redis, &now, cached);
  REQUIRE(h.say("2002", "नमस्ते", "m1").ok());
  REQUIRE(h.say("2002", "1", "m2").ok());
  auto outbox_before = f.run({"XLEN", keys::outbox()}).integer;

  auto again = h.say("2002", "1", "m2");
  REQUIRE(again.ok());
  CHECK(again->duplicate);
  CHECK(again->replies.empty());
  CHECK(session_version(f, "2002") == 2);
  CHECK(f.run({"XLEN", keys::outbox()}).integer == outbox_before);
}

TEST_CASE("concurrent deliveries for one citizen from two processes never lose an update",
          "[pipeline][redis][concurrency]") {
  RedisFixture f;
  // Two Redis clients and two pipelines stand for two `nivaran serve` processes.
  Redis second(f.redis->endpoint());
  int64_t now = 1795000000000;
  const bool cached = GENERATE(false, true);
  INFO("session cache: " << (cached ? "on" : "off"));
  Harness a(*f.redis, &now, cached);
  Harness b(second, &now, cached);
  constexpr int kPerThread = 40;
  std::atomic<int> failures{0};
  auto send = [&](Harness& h, const std::string& prefix) {
    for (int i = 0; i < kPerThread; ++i) {
      auto r = h.say("3003", "कुछ बताना है " + std::to_string(i), prefix + std::to_string(i));
      if (!r.ok() || r->duplicate) {
        failures++;
        UNSCOPED_INFO("message " << prefix << i << ": "
                                 << (r.ok() ? "duplicate" : r.status().message()));
      }
    }
  };
  std::thread t1(send, std::ref(a), "a");
  std::thread t2(send, std::ref(b), "b");
  std::thread t3(send, std::ref(a), "c");
  std::thread t4(send, std::ref(b), "d");
  t1.join();
  t2.join();
  t3.join();
  t4.join();
  CHECK(failures == 0);
  // Every message advanced the session exactly once and left its inbound transcript entry.
  CHECK(session_version(f, "3003") == 4 * kPerThread);
  long long inbound = 0;
  auto logs = f.run({"KEYS", "nv:log:*"});
  for (const auto& key : logs.elements) {
    auto entries = f.run({"XRANGE", key.str, "-", "+"});
    for (const auto& e : entries.elements) {
      json j = json::parse(e.elements[1].elements[1].str);
      if (j["dir"] == "in") ++inbound;
    }
  }
  CHECK(inbound == 4 * kPerThread);
}

TEST_CASE("with Redis down a message is refused as unavailable, and after a restart the "
          "conversation continues where it was",
          "[pipeline][redis][fault]") {
  RedisFixture f;
  int64_t now = 1795000000000;
  const bool cached = GENERATE(false, true);
  INFO("session cache: " << (cached ? "on" : "off"));
  Harness h(*f.redis, &now, cached);
  REQUIRE(h.say("4004", "नमस्ते", "x1").ok());
  REQUIRE(h.say("4004", "1", "x2").ok());

  f.server.stop();
  auto down = h.say("4004", "बरेली", "x3");
  REQUIRE_FALSE(down.ok());
  CHECK(down.status().code() == Status::Code::kUnavailable);

  f.server.start();  // same port and folder: the AOF brings the conversation back
  auto up = h.say("4004", "बरेली", "x3");
  REQUIRE(up.ok());
  CHECK_FALSE(up->duplicate);
  CHECK(session_version(f, "4004") == 3);
}

TEST_CASE("ticket references filed from two processes at once are unique and have no gaps",
          "[pipeline][redis][concurrency]") {
  TwoProcesses two;
  [[maybe_unused]] auto& [f, second, now, a, b] = two;
  // Public mentions: each files a docket in the triage queue (prefix BRG) at once.
  constexpr int kEach = 100;
  std::vector<std::string> r1, r2;
  auto file = [](Harness& h, const std::string& who, std::vector<std::string>& refs) {
    for (int i = 0; i < kEach; ++i) {
      InboundMessage m;
      m.platform = "x";
      m.kind = "mention";
      m.user_id = m.chat_id = who + std::to_string(i);
      m.message_id = "tweet:" + who + std::to_string(i);
      m.text = "@bareillypolice शिकायत " + std::to_string(i);
      auto r = h.pipeline.process(m);
      if (r.ok()) refs.push_back(r->ticket_ref);
    }
  };
  std::thread t1(file, std::ref(a), "a", std::ref(r1));
  std::thread t2(file, std::ref(b), "b", std::ref(r2));
  t1.join();
  t2.join();
  REQUIRE(r1.size() == kEach);
  REQUIRE(r2.size() == kEach);
  std::set<std::string> all(r1.begin(), r1.end());
  all.insert(r2.begin(), r2.end());
  CHECK(all.size() == 2 * kEach);
  // Taken inside the commit: 1 to 200, none skipped.
  CHECK(*all.begin() == "BRG-26-000001");
  CHECK(*all.rbegin() == "BRG-26-000200");
  for (const auto& ref : all) CHECK(f.run({"HGET", keys::ticket(ref), "id"}).str == ref);
  // A redelivered mention files nothing and takes no number.
  InboundMessage again;
  again.platform = "x";
  again.kind = "mention";
  again.user_id = again.chat_id = "a0";
  again.message_id = "tweet:a0";
  again.text = "@bareillypolice शिकायत 0";
  CHECK(a.pipeline.process(again)->duplicate);
  CHECK(f.run({"GET", keys::ticket_sequence("BRG", "26")}).str == "200");
}

TEST_CASE("a citizen can ask the status of their own ticket but not of someone else's",
          "[pipeline][redis][status]") {
  RedisFixture f;
  int64_t now = 1795000000000;
  Harness h(*f.redis, &now);
  std::string ref;
  for (size_t i = 0; i < kConversation.size(); ++i) {
    auto r = h.say("5005", kConversation[i], "s" + std::to_string(i));
    REQUIRE(r.ok());
    if (!r->ticket_ref.empty()) ref = r->ticket_ref;
  }
  REQUIRE_FALSE(ref.empty());

  auto own = h.say("5005", "स्थिति " + ref, "s-own");
  REQUIRE(own.ok());
  REQUIRE_FALSE(own->replies.empty());
  CHECK(own->replies.front().text.find(ref) != std::string::npos);
  CHECK(own->replies.front().text.find("दर्ज हो गई है") != std::string::npos);
  CHECK(own->replies.front().text.find("{ticket_status}") == std::string::npos);

  auto other = h.say("6006", "status " + ref, "s-other");
  REQUIRE(other.ok());
  REQUIRE_FALSE(other->replies.empty());
  CHECK(other->replies.front().text.find("नहीं मिली") != std::string::npos);
  CHECK(other->replies.front().text.find("दर्ज हो गई है") == std::string::npos);
}

TEST_CASE("a delivery receipt redelivered is recorded once", "[pipeline][redis]") {
  RedisFixture f;
  int64_t now = 1795000000000;
  Harness h(*f.redis, &now);
  InboundMessage failed;
  failed.platform = "whatsapp";
  failed.kind = "receipt";
  failed.user_id = failed.chat_id = "919876543210";
  failed.button = "wamid.OUT1";
  failed.text = "failed";
  failed.message_id = "wamid.OUT1:failed";
  InboundMessage read = failed;
  read.text = "read";
  read.message_id = "wamid.OUT2:read";
  for (int i = 0; i < 2; ++i) {  // the webhook comes again, e.g. after a 503 for another event
    auto a = h.pipeline.process(failed);
    auto b = h.pipeline.process(read);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(a->duplicate == (i == 1));
    CHECK(b->duplicate == (i == 1));
  }
  auto dead = f.run({"XRANGE", keys::dead_letters(), "-", "+"});
  REQUIRE(dead.elements.size() == 1);
  CHECK(json::parse(dead.elements[0].elements[1].elements[1].str)["sent_id"] == "wamid.OUT1");
  CHECK(f.run({"XLEN", keys::receipts()}).integer == 1);
}

TEST_CASE("a dialog step that throws is committed with an apology instead of blocking the chat",
          "[pipeline][redis][fault]") {
  RedisFixture f;
  int64_t now = 1795000000000;
  ConversationStore store(*f.redis, StoreLimits{});
  Pipeline pipeline(store, nivaran::testing::repo_flow(), nivaran::testing::repo_reference(),
                    Harness::options(), [&now] { return now; },
                    [](const dialogs::Flow&, const dialogs::ReferenceData&,
                       const dialogs::Session&, const InboundMessage&,
                       const dialogs::StepContext&) -> dialogs::StepResult {
                      throw std::runtime_error("a bug in the engine");
                    });
  InboundMessage m;
  m.platform = "telegram";
  m.user_id = m.chat_id = "7007";
  m.message_id = "poison-1";
  m.text = "नमस्ते";
  auto r = pipeline.process(m);
  REQUIRE(r.ok());  // acknowledged: the platform will not redeliver it for ever
  REQUIRE(r->replies.size() == 1);
  CHECK(r->replies[0].text.find("माफ़ कीजिए") != std::string::npos);
  CHECK(f.run({"EXISTS", keys::seen("telegram", "poison-1")}).integer == 1);
  CHECK(f.run({"XLEN", keys::outbox()}).integer == 1);
  bool error_recorded = false;
  for (const auto& key : f.run({"KEYS", "nv:log:*"}).elements) {
    for (const auto& e : f.run({"XRANGE", key.str, "-", "+"}).elements) {
      json j = json::parse(e.elements[1].elements[1].str);
      error_recorded |= j.value("error", "") == "a bug in the engine";
    }
  }
  CHECK(error_recorded);

  // The same for a citizen whose ticket was closed: the apology starts a new conversation, and
  // the closed ticket's transcript, kept for ever, is not given a draft's expiry.
  const std::string closed = "BLY-26-000042";
  f.run({"HSET", keys::ticket(closed), "status", "closed"});
  f.run({"XADD", keys::transcript("ep-closed"), "*", "e", R"({"dir":"in"})"});
  f.run({"HSET", keys::session("telegram", "7008"), "v", "3", "ot", closed, "s",
         json({{"episode", "ep-closed"}, {"open_ticket", closed}, {"node", "done"}}).dump()});
  m.user_id = m.chat_id = "7008";
  m.message_id = "poison-2";
  auto after_close = pipeline.process(m);
  REQUIRE(after_close.ok());
  CHECK(f.run({"PTTL", keys::transcript("ep-closed")}).integer == -1);
  CHECK(f.run({"XLEN", keys::transcript("ep-closed")}).integer == 1);
  json session = json::parse(f.run({"HGET", keys::session("telegram", "7008"), "s"}).str);
  CHECK(session.value("episode", "") != "ep-closed");
  CHECK(session.value("open_ticket", "") == "");
}

namespace {

std::map<std::string, std::string> ticket_of(RedisFixture& f, const std::string& ref) {
  auto fields = f.run({"HGETALL", keys::ticket(ref)});
  std::map<std::string, std::string> t;
  for (size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
    t[fields.elements[i].str] = fields.elements[i + 1].str;
  }
  return t;
}

// The citizen's messages in a transcript, in order.
std::vector<std::string> inbound_texts(RedisFixture& f, const std::string& episode) {
  std::vector<std::string> out;
  for (const auto& e : f.run({"XRANGE", keys::transcript(episode), "-", "+"}).elements) {
    json j = json::parse(e.elements[1].elements[1].str);
    if (j["dir"] == "in") out.push_back(j["msg"].value("text", ""));
  }
  return out;
}

}  // namespace

TEST_CASE("a conversation whose messages alternate between two processes, each caching "
          "sessions, files one complete ticket",
          "[pipeline][redis][cache]") {
  TwoProcesses two;
  [[maybe_unused]] auto& [f, second, now, a, b] = two;
  const uint64_t hits_before = metrics::counters().session_cache_hits;
  const uint64_t stale_before = metrics::counters().session_cache_stale;
  std::string ref;
  for (size_t i = 0; i < kConversation.size(); ++i) {
    Harness& h = i % 2 == 0 ? a : b;
    auto r = h.say("1101", kConversation[i], "alt" + std::to_string(i));
    REQUIRE(r.ok());
    REQUIRE_FALSE(r->duplicate);
    if (!r->ticket_ref.empty()) ref = r->ticket_ref;
    now += 1000;
  }
  // From the third message on, each process holds the session as it committed it two messages
  // ago: out of date every time, and every time refused by the commit and read afresh.
  CHECK(metrics::counters().session_cache_hits - hits_before >= kConversation.size() - 3);
  CHECK(metrics::counters().session_cache_stale - stale_before >= kConversation.size() - 3);

  REQUIRE_FALSE(ref.empty());
  auto t = ticket_of(f, ref);
  CHECK(t["category"] == "theft");
  CHECK(t["district"] == "bareilly");
  CHECK(t["place"] == "पुराना शहर, किला पुल के पास");
  CHECK(t["name"] == "राम कुमार");
  CHECK(t["mobile"] == "9876543210");
  CHECK(session_version(f, "1101") == static_cast<int64_t>(kConversation.size()));
  CHECK(inbound_texts(f, t["transcript"]) == kConversation);
}

TEST_CASE("with a cached session, a redelivered message changes nothing and a redelivered "
          "confirmation files no second ticket and wastes no reference",
          "[pipeline][redis][cache]") {
  RedisFixture f;
  int64_t now = 1795000000000;
  Harness h(*f.redis, &now, true);
  std::string ref;
  for (size_t i = 0; i < kConversation.size(); ++i) {
    auto r = h.say("1202", kConversation[i], "c" + std::to_string(i));
    REQUIRE(r.ok());
    if (!r->ticket_ref.empty()) ref = r->ticket_ref;
    now += 1000;
  }
  REQUIRE(ref == "BLY-26-000001");
  const auto version = session_version(f, "1202");
  const auto outbox = f.run({"XLEN", keys::outbox()}).integer;
  for (const std::string id : {"c4", "c10"}) {  // a mid-dialog answer and the confirmation
    const size_t i = std::stoul(id.substr(1));
    auto again = h.say("1202", kConversation[i], id);
    REQUIRE(again.ok());
    CHECK(again->duplicate);
    CHECK(again->ticket_ref.empty());
  }
  CHECK(session_version(f, "1202") == version);
  CHECK(f.run({"XLEN", keys::outbox()}).integer == outbox);
  CHECK(f.run({"ZCARD", keys::all_tickets()}).integer == 1);
  // The next ticket takes the next number: the redelivery took none.
  std::string next;
  for (size_t i = 0; i < kConversation.size(); ++i) {
    auto r = h.say("1203", kConversation[i], "d" + std::to_string(i));
    REQUIRE(r.ok());
    if (!r->ticket_ref.empty()) next = r->ticket_ref;
  }
  CHECK(next == "BLY-26-000002");
}

TEST_CASE("a session cached by the process but lost by Redis is started afresh",
          "[pipeline][redis][cache]") {
  RedisFixture f;
  int64_t now = 1795000000000;
  Harness h(*f.redis, &now, true);
  REQUIRE(h.say("1303", "नमस्ते", "l1").ok());
  REQUIRE(h.say("1303", "1", "l2").ok());  // the category: the cache now expects a district
  f.run({"FLUSHALL"});
  auto r = h.say("1303", "बरेली", "l3");
  REQUIRE(r.ok());
  CHECK_FALSE(r->duplicate);
  CHECK(session_version(f, "1303") == 1);
  auto session = json::parse(f.run({"HGET", keys::session("telegram", "1303"), "s"}).str);
  CHECK_FALSE(session["slots"].contains("category"));  // what Redis lost is not brought back
}

TEST_CASE("the commit refuses a draft whose open ticket changed status meanwhile, and files a "
          "ticket only once its checks pass",
          "[pipeline][redis][store]") {
  RedisFixture f;
  ConversationStore store(*f.redis, StoreLimits{});
  f.run({"HSET", keys::ticket("BLY-26-000007"), "status", "new"});
  auto draft = [](const std::string& message_id, int64_t version) {
    ConversationCommit c;
    c.platform = "telegram";
    c.user_id = "8008";
    c.message_id = message_id;
    c.expected_version = version;
    c.session_json = R"({"node":"done","open_ticket":"BLY-26-000007"})";
    c.open_ticket = "BLY-26-000007";
    c.checked_ticket = "BLY-26-000007";
    c.checked_ticket_status = "new";
    c.episode = "ep8008";
    c.transcript = {R"({"dir":"in","msg":{"text":"x"}})"};
    c.now_ms = 1795000000000;
    return c;
  };
  auto first = store.commit(draft("s1", 0));
  REQUIRE(first.ok());
  CHECK(first->outcome == ConversationStore::Outcome::kCommitted);
  CHECK(first->ticket_ref.empty());

  // Staff close the ticket between the step and the commit: refused, nothing written.
  f.run({"HSET", keys::ticket("BLY-26-000007"), "status", "closed"});
  ConversationCommit stale = draft("s2", 1);
  stale.new_ticket = new_ticket_placeholder();
  stale.new_ticket_numbering = ticket_numbering("BLY", stale.now_ms);
  stale.new_ticket_fields = {{"id", stale.new_ticket}, {"status", "new"}};
  auto refused = store.commit(stale);
  REQUIRE(refused.ok());
  CHECK(refused->outcome == ConversationStore::Outcome::kConflict);
  CHECK(f.run({"EXISTS", keys::seen("telegram", "s2")}).integer == 0);
  CHECK(f.run({"HGET", keys::session("telegram", "8008"), "v"}).str == "1");
  CHECK(f.run({"EXISTS", keys::ticket_sequence("BLY", "26")}).integer == 0);  // no number taken

  // Re-drafted on the status as it is now, the same message files its ticket: number 1.
  stale.checked_ticket_status = "closed";
  auto filed = store.commit(stale);
  REQUIRE(filed.ok());
  CHECK(filed->outcome == ConversationStore::Outcome::kCommitted);
  CHECK(filed->ticket_ref == "BLY-26-000001");
  CHECK(f.run({"HGET", keys::ticket("BLY-26-000001"), "id"}).str == "BLY-26-000001");
  CHECK(f.run({"HGET", keys::session("telegram", "8008"), "v"}).str == "2");
}

TEST_CASE("an answer to 'are you satisfied?' is refused whole when staff changed the ticket "
          "meanwhile, and a link to another ticket keeps the question open",
          "[pipeline][redis][store]") {
  RedisFixture f;
  ConversationStore store(*f.redis, StoreLimits{});
  const std::string ref = "BLY-26-000009";
  f.run({"HSET", keys::ticket(ref), "status", "reopened"});  // staff reopened it meanwhile
  f.run({"HSET", keys::session("telegram", "9009"), "v", "1", "t", "tok", "fb", ref});
  ConversationCommit c;
  c.platform = "telegram";
  c.user_id = "9009";
  c.message_id = "f1";
  c.expected_version = 1;
  c.expected_token = "tok";
  c.new_token = "tok2";
  c.session_json = R"({"node":"done"})";
  c.attach_ticket_ref = ref;
  c.episode = "ep9009";
  c.transcript = {R"({"dir":"in","msg":{"text":"हाँ"}})"};
  c.outbox_json = R"({"platform":"telegram","chat_id":"9009","replies":[{"text":"धन्यवाद"}]})";
  c.now_ms = 1795000000000;
  c.change.expect_status = "resolved";
  c.change.set = {"status", "closed", "feedback", "satisfied"};
  c.change.history = R"({"action":"feedback"})";
  auto refused = store.commit(c);
  REQUIRE(refused.ok());
  CHECK(refused->outcome == ConversationStore::Outcome::kConflict);
  // Nothing written: not the thanks, not the message as seen, not the session.
  CHECK(f.run({"XLEN", keys::outbox()}).integer == 0);
  CHECK(f.run({"EXISTS", keys::seen("telegram", "f1")}).integer == 0);
  CHECK(f.run({"HGET", keys::session("telegram", "9009"), "v"}).str == "1");
  CHECK(f.run({"HGET", keys::ticket(ref), "status"}).str == "reopened");

  // A change that expects no status (a link to a ticket filed on another platform) applies,
  // and leaves the satisfaction question of the session's own ticket open.
  c.change = TicketChange{};
  c.change.history = R"({"action":"linked"})";
  auto linked = store.commit(c);
  REQUIRE(linked.ok());
  CHECK(linked->outcome == ConversationStore::Outcome::kCommitted);
  CHECK(f.run({"HGET", keys::session("telegram", "9009"), "fb"}).str == ref);
  CHECK(f.run({"HGET", keys::ticket(ref), "citizen_messages"}).str == "1");
}

TEST_CASE("a session that expired and was created again up to the cached version is not "
          "mistaken for the cached one",
          "[pipeline][redis][cache]") {
  TwoProcesses two;
  [[maybe_unused]] auto& [f, second, now, a, b] = two;
  REQUIRE(a.say("9009", "नमस्ते", "r1").ok());
  REQUIRE(a.say("9009", "1", "r2").ok());  // process a caches version 2: category theft
  f.run({"DEL", keys::session("telegram", "9009")});  // the session expires
  REQUIRE(b.say("9009", "नमस्ते", "r3").ok());
  REQUIRE(b.say("9009", "2", "r4").ok());  // version 2 again, another category
  auto before = json::parse(f.run({"HGET", keys::session("telegram", "9009"), "s"}).str);
  REQUIRE(before["slots"].contains("category"));
  REQUIRE(a.say("9009", "बरेली", "r5").ok());
  auto after = json::parse(f.run({"HGET", keys::session("telegram", "9009"), "s"}).str);
  INFO("before: " << before.dump() << "\nafter: " << after.dump());
  CHECK(after["slots"]["category"] == before["slots"]["category"]);
  CHECK(session_version(f, "9009") == 3);
}

TEST_CASE("a complaint from outside the range is filed into the triage queue", "[pipeline][redis]") {
  // The engine gives a null district for "another district": the pipeline once threw on it, so
  // every such complaint was refused as unavailable and redelivered for ever.
  RedisFixture f;
  int64_t now = 1795000000000;
  const bool cached = GENERATE(false, true);
  INFO("session cache: " << (cached ? "on" : "off"));
  Harness h(*f.redis, &now, cached);
  std::vector<std::string> answers = kConversation;
  answers[2] = "कोई और ज़िला";                 // district: outside the range
  answers.erase(answers.begin() + 3);          // no police station is asked for then
  std::string ref, said;
  for (size_t i = 0; i < answers.size(); ++i) {
    auto r = h.say("2002", answers[i], "o" + std::to_string(i));
    INFO("message " << i << " (" << answers[i] << "), the bot said before: " << said);
    REQUIRE(r.ok());
    REQUIRE_FALSE(r->replies.empty());
    said = r->replies.back().text;
    if (!r->ticket_ref.empty()) ref = r->ticket_ref;
    now += 1000;
  }
  INFO("last reply: " << said);
  REQUIRE(std::regex_match(ref, std::regex("BRG-26-\\d{6}")));
  CHECK(said.find(ref) != std::string::npos);
  CHECK(f.run({"HGET", keys::ticket(ref), "district"}).str == "");
  CHECK(f.run({"ZSCORE", keys::district_tickets("triage"), ref}).type == RedisValue::Type::kString);
}

TEST_CASE("session and draft transcript TTLs are set again only when they have run down by more "
          "than 1/64, are missing, or are longer than configured", "[pipeline][redis]") {
  RedisFixture f;
  int64_t now = 1795000000000;
  StoreLimits limits;
  limits.session_ttl_ms = 6400000;           // 1/64: 100 s
  limits.draft_transcript_ttl_ms = 3200000;  // 1/64: 50 s
  Harness h(*f.redis, &now, GENERATE(false, true), limits);
  const std::string session = keys::session("telegram", "3001");
  auto pttl = [&](const std::string& key) { return f.run({"PTTL", key}).integer; };
  int step = 0;
  std::string log;
  auto say_next = [&] {  // the conversation's first answers, a second apart: one episode
    auto r = h.say("3001", kConversation[step], "t" + std::to_string(step));
    REQUIRE(r.ok());
    auto s = json::parse(f.run({"HGET", session, "s"}).str);
    log = keys::transcript(s["episode"].get<std::string>());
    ++step;
    now += 1000;
  };
  const int64_t session_ttl = limits.session_ttl_ms;
  const int64_t draft_ttl = limits.draft_transcript_ttl_ms;
  auto fresh = [&](const std::string& key, int64_t ttl) {  // set just now (a minute's slack)
    int64_t left = pttl(key);
    return left <= ttl && left > ttl - 60000;
  };

  say_next();
  CHECK(fresh(session, session_ttl));
  CHECK(fresh(log, draft_ttl));

  // Run down by less than 1/64: left as they are.
  f.run({"PEXPIRE", session, std::to_string(session_ttl - 90000)});
  f.run({"PEXPIRE", log, std::to_string(draft_ttl - 40000)});
  say_next();
  CHECK(pttl(session) <= session_ttl - 90000);
  CHECK(pttl(log) <= draft_ttl - 40000);

  // Run down by more: set again.
  f.run({"PEXPIRE", session, std::to_string(session_ttl - 110000)});
  f.run({"PEXPIRE", log, std::to_string(draft_ttl - 60000)});
  say_next();
  CHECK(fresh(session, session_ttl));
  CHECK(fresh(log, draft_ttl));

  // Missing (persisted by hand, or the stream deleted and written again): set again.
  f.run({"PERSIST", session});
  f.run({"DEL", log});
  say_next();
  CHECK(fresh(session, session_ttl));
  CHECK(fresh(log, draft_ttl));

  // Longer than configured (the TTL was lowered in the configuration): brought down.
  f.run({"PEXPIRE", session, std::to_string(10 * session_ttl)});
  f.run({"PEXPIRE", log, std::to_string(10 * draft_ttl)});
  say_next();
  CHECK(fresh(session, session_ttl));
  CHECK(fresh(log, draft_ttl));

  // Filing a ticket makes the episode's transcript persistent.
  std::string ref;
  for (size_t i = 0; i < kConversation.size(); ++i) {
    now += 1000;
    auto r = h.say("3002", kConversation[i], "p" + std::to_string(i));
    REQUIRE(r.ok());
    if (!r->ticket_ref.empty()) ref = r->ticket_ref;
  }
  REQUIRE_FALSE(ref.empty());
  CHECK(pttl(keys::transcript(f.run({"HGET", keys::ticket(ref), "transcript"}).str)) == -1);
  CHECK(fresh(keys::session("telegram", "3002"), session_ttl));
}
