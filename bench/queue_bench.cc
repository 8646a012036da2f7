// Console queue queries at 1,000 / 100,000 / 1,000,000 stored tickets, and Redis memory per
// ticket: does TicketService::list cost O(page size) or O(number of tickets)?
// Results and how to read them: docs/performance.md, "Console queue at a million tickets".
//
//   build-bench/bench/bench_queue            # 1k, 100k, 1M tickets (1M: ~9 GB of Redis memory)
//   build-bench/bench/bench_queue --quick    # 1k and 100k only
//   build-bench/bench/bench_queue --sizes 1000,20000 --seconds 5
//   NIVARAN_QUEUE_BENCH_SIZES=1000,20000 build-bench/bench/bench_queue
//
// All against its own redis-server (tests/support RedisServer: loopback, free port, temp folder;
// here without AOF or RDB):
//
// 1. Files ONE real ticket through the real Pipeline (the repository's flow and reference data,
//    a Hindi conversation with a ~600-byte description), keeps its hash as the template, and
//    reports the keys filing wrote and their MEMORY USAGE. Then FLUSHALL.
// 2. Loads N synthetic tickets, 1,000 per pipelined batch (Redis works on one batch while the
//    next is generated), writing what filing writes: the ticket hash (the template's fields,
//    with this ticket's values), keys::all_tickets and keys::district_tickets, the six
//    ticket_index_keys(...), the citizen's and the mobile number's sorted sets, the SLA deadlines
//    still running and the history stream with its "created" entry; plus the hash fields that
//    working the ticket adds for its status (first_response_at, assignee, resolved_at,
//    closed_at, feedback, ...; with --worked-history also one history entry per step, which
//    costs load time but no memory: a stream's first 4 KB are preallocated). Transcripts are
//    not loaded (their size is reported from the real ticket).
//    Sizes are loaded incrementally (1k, then 99k more, then 900k more), each new ticket OLDER
//    than those before it: the newest pages are the same at every N, only N changes.
//    The mix (fixed seed): bareilly 30 %, badaun 22 %, pilibhit 20 %, shahjahanpur 20 %,
//    triage 8 %; the 10 categories weighted (theft 22 %, cyber_fraud 18 %, ...), priority from
//    the category as the dialog sets it, 1 % emergencies (urgent); statuses closed 90 %,
//    new 2 %, in_progress 3 %, forwarded 1.5 %, resolved 3 %, reopened 0.5 %; one ticket every
//    ~31 s going back in time.
// 3. For each N: the Redis commands each query issues (CONFIG RESETSTAT, then INFO
//    commandstats: exact, no noise), its latency (median and p99 over interleaved rounds, each
//    query once per round, so machine noise hits all queries alike), and used_memory per ticket.
//
// Every query goes through TicketService::list, with a fixed clock, as the console API calls it.
#include <hiredis.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <map>
#include <unordered_map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bot/conversation_store.h"
#include "bot/keys.h"
#include "bot/pipeline.h"
#include "bot/redis.h"
#include "bot/sla.h"
#include "bot/tickets.h"
#include "dialogs/flow.h"
#include "dialogs/reference_data.h"
#include "tests/support/redis_server.h"

namespace {

using namespace nivaran;
using SteadyClock = std::chrono::steady_clock;

constexpr int64_t kNow = 1795000000000;  // the fixed clock: 2026-11-18 (UTC)
constexpr int kBatch = 1000;             // tickets per pipelined batch

[[noreturn]] void die(const std::string& what) {
  std::cerr << "bench_queue: " << what << "\n";
  std::exit(1);
}

const dialogs::Flow& flow() {
  static const auto f = dialogs::load_flow(NIVARAN_SOURCE_DIR "/dialogs/flows/grievance.json");
  if (!f.ok()) die("flow: " + f.status().message());
  return f.value();
}

const dialogs::ReferenceData& reference() {
  static const auto r = dialogs::load_reference_data(
      NIVARAN_SOURCE_DIR "/config/districts.json", NIVARAN_SOURCE_DIR "/config/categories.json");
  if (!r.ok()) die("reference data: " + r.status().message());
  return r.value();
}

RedisValue run(Redis& redis, const std::vector<std::string>& args) {
  auto r = redis.command(args);
  if (!r.ok()) die("Redis: " + r.status().message());
  if (r->is_error()) die("Redis: " + args[0] + ": " + r->str);
  return r.value();
}

// One "field:value" line of an INFO section.
int64_t info_field(const std::string& info, const std::string& name) {
  const std::string key = "\n" + name + ":";
  auto pos = ("\n" + info).find(key);
  if (pos == std::string::npos) return -1;
  return std::atoll(info.c_str() + pos + key.size() - 1);
}

// This process's CPU time so far, user + system, in seconds.
double own_cpu() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Redis's own CPU time so far, user + system, in seconds.
double redis_cpu(Redis& redis) {
  const std::string info = "\n" + run(redis, {"INFO", "cpu"}).str;
  double total = 0;
  for (const char* name : {"\nused_cpu_user:", "\nused_cpu_sys:"}) {
    auto pos = info.find(name);
    if (pos != std::string::npos) total += std::atof(info.c_str() + pos + std::strlen(name));
  }
  return total;
}

int64_t used_memory(Redis& redis) {
  return info_field(run(redis, {"INFO", "memory"}).str, "used_memory");
}

int64_t memory_usage(Redis& redis, const std::string& key) {
  auto v = run(redis, {"MEMORY", "USAGE", key, "SAMPLES", "0"});
  return v.integer;
}

std::map<std::string, std::string> hgetall(Redis& redis, const std::string& key) {
  auto v = run(redis, {"HGETALL", key});
  std::map<std::string, std::string> m;
  for (size_t i = 0; i + 1 < v.elements.size(); i += 2) m[v.elements[i].str] = v.elements[i + 1].str;
  return m;
}

// --- 1. one real ticket, filed through the pipeline --------------------------------------------

// ~600 bytes of Hindi, as a citizen tells it.
const char* kDescription =
    "कल रात करीब ग्यारह बजे मैंने अपनी मोटरसाइकिल घर के बाहर गली में खड़ी की थी। सुबह उठकर देखा "
    "तो मोटरसाइकिल वहाँ नहीं थी, हैंडल लॉक लगा था और चाबी मेरे पास है। पड़ोसी के कैमरे में रात दो "
    "बजे दो लड़के गाड़ी ले जाते दिख रहे हैं। कृपया कार्रवाई करें।";

struct Template {
  std::map<std::string, std::string> fields;  // the real ticket's hash
  std::vector<std::string> keys;              // every key that filing it wrote
  int64_t hash_bytes = 0, transcript_bytes = 0, history_bytes = 0, transcript_entries = 0;
  std::string history_entry;  // its "created" history entry
  std::vector<std::string> not_loaded;  // keys filing wrote that the loader does not write
};

Template file_real_ticket(Redis& redis) {
  ConversationStore store(redis, StoreLimits{});
  PipelineOptions options;
  for (const auto& d : reference().districts) options.ticket_prefixes[d.code] = d.ticket_prefix;
  int64_t now = kNow - 3600 * 1000;
  Pipeline pipeline(store, flow(), reference(), options, [&now] { return now; });
  const std::vector<std::string> conversation = {
      "नमस्ते", "1", "बरेली", "पता नहीं", "पुराना शहर, किला पुल के पास", "कल रात 11 बजे",
      kDescription, "राम कुमार", "98765 43210", "हाँ", "हाँ"};
  std::string ref;
  for (size_t i = 0; i < conversation.size(); ++i) {
    InboundMessage m;
    m.platform = "telegram";
    m.user_id = m.chat_id = "5550001";
    m.message_id = "m" + std::to_string(i);
    m.text = conversation[i];
    auto r = pipeline.process(m);
    if (!r.ok()) die("filing the template ticket: " + r.status().message());
    if (!r->ticket_ref.empty()) ref = r->ticket_ref;
    now += 20 * 1000;
  }
  if (ref.empty()) die("the template conversation did not file a ticket");
  Template t;
  t.fields = hgetall(redis, keys::ticket(ref));
  for (const auto& k : run(redis, {"KEYS", "*"}).elements) t.keys.push_back(k.str);
  std::sort(t.keys.begin(), t.keys.end());
  t.hash_bytes = memory_usage(redis, keys::ticket(ref));
  t.transcript_bytes = memory_usage(redis, keys::transcript(t.fields["transcript"]));
  t.transcript_entries = run(redis, {"XLEN", keys::transcript(t.fields["transcript"])}).integer;
  t.history_bytes = memory_usage(redis, keys::ticket_history(ref));
  auto h = run(redis, {"XRANGE", keys::ticket_history(ref), "-", "+", "COUNT", "1"});
  if (!h.elements.empty()) t.history_entry = h.elements[0].elements[1].elements[1].str;
  // The keys the loader writes for a ticket like this one (Generator::next), and those of the
  // conversation rather than the ticket; anything else filing wrote is reported.
  auto& f = t.fields;
  std::vector<std::string> loaded = {
      keys::ticket(ref), keys::ticket_history(ref), keys::sla_due(), keys::all_tickets(),
      keys::district_tickets(f["district"].empty() ? "triage" : f["district"]),
      keys::citizen_tickets(f["platform"], f["user_id"]), keys::mobile_tickets(mobile_key(f["mobile"]))};
  for (auto& k : ticket_index_keys(f["district"], f["status"], f["category"], f["priority"])) {
    loaded.push_back(k);
  }
  for (const auto& k : t.keys) {
    const bool conversation = k == keys::session(f["platform"], f["user_id"]) ||
                              k.rfind(keys::seen(f["platform"], ""), 0) == 0 ||
                              k == keys::transcript(f["transcript"]) || k == keys::outbox() ||
                              k.rfind("nv:seq:", 0) == 0;
    if (!conversation && std::find(loaded.begin(), loaded.end(), k) == loaded.end()) {
      t.not_loaded.push_back(k);
    }
  }
  return t;
}

// --- 2. synthetic tickets -------------------------------------------------------------------------

// The loader sends plain commands, pipelined. The sorted sets many tickets share (all tickets,
// district queues, the queue indexes, the SLA deadlines) get one ZADD per key and batch with all
// of the batch's members; the keys of one ticket (its hash, the citizen's and the mobile
// number's sorted sets, its history stream) get their own commands. The end state is the same
// as filing the tickets one by one.

// Fields the generator sets per ticket; every other field of the template is copied as is.
const std::vector<std::string> kVariableFields = {
    "id", "district", "police_station", "category", "cell", "priority", "status", "emergency",
    "mask_personal_data", "created_at", "updated_at", "citizen_last_at", "user_id", "chat_id",
    "mobile", "transcript", "escalation_level", "description"};

struct Ticket {
  std::string ref;
  std::string score;
  std::vector<std::string> own_keys;     // ticket, citizen's tickets, mobile's tickets, history
  std::vector<std::string> shared_keys;  // all tickets, district queue, the six queue indexes
  std::vector<std::string> sla;          // the SLA deadlines still running: due, member, ...
  std::vector<std::string> fields;       // field, value, ...
  std::vector<std::string> history;
};

// A JSON object written as text, members in the order given (json_text sorts keys: give them
// sorted). Values here never need escaping.
struct Obj {
  std::string s = "{";
  Obj& raw(const char* k, const std::string& v) {
    if (s.size() > 1) s += ',';
    s += '"';
    s += k;
    s += "\":";
    s += v;
    return *this;
  }
  Obj& str(const char* k, const std::string& v) { return raw(k, '"' + v + '"'); }
  Obj& num(const char* k, int64_t v) { return raw(k, std::to_string(v)); }
  std::string done() const { return s + "}"; }
};

class Generator {
 public:
  // `worked_history`: also the history entries of working the ticket (reply, status changes,
  // feedback), not only the "created" entry filing writes.
  Generator(const Template& t, bool worked_history) : rng_(20261118), worked_history_(worked_history) {
    for (const auto& [k, v] : t.fields) {
      if (std::find(kVariableFields.begin(), kVariableFields.end(), k) == kVariableFields.end()) {
        constant_.push_back(k);
        constant_.push_back(v);
      }
    }
    for (const auto& d : reference().districts) districts_.push_back(&d);
    for (const auto& c : reference().categories) categories_.push_back(&c);
    // bareilly, badaun, pilibhit, shahjahanpur, then triage (outside the range)
    district_pick_ = std::discrete_distribution<int>({30, 22, 20, 20, 8});
    std::map<std::string, double> cat_weight = {
        {"theft", 22},         {"cyber_fraud", 18},   {"women_safety", 8},
        {"assault", 8},        {"land_dispute", 10},  {"missing_person", 4},
        {"traffic", 6},        {"police_conduct", 5}, {"objectionable_post", 7},
        {"other", 12}};
    std::vector<double> w;
    for (const auto* c : categories_) w.push_back(cat_weight.count(c->code) ? cat_weight[c->code] : 1);
    category_pick_ = std::discrete_distribution<int>(w.begin(), w.end());
    // new, in_progress, forwarded, resolved, closed, reopened (per mille)
    status_pick_ = std::discrete_distribution<int>({20, 30, 15, 30, 900, 5});
  }

  const std::vector<std::string>& constant_fields() const { return constant_; }

  Ticket next() {
    const int64_t i = count_++;
    Ticket t;
    const int64_t created = kNow - 2 * 3600 * 1000 - i * 31000 - static_cast<int64_t>(rng_() % 1000);
    const int di = district_pick_(rng_);
    const dialogs::District* d = di < static_cast<int>(districts_.size()) ? districts_[di] : nullptr;
    const dialogs::Category* c = categories_[category_pick_(rng_)];
    const bool emergency = rng_() % 100 == 0;
    const std::string priority = emergency ? "urgent" : c->priority;
    static const std::vector<std::string> kStatus = {"new",    "in_progress", "forwarded",
                                                     "resolved", "closed",    "reopened"};
    const std::string status = kStatus[status_pick_(rng_)];
    const std::string district = d ? d->code : "";
    const std::string cell = d ? c->cell : "triage";
    std::string station;
    if (d && (status == "forwarded" || rng_() % 10 < 4)) {
      station = d->police_stations[rng_() % d->police_stations.size()].code;
    }

    std::time_t secs = created / 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char yy[8];
    std::snprintf(yy, sizeof yy, "%02d", (tm.tm_year + 1900) % 100);
    const std::string prefix = d ? d->ticket_prefix : "BRG";
    char ref[32];
    std::snprintf(ref, sizeof ref, "%s-%s-%06lld", prefix.c_str(), yy,
                  static_cast<long long>(++sequence_[prefix + yy]));
    t.ref = ref;
    t.score = std::to_string(created);

    const std::string user = std::to_string(700000000 + i);
    char mobile[16];
    std::snprintf(mobile, sizeof mobile, "9%09lld", static_cast<long long>(i));
    t.own_keys = {keys::ticket(t.ref), keys::citizen_tickets("telegram", user),
                  keys::mobile_tickets(mobile_key(mobile)), keys::ticket_history(t.ref)};
    t.shared_keys = ticket_index_keys(district, status, c->code, priority);
    t.shared_keys.push_back(keys::all_tickets());
    t.shared_keys.push_back(keys::district_tickets(d ? district : "triage"));

    // What filing writes.
    const int64_t first = created + 2 * 3600 * 1000, resolved = created + 3 * 24 * 3600 * 1000,
                  closed = resolved + 6 * 3600 * 1000;
    int64_t updated = created;
    t.fields = {"id", t.ref, "district", district, "police_station", station,
                "category", c->code, "cell", cell, "priority", priority, "status", status,
                "emergency", emergency ? "true" : "false",
                "mask_personal_data", c->mask_personal_data ? "true" : "false",
                "created_at", t.score, "citizen_last_at", t.score, "user_id", user,
                "chat_id", user, "mobile", mobile, "transcript", make_unique_id(created)};
    auto set = [&t](const std::string& k, const std::string& v) {
      t.fields.push_back(k);
      t.fields.push_back(v);
    };
    // History entries as json_text writes them (keys sorted, UTF-8 kept), built as text: the
    // loader's speed is bounded by this process on a 2-core machine.
    t.history.push_back(Obj().str("action", "created").num("at", created).str("by", "citizen")
                            .str("cell", cell).str("platform", "telegram")
                            .str("priority", priority).str("role", "citizen").done());
    // What working it adds.
    auto worked = [&](std::string entry) {
      if (worked_history_) t.history.push_back(std::move(entry));
    };
    const std::string login = "si_" + (d ? d->code : std::string("range")) + "_" + std::to_string(i % 7);
    if (status != "new") {
      set("first_response_at", std::to_string(first));
      set("assignee", login);
      updated = first;
      worked(
          Obj().str("action", "reply").num("at", first).str("by", login).str("role", "staff")
              .raw("status", R"({"from":"new","to":"in_progress"})")
              .str("text", "आपकी शिकायत दर्ज कर ली गई है। संबंधित थाने से जाँच कराई जा रही है, "
                           "जल्द ही आपसे संपर्क किया जाएगा।")
              .done());
    }
    if (status == "forwarded") {
      set("forwarded_to", station);
      updated = first + 3600 * 1000;
      worked(Obj().str("action", "status").num("at", updated).str("by", login)
                              .str("from", "in_progress").str("police_station", station)
                              .str("role", "staff").str("to", "forwarded").done());
    }
    if (status == "resolved" || status == "closed" || status == "reopened") {
      set("resolved_at", std::to_string(resolved));
      updated = resolved;
      worked(Obj().str("action", "status").num("at", resolved).str("by", login)
                              .str("from", "in_progress")
                              .str("note", "थाने से जाँच पूरी, शिकायतकर्ता को सूचित किया गया।")
                              .str("role", "staff").str("to", "resolved").done());
    }
    if (status == "closed") {
      set("feedback", "satisfied");
      set("closed_at", std::to_string(closed));
      updated = closed;
      worked(Obj().str("action", "feedback").num("at", closed).str("by", "citizen")
                              .str("from", "resolved").str("role", "citizen")
                              .raw("satisfied", "true").str("to", "closed").done());
    }
    if (status == "reopened") {
      set("feedback", "unsatisfied");
      set("escalated_to", "nodal");
      updated = closed;
      worked(Obj().str("action", "feedback").num("at", closed).str("by", "citizen")
                              .str("escalated_to", "nodal").str("from", "resolved")
                              .str("reason", "the citizen is not satisfied with the resolution")
                              .str("role", "citizen").raw("satisfied", "false")
                              .str("to", "reopened").done());
    }
    set("escalation_level", status == "reopened" ? "1" : "0");
    set("updated_at", std::to_string(updated));
    // The SLA deadlines still running.
    const auto deadlines = initial_deadlines(sla_, t.ref, priority, created);
    if (status == "new") t.sla = deadlines;
    if (status == "in_progress" || status == "forwarded") t.sla = {deadlines[2], deadlines[3]};
    if (status == "reopened") {
      t.sla = {std::to_string(closed + sla_.target(priority).resolution_ms), "resolve:" + t.ref};
    }
    return t;
  }

 private:
  std::mt19937_64 rng_;
  std::vector<std::string> constant_;
  std::vector<const dialogs::District*> districts_;
  std::vector<const dialogs::Category*> categories_;
  std::discrete_distribution<int> district_pick_, category_pick_, status_pick_;
  std::map<std::string, int64_t> sequence_;
  SlaPolicy sla_;
  bool worked_history_;
  int64_t count_ = 0;
};

// Sends a batch's commands with raw hiredis and reads the replies of the batch before, so that
// Redis works on one batch while the next is generated.
class Loader {
 public:
  Loader(int port, std::string description, std::vector<std::string> constant)
      : description_(std::move(description)), constant_(std::move(constant)) {
    timeval tv{120, 0};
    c_ = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!c_ || c_->err) die("loader: cannot connect to Redis");
    redisSetTimeout(c_, tv);
  }
  ~Loader() { redisFree(c_); }

  void send(const std::vector<Ticket>& batch) {
    // key → pointers to score, member, ... (the strings live in `batch`)
    std::unordered_map<std::string, std::vector<const std::string*>> shared;
    for (const auto& t : batch) {
      for (const auto& k : t.shared_keys) {
        auto& m = shared[k];
        m.push_back(&t.score);
        m.push_back(&t.ref);
      }
      if (!t.sla.empty()) {
        auto& m = shared[sla_key_];
        for (const auto& v : t.sla) m.push_back(&v);
      }
    }
    int sent = 0;
    for (const auto& t : batch) {
      start("HSET");
      arg(t.own_keys[0]);
      arg(kDescriptionField);
      arg(description_);
      for (const auto& v : constant_) arg(v);
      for (const auto& v : t.fields) arg(v);
      end();
      for (int k : {1, 2}) {
        start("ZADD");
        arg(t.own_keys[k]);
        arg(t.score);
        arg(t.ref);
        end();
      }
      for (const auto& h : t.history) {
        start("XADD");
        arg(t.own_keys[3]);
        arg(kAutoId);
        arg(kEntryField);
        arg(h);
        end();
      }
      sent += 3 + static_cast<int>(t.history.size());
    }
    for (auto& [k, m] : shared) {
      start("ZADD");
      arg(k);
      for (const auto* v : m) arg(*v);
      end();
      ++sent;
    }
    int done = 0;
    while (!done) {
      if (redisBufferWrite(c_, &done) != REDIS_OK) die("loader: write failed");
    }
    receive(pending_);  // the batch before this one
    pending_ = sent;
  }

  void finish() {
    receive(pending_);
    pending_ = 0;
  }

 private:
  // One command, argument by argument, without copying the strings.
  void start(const char* name) {
    argv_.assign(1, name);
    lens_.assign(1, std::strlen(name));
  }
  void arg(const std::string& a) {
    argv_.push_back(a.data());
    lens_.push_back(a.size());
  }
  void end() {
    if (redisAppendCommandArgv(c_, static_cast<int>(argv_.size()), argv_.data(), lens_.data()) !=
        REDIS_OK) {
      die("loader: append failed");
    }
  }

  void receive(int n) {
    for (int i = 0; i < n; ++i) {
      void* reply = nullptr;
      if (redisGetReply(c_, &reply) != REDIS_OK || !reply) die("loader: no reply from Redis");
      auto* r = static_cast<redisReply*>(reply);
      if (r->type == REDIS_REPLY_ERROR) die(std::string("loader: ") + r->str);
      freeReplyObject(r);
    }
  }

  const std::string kDescriptionField = "description", kAutoId = "*", kEntryField = "e";
  const std::string sla_key_ = keys::sla_due();
  std::vector<const char*> argv_;
  std::vector<size_t> lens_;
  redisContext* c_ = nullptr;
  std::string description_;
  std::vector<std::string> constant_;
  int pending_ = 0;
};

// --- 3. the queries ---------------------------------------------------------------------------

struct Query {
  std::string name;
  Actor actor;
  TicketQuery q;
  bool slow = false;  // measured apart, with fewer runs, so the others get many
};

struct Measured {
  double median_us = 0, p99_us = 0;
  int samples = 0;
  int64_t hgetall = 0, zrange = 0, zcard = 0;  // Redis commands per query
  size_t returned = 0;
  bool has_next = false;
};

TicketPage list_or_die(TicketService& service, const Query& q) {
  auto r = service.list(q.actor, q.q);
  if (!r.ok()) die("list " + q.name + ": " + r.status().message());
  return r.value();
}

TicketQuery filters(std::string status, std::string category, std::string priority) {
  TicketQuery q;
  q.status = std::move(status);
  q.category = std::move(category);
  q.priority = std::move(priority);
  return q;
}

std::vector<Query> make_queries(TicketService& service) {
  const Actor staff{"si_bareilly_bench", "staff", "bareilly"};
  const Actor ig{"ig_bench", "ig", ""};
  std::vector<Query> out = {
      {"(a) district first page", staff, {}},
      {"(b) status=new", staff, filters("new", "", "")},
      {"(c) category=cyber_fraud", staff, filters("", "cyber_fraud", "")},
      {"(d) status=new + category=theft", staff, filters("new", "theft", "")},
      {"(e) IG range-wide, 10th page by cursor", ig, {}},
      {"(f) IG range-wide first page", ig, {}},
      {"(g) no match: cyber_fraud + priority=normal", staff,
       filters("", "cyber_fraud", "normal"), true},
  };
  // The cursor of page 9, found by walking the first nine pages. Range-wide, so that page 10
  // exists at 1,000 tickets too (one district has ~300 of them).
  Query& tenth = out[4];
  for (int page = 1; page < 10; ++page) {
    auto p = list_or_die(service, tenth);
    if (p.next_cursor.empty()) break;  // fewer than ten pages: the query asks past the end
    tenth.q.cursor = p.next_cursor;
  }
  return out;
}

Measured commands_of(Redis& redis, TicketService& service, const Query& q) {
  run(redis, {"CONFIG", "RESETSTAT"});
  auto page = list_or_die(service, q);
  const std::string info = run(redis, {"INFO", "commandstats"}).str;
  auto calls = [&](const std::string& cmd) {
    const std::string key = "cmdstat_" + cmd + ":calls=";
    auto pos = info.find(key);
    return pos == std::string::npos ? int64_t{0} : std::atoll(info.c_str() + pos + key.size());
  };
  Measured m;
  m.hgetall = calls("hgetall");
  m.zrange = calls("zrevrangebyscore");
  m.zcard = calls("zcard");
  m.returned = page.tickets.size();
  m.has_next = !page.next_cursor.empty();
  return m;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * (v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

std::vector<Measured> measure(Redis& redis, TicketService& service, const std::vector<Query>& qs,
                              double seconds, int min_rounds, int max_rounds) {
  std::vector<Measured> out;
  for (const auto& q : qs) out.push_back(commands_of(redis, service, q));
  for (int warm = 0; warm < 5; ++warm) {
    for (const auto& q : qs) list_or_die(service, q);
  }
  std::vector<std::vector<double>> samples(qs.size());
  // Interleaved rounds: the fast queries for `seconds`, then the slow ones for a third of it.
  for (bool slow : {false, true}) {
    const auto start = SteadyClock::now();
    const double budget = slow ? seconds / 3 : seconds;
    for (int round = 0; round < max_rounds; ++round) {
      if (round >= min_rounds &&
          std::chrono::duration<double>(SteadyClock::now() - start).count() > budget) {
        break;
      }
      for (size_t i = 0; i < qs.size(); ++i) {
        if (qs[i].slow != slow) continue;
        const auto t0 = SteadyClock::now();
        auto r = service.list(qs[i].actor, qs[i].q);
        const auto t1 = SteadyClock::now();
        if (!r.ok()) die("list " + qs[i].name + ": " + r.status().message());
        samples[i].push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      }
    }
  }
  for (size_t i = 0; i < qs.size(); ++i) {
    out[i].median_us = percentile(samples[i], 0.5);
    out[i].p99_us = percentile(samples[i], 0.99);
    out[i].samples = static_cast<int>(samples[i].size());
  }
  return out;
}

std::string human(int64_t n) {
  if (n >= 1000000 && n % 1000000 == 0) return std::to_string(n / 1000000) + "M";
  if (n >= 1000 && n % 1000 == 0) return std::to_string(n / 1000) + "k";
  return std::to_string(n);
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::vector<int64_t> parse_sizes(const std::string& s) {
  std::vector<int64_t> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    char* end = nullptr;
    long long v = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v < 1 || v > 5000000) die("bad size: " + item);
    out.push_back(v);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void usage() {
  std::cerr << "usage: bench_queue [--quick] [--sizes N,N,...] [--seconds S] [--redis-arg ARG]...\n"
               "                   [--worked-history] [--verbose]\n"
               "  --quick      1,000 and 100,000 tickets (default: 1,000 / 100,000 / 1,000,000)\n"
               "  --sizes      ticket counts, ascending, loaded incrementally (max 5,000,000)\n"
               "  --seconds    measuring time per size (default 10; at least 30 rounds)\n"
               "  --redis-arg  one more redis-server argument, e.g. --redis-arg --stream-node-max-bytes\n"
               "               --redis-arg 1024 (repeatable)\n"
               "  --worked-history  also write the history entries of working each ticket (reply,\n"
               "               status changes, feedback), not only the \"created\" entry filing writes;\n"
               "               slower to load, same memory (a stream's first 4 KB are preallocated)\n"
               "  --verbose    print the template ticket, the keys filing it wrote, a synthetic\n"
               "               ticket and where Redis spent the load\n"
               "environment: NIVARAN_QUEUE_BENCH_SIZES=N,N,... (as --sizes)\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> sizes = {1000, 100000, 1000000};
  if (const char* env = std::getenv("NIVARAN_QUEUE_BENCH_SIZES"); env && *env) sizes = parse_sizes(env);
  double seconds = 10;
  bool verbose = false, worked_history = false;
  std::vector<std::string> redis_args = {"--appendonly", "no", "--save", ""};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") {
      sizes = {1000, 100000};
    } else if (a == "--sizes" && i + 1 < argc) {
      sizes = parse_sizes(argv[++i]);
    } else if (a == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (a == "--redis-arg" && i + 1 < argc) {
      redis_args.push_back(argv[++i]);
    } else if (a == "--worked-history") {
      worked_history = true;
    } else if (a == "--verbose") {
      verbose = true;
    } else {
      usage();
    }
  }

  nivaran::testing::RedisServer server(redis_args);
  server.start();
  Redis redis(RedisEndpoint{"127.0.0.1", server.port(), 0, 60000});
  std::string version = run(redis, {"INFO", "server"}).str;
  version = version.substr(version.find("redis_version:") + 14);
  version = version.substr(0, version.find_first_of("\r\n"));

  // 1. The template.
  const Template tpl = file_real_ticket(redis);
  std::cout << "template: a real ticket filed through Pipeline: " << tpl.fields.size()
            << " hash fields, description " << tpl.fields.at("description").size()
            << " bytes; filing wrote " << tpl.keys.size() << " keys\n";
  std::cout << "  MEMORY USAGE: hash " << tpl.hash_bytes << " B, history " << tpl.history_bytes
            << " B, transcript " << tpl.transcript_bytes << " B (" << tpl.transcript_entries
            << " entries; transcripts are not loaded below)\n";
  for (const auto& k : tpl.not_loaded) {
    std::cout << "  WARNING: filing wrote " << k << ", which the loader does not write\n";
  }
  if (verbose) {
    for (const auto& k : tpl.keys) std::cout << "  key " << k << "\n";
    for (const auto& [k, v] : tpl.fields) std::cout << "  field " << k << " = " << v << "\n";
    std::cout << "  history entry " << tpl.history_entry << "\n";
  }
  run(redis, {"FLUSHALL", "SYNC"});
  const int64_t base_memory = used_memory(redis);

  TicketService service(redis, reference(), flow(), [] { return kNow; });
  Generator gen(tpl, worked_history);
  if (verbose) {
    Generator sample(tpl, worked_history);
    Ticket t = sample.next();
    for (size_t i = 0; i + 1 < t.fields.size(); i += 2) {
      std::cout << "  synthetic field " << t.fields[i] << " = " << t.fields[i + 1] << "\n";
    }
    for (const auto& h : t.history) std::cout << "  synthetic history entry " << h << "\n";
  }
  Loader loader(server.port(), tpl.fields.at("description"), gen.constant_fields());

  struct Row {
    int64_t n;
    double load_s;
    int64_t memory, keys, hash_avg, history_avg;
    std::vector<Measured> m;
  };
  std::vector<Row> rows;
  std::vector<Query> queries;
  std::vector<std::string> refs;  // every loaded ticket, for sampling MEMORY USAGE
  int64_t loaded = 0;
  for (int64_t n : sizes) {
    const auto t0 = SteadyClock::now();
    const double cpu0 = redis_cpu(redis), own0 = own_cpu();
    std::vector<Ticket> batch;
    double gen_s = 0;
    while (loaded < n) {
      const auto g0 = SteadyClock::now();
      batch.push_back(gen.next());
      gen_s += std::chrono::duration<double>(SteadyClock::now() - g0).count();
      refs.push_back(batch.back().ref);
      ++loaded;
      if (static_cast<int>(batch.size()) == kBatch || loaded == n) {
        loader.send(batch);
        batch.clear();
      }
    }
    loader.finish();
    const double load_s = std::chrono::duration<double>(SteadyClock::now() - t0).count();
    const double load_cpu = redis_cpu(redis) - cpu0, load_own = own_cpu() - own0;
    Row row{n, load_s, used_memory(redis) - base_memory, run(redis, {"DBSIZE"}).integer, 0, 0, {}};
    int64_t hash_sum = 0, history_sum = 0, samples = 0;
    for (size_t i = 0; i < refs.size(); i += std::max<size_t>(1, refs.size() / 200)) {
      hash_sum += memory_usage(redis, keys::ticket(refs[i]));
      history_sum += memory_usage(redis, keys::ticket_history(refs[i]));
      ++samples;
    }
    row.hash_avg = hash_sum / samples;
    row.history_avg = history_sum / samples;
    std::cout << "\nN = " << n << ": loaded in " << fixed(load_s, 1) << " s (generating "
              << fixed(gen_s, 1) << " s; CPU: Redis " << fixed(load_cpu, 1) << " s, loader "
              << fixed(load_own, 1) << " s); " << row.keys
              << " keys; used_memory +" << fixed(row.memory / 1048576.0, 1) << " MiB = "
              << row.memory / n << " B per ticket (hash ~" << row.hash_avg << " B, history ~"
              << row.history_avg << " B)\n";
    if (verbose) {  // where Redis spent the load (commands run by the script count too)
      std::stringstream info(run(redis, {"INFO", "commandstats"}).str);
      for (std::string line; std::getline(info, line);) {
        if (line.rfind("cmdstat_", 0) == 0) std::cout << "  " << line << "\n";
      }
    }
    std::cout.flush();
    queries = make_queries(service);  // page 10's cursor is found again at each N
    row.m = measure(redis, service, queries, seconds, 30, 100000);
    for (size_t i = 0; i < queries.size(); ++i) {
      const auto& m = row.m[i];
      std::printf("  %-46s median %8.0f us  p99 %8.0f us  (%4d runs)  HGETALL %4lld  "
                  "ZREVRANGEBYSCORE %2lld  ZCARD %lld  -> %zu tickets%s\n",
                  queries[i].name.c_str(), m.median_us, m.p99_us, m.samples,
                  static_cast<long long>(m.hgetall), static_cast<long long>(m.zrange),
                  static_cast<long long>(m.zcard), m.returned, m.has_next ? ", next cursor" : "");
    }
    std::fflush(stdout);
    rows.push_back(std::move(row));
  }

  // The summary, as a Markdown table.
  std::cout << "\nRedis " << version << ", " << sizes.size() << " sizes, fixed clock " << kNow
            << "; load average now: ";
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    char buf[64] = {};
    if (std::fgets(buf, sizeof buf, f)) std::cout << std::string(buf, strcspn(buf, " "));
    std::fclose(f);
  }
  std::cout << "\n\n| query (page of 50) |";
  for (const auto& r : rows) std::cout << " N = " << human(r.n) << ": median / p99 µs |";
  std::cout << " HGETALLs per query at each N |\n|---|";
  for (size_t i = 0; i < rows.size(); ++i) std::cout << "---|";
  std::cout << "---|\n";
  for (size_t q = 0; q < queries.size(); ++q) {
    std::cout << "| " << queries[q].name << " |";
    for (const auto& r : rows) {
      std::cout << " " << fixed(r.m[q].median_us, 0) << " / " << fixed(r.m[q].p99_us, 0) << " |";
    }
    std::cout << " ";
    for (size_t i = 0; i < rows.size(); ++i) std::cout << (i ? " / " : "") << rows[i].m[q].hgetall;
    std::cout << " |\n";
  }
  std::cout << "\n| N | load s | keys | used_memory per ticket | ticket hash | history stream | rest (indexes, citizen, mobile, SLA) |\n"
               "|---|---|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    const int64_t per = r.memory / r.n;
    std::cout << "| " << human(r.n) << " | " << fixed(r.load_s, 1) << " | " << r.keys << " | "
              << per << " B | " << r.hash_avg << " B | " << r.history_avg << " B | "
              << per - r.hash_avg - r.history_avg << " B |\n";
  }
  return 0;
}
