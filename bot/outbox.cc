#include "bot/outbox.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <iostream>
#include <optional>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "bot/keys.h"
#include "bot/metrics.h"

namespace nivaran {

using nlohmann::json;

namespace {

// KEYS: 1 delayed set, 2 outbox stream. ARGV: 1 now ms. Moves up to 100 due entries.
const RedisScript kPromoteScript(R"lua(
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 100)
for _, payload in ipairs(due) do
  redis.call('XADD', KEYS[2], '*', 'm', payload)
  redis.call('ZREM', KEYS[1], payload)
end
return #due
)lua");

// KEYS: 1 outbox stream, 2 progress hash, 3 delayed set. ARGV: 1 group, then for each entry
// its id, retry payload ('' for none) and due ms. Finishes a batch of entries, scheduling their
// retries, atomically. The entries are acknowledged, deleted and unmarked with one command each
// for the whole batch (in chunks, to stay within Lua's stack): per entry, each command inside a
// script costs Redis about as much again in the interpreter and the AOF as in the command.
const RedisScript kFinishScript(R"lua(
local ids = {}
for i = 2, #ARGV, 3 do
  local id, retry, due = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if retry ~= '' then
    redis.call('ZADD', KEYS[3], due, retry)
  end
  ids[#ids + 1] = id
end
for from = 1, #ids, 500 do
  local to = math.min(from + 499, #ids)
  redis.call('XACK', KEYS[1], ARGV[1], unpack(ids, from, to))
  redis.call('XDEL', KEYS[1], unpack(ids, from, to))
  redis.call('HDEL', KEYS[2], unpack(ids, from, to))
end
return 1
)lua");

// KEYS: 1 outbox stream. ARGV: 1 group, 2 consumer, then entry ids. Resets the idle time of
// the entries this consumer still owns, so that no other worker takes them over while they wait
// in a long batch; returns the ids it no longer owns (taken over by another worker already).
const RedisScript kKeepScript(R"lua(
local lost = {}
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
)lua");

Status redis_error(const RedisValue& v) {
  return Status::unavailable("Redis: " + v.str);
}

// Whether an outbox entry has the shape every later step reads without checking: an object
// with string "platform" and "chat_id", a "replies" array of reply objects, and optional fields
// of the right types. Entries are written by this program, but one written by another version
// (a rolling upgrade) or by hand must become a dead letter, not an exception in a worker.
bool well_formed(const json& e) {
  auto has = [](const json& o, const char* key, bool (json::*is)() const noexcept) {
    auto it = o.find(key);
    return it == o.end() || ((*it).*is)();
  };
  if (!e.is_object() || !e.contains("platform") || !e.contains("chat_id")) return false;
  auto replies = e.find("replies");
  if (replies == e.end() || !replies->is_array()) return false;
  for (const char* key : {"platform", "chat_id", "callback_id", "kind"}) {
    if (!has(e, key, &json::is_string)) return false;
  }
  for (const char* key : {"attempt", "held_since", "skip_calls"}) {
    if (!has(e, key, &json::is_number_integer)) return false;
  }
  if (!has(e, "outside_window", &json::is_boolean)) return false;
  // What from_json(Reply) reads, checked without building the reply (that is done once, when it
  // is sent): {"text"?: string, "options"?: [{"id"?: string, "title"?: string}]}.
  for (const auto& r : *replies) {
    if (!r.is_object() || !has(r, "text", &json::is_string)) return false;
    if (!has(r, "options", &json::is_array)) return false;
    auto options = r.find("options");
    if (options == r.end()) continue;
    for (const auto& o : *options) {
      if (!o.is_object() || !has(o, "id", &json::is_string) || !has(o, "title", &json::is_string))
        return false;
    }
  }
  return true;
}

// The reply index K of a progress value "sending:K", or nullopt.
std::optional<size_t> sending_index(const std::string& progress) {
  static const std::string kPrefix = "sending:";
  if (progress.rfind(kPrefix, 0) != 0) return std::nullopt;
  size_t k = 0;
  const char* first = progress.data() + kPrefix.size();
  const char* last = progress.data() + progress.size();
  auto [end, ec] = std::from_chars(first, last, k);
  if (ec != std::errc() || end != last || first == last) return std::nullopt;
  return k;
}

// Finds field "m" in a stream entry's flat field list.
std::string field_m(const RedisValue& fields) {
  for (size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
    if (fields.elements[i].str == "m") return fields.elements[i + 1].str;
  }
  return "";
}

}  // namespace

OutboxSender::OutboxSender(Redis& redis, std::map<std::string, std::shared_ptr<Handler>> handlers,
                           ApiTransport& transport, OutboxOptions options, Clock clock)
    : redis_(redis),
      handlers_(std::move(handlers)),
      transport_(transport),
      options_(options),
      clock_(std::move(clock)) {}

OutboxSender::~OutboxSender() { stop(); }

Status OutboxSender::ensure_group() {
  auto r = redis_.command({"XGROUP", "CREATE", keys::outbox(), keys::kOutboxGroup, "0", "MKSTREAM"});
  if (!r.ok()) return r.status();
  if (r->is_error() && r->str.rfind("BUSYGROUP", 0) != 0) return redis_error(r.value());
  return Status::ok();
}

void OutboxSender::start(int workers, const std::string& name) {
  running_ = true;
  for (int i = 0; i < workers; ++i) {
    threads_.emplace_back([this, consumer = name + "-" + std::to_string(i)] {
      bool group_ready = false;
      auto last_housekeeping = std::chrono::steady_clock::time_point{};
      while (running_) {
        if (!group_ready) group_ready = ensure_group().is_ok();
        auto now = std::chrono::steady_clock::now();
        bool housekeeping =
            now - last_housekeeping >= std::chrono::milliseconds(options_.housekeeping_ms);
        if (housekeeping) last_housekeeping = now;
        Result<int> n = Status::unavailable("no consumer group");
        if (group_ready) {
          try {
            n = run_once(consumer, options_.block_ms, housekeeping);
          } catch (const std::exception& e) {
            // A bug, not an input: its entries stay pending and are taken over later. The
            // worker goes on rather than taking the whole process down with it.
            std::cerr << "nivaran: outbox: " << consumer << " failed: " << e.what() << "\n";
            n = Status::unavailable(e.what());
          }
        }
        if (!n.ok()) {
          group_ready = false;  // Redis may have restarted empty: recreate the group
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
      }
    });
  }
}

void OutboxSender::stop() {
  running_ = false;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

Status OutboxSender::promote_due() {
  auto r = redis_.eval(kPromoteScript, {keys::outbox_delayed(), keys::outbox()},
                       {std::to_string(clock_())});
  if (!r.ok()) return r.status();
  if (r->is_error()) return redis_error(r.value());
  return Status::ok();
}

Result<std::vector<OutboxSender::Pending>> OutboxSender::reclaim(const std::string& consumer) {
  // Each call looks at a bounded stretch of the pending list (COUNT x 10 entries) and says
  // where to go on; starting from the top every time would never reach entries further down
  // while those at the top are fresh. Called under read_mu_.
  std::string& cursor = reclaim_cursor_[consumer];
  if (cursor.empty()) cursor = "0-0";
  auto r = redis_.command({"XAUTOCLAIM", keys::outbox(), keys::kOutboxGroup, consumer,
                           std::to_string(options_.reclaim_idle_ms), cursor, "COUNT", "10"});
  if (!r.ok()) return r.status();
  if (r->is_error()) return redis_error(r.value());
  std::vector<Pending> batch;
  if (r->elements.size() < 2) return batch;
  cursor = r->elements[0].str.empty() ? "0-0" : r->elements[0].str;
  for (const auto& entry : r->elements[1].elements) {
    if (entry.elements.size() < 2 || entry.elements[1].is_nil()) continue;
    batch.emplace_back(entry.elements[0].str, field_m(entry.elements[1]), true);
  }
  return batch;
}

uint64_t OutboxSender::queue_up(std::vector<Pending>& batch) {
  // Parsed before taking turns_mu_: other workers check their turns meanwhile.
  for (Pending& p : batch) {
    p.entry = json::parse(p.payload, nullptr, false);
    if (p.entry.is_discarded() || !well_formed(p.entry)) {
      continue;  // malformed: dead-lettered by send_batch, queues for nothing
    }
    p.chat = p.entry.value("platform", "") + ":" + p.entry.value("chat_id", "");
  }
  std::lock_guard lock(turns_mu_);
  const uint64_t turn = next_turn_++;
  for (const Pending& p : batch) {
    if (p.chat.empty()) continue;
    auto& queue = turns_[p.chat];
    if (queue.empty() || queue.back() != turn) queue.push_back(turn);
  }
  return turn;
}

bool OutboxSender::first_for(const std::string& chat, uint64_t turn) {
  std::lock_guard lock(turns_mu_);
  auto it = turns_.find(chat);
  return it == turns_.end() || it->second.empty() || it->second.front() == turn;
}

void OutboxSender::leave(const std::vector<Pending>& batch, uint64_t turn) {
  {
    std::lock_guard lock(turns_mu_);
    for (const Pending& p : batch) {
      auto it = turns_.find(p.chat);
      if (p.chat.empty() || it == turns_.end()) continue;
      auto& queue = it->second;
      queue.erase(std::remove(queue.begin(), queue.end(), turn), queue.end());
      if (queue.empty()) turns_.erase(it);
    }
  }
  turns_cv_.notify_all();
}

Status OutboxSender::finish(const std::vector<std::string>& batch) {
  if (batch.empty()) return Status::ok();
  std::vector<std::string> args = {keys::kOutboxGroup};
  args.insert(args.end(), batch.begin(), batch.end());
  auto r = redis_.eval(kFinishScript,
                       {keys::outbox(), keys::outbox_progress(), keys::outbox_delayed()}, args);
  if (!r.ok()) return r.status();
  if (r->is_error()) return redis_error(r.value());
  return Status::ok();
}

Result<std::vector<std::string>> OutboxSender::keep(const std::string& consumer,
                                                    const std::vector<std::string>& ids) {
  if (ids.empty()) return std::vector<std::string>{};
  std::vector<std::string> args = {keys::kOutboxGroup, consumer};
  args.insert(args.end(), ids.begin(), ids.end());
  auto r = redis_.eval(kKeepScript, {keys::outbox()}, args);
  if (!r.ok()) return r.status();
  if (r->is_error()) return redis_error(r.value());
  std::vector<std::string> lost;
  for (const auto& e : r->elements) lost.push_back(e.str);
  return lost;
}

Result<int> OutboxSender::run_once(const std::string& consumer, int block_ms, bool housekeeping) {
  std::vector<Pending> batch;
  uint64_t turn = 0;
  {
    // One reader at a time, so that batches queue up for their conversations in stream order.
    std::lock_guard read(read_mu_);
    if (housekeeping) {
      if (Status st = promote_due(); !st.is_ok()) return st;
      auto reclaimed = reclaim(consumer);
      if (!reclaimed.ok()) return reclaimed.status();
      batch = std::move(reclaimed.value());
    }
    auto r = redis_.command({"XREADGROUP", "GROUP", keys::kOutboxGroup, consumer, "COUNT",
                             std::to_string(options_.batch_size),
                             "BLOCK", std::to_string(block_ms), "STREAMS", keys::outbox(), ">"});
    if (!r.ok()) return r.status();
    if (r->is_error()) return redis_error(r.value());
    int64_t oldest_ms = -1;  // the time in the first new entry's id ("<ms>-<seq>")
    if (!r->is_nil()) {
      for (const auto& stream : r->elements) {
        if (stream.elements.size() < 2) continue;
        for (const auto& entry : stream.elements[1].elements) {
          if (entry.elements.size() < 2) continue;
          const std::string& id = entry.elements[0].str;
          if (oldest_ms < 0) {
            int64_t ms = 0;
            auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), ms);
            if (ec == std::errc() && end != id.data()) oldest_ms = ms;
          }
          batch.emplace_back(id, field_m(entry.elements[1]), false);
        }
      }
    }
    // Redis's clock and this process's may differ a little: a negative age counts as none.
    metrics::counters().outbox_lag_ms =
        oldest_ms < 0 ? 0 : std::max<int64_t>(0, clock_() - oldest_ms);
    if (batch.empty()) return 0;
    turn = queue_up(batch);
  }
  Status st;
  try {
    st = send_batch(consumer, batch, turn);
  } catch (...) {
    leave(batch, turn);  // else the conversation's later batches would wait for it for ever
    throw;
  }
  leave(batch, turn);
  if (!st.is_ok()) return st;
  return static_cast<int>(batch.size());
}

Status OutboxSender::dead_letter(const json& entry, const json& reply, const std::string& reason) {
  metrics::counters().outbox_dead_lettered++;
  json record = {{"platform", entry.value("platform", "")},
                 {"chat_id", entry.value("chat_id", "")},
                 {"reply", reply},
                 {"reason", reason},
                 {"at", clock_()}};
  auto r = redis_.command({"XADD", keys::dead_letters(), "MAXLEN", "~", "100000", "*", "m",
                           json_text(record)});
  if (!r.ok()) return r.status();
  if (r->is_error()) return redis_error(r.value());  // not recorded: the entry stays pending
  return Status::ok();
}

OutboxSender::Gate OutboxSender::pause_gate(const std::string& platform, int64_t now,
                                            int64_t* until) {
  std::lock_guard lock(pause_mu_);
  auto it = pauses_.find(platform);
  if (it == pauses_.end() || !it->second.paused) return Gate::kOpen;
  Pause& p = it->second;
  if (now < p.until) {
    *until = p.until;
    return Gate::kHeld;
  }
  if (p.probing && now - p.probe_at < options_.pause_unreachable_ms) {
    // The probe's answer decides; until it comes, look again in a second.
    *until = now + 1000;
    return Gate::kHeld;
  }
  p.probing = true;
  p.probe_at = now;
  return Gate::kProbe;
}

void OutboxSender::heard_from(const std::string& platform, bool answered, int64_t now) {
  if (options_.pause_unreachable_ms <= 0) return;
  std::lock_guard lock(pause_mu_);
  Pause& p = pauses_[platform];
  if (answered) {
    if (p.paused) std::cerr << "nivaran: outbox: " << platform << " answers again; sending\n";
    p = Pause{};
    return;
  }
  if (!p.paused) {
    std::cerr << "nivaran: outbox: " << platform << " did not answer; holding its replies for "
              << options_.pause_unreachable_ms / 1000 << " s\n";
  }
  p.paused = true;
  p.probing = false;
  p.until = now + options_.pause_unreachable_ms;
}

void OutboxSender::remember_held(const std::string& chat, const std::string& id, int64_t due) {
  std::lock_guard lock(pause_mu_);
  held_chats_[chat] = HeldChat{id, due};
}

void OutboxSender::returned_held(const std::string& chat, const std::string& retry_of) {
  std::lock_guard lock(pause_mu_);
  auto it = held_chats_.find(chat);
  if (it != held_chats_.end() && it->second.id == retry_of) held_chats_.erase(it);
}

bool OutboxSender::waits_behind_held(const std::string& chat, int64_t now, int64_t* until) {
  std::lock_guard lock(pause_mu_);
  auto it = held_chats_.find(chat);
  if (it == held_chats_.end()) return false;
  // The held entry is given back at its due time and read soon after; should it not come
  // back to this process (another one took it), the conversation waits no longer than this.
  constexpr int64_t kGraceMs = 2000;
  if (now >= it->second.due + kGraceMs) {
    held_chats_.erase(it);
    return false;
  }
  *until = std::max(now, it->second.due);
  return true;
}

void OutboxSender::unprobe(const std::string& platform) {
  std::lock_guard lock(pause_mu_);
  auto it = pauses_.find(platform);
  if (it != pauses_.end()) it->second.probing = false;
}

bool OutboxSender::paused(const std::string& platform) {
  std::lock_guard lock(pause_mu_);
  auto it = pauses_.find(platform);
  return it != pauses_.end() && it->second.paused;
}

int64_t OutboxSender::hold_until(const std::string& platform, int64_t earliest) {
  std::lock_guard lock(pause_mu_);
  int64_t& last = last_hold_[platform];
  last = std::max(earliest, last + 1);
  return last;
}

// One outbox entry being sent: reply `k`, call `c` of its rendered calls.
struct OutboxSender::Job {
  std::string id;
  json entry;
  const Handler* handler = nullptr;
  size_t k = 0;
  std::vector<ApiCall> calls;
  size_t c = 0;
  bool reclaimed = false;
  bool done = false;
  bool lost = false;  // taken over by another worker: neither sent nor finished here
  std::string chat;  // platform + chat id: one conversation's entries go out in order
};

OutboundMessage OutboxSender::outbound(const Job& job) {
  OutboundMessage msg;
  msg.platform = job.entry.value("platform", "");
  msg.chat_id = job.entry.value("chat_id", "");
  msg.reply = job.entry["replies"][job.k].get<Reply>();
  if (job.k == 0) msg.callback_id = job.entry.value("callback_id", "");
  msg.kind = job.entry.value("kind", "");
  msg.outside_window = job.entry.value("outside_window", false);
  return msg;
}

size_t OutboxSender::sent_parts(const Job& job) {
  // Counted against the reply rendered without the button press's acknowledgement, which a
  // retry does not repeat once made: the calls beyond the plain rendering are that.
  size_t made = job.c;
  if (made > 0 && job.k == 0 && !job.entry.value("callback_id", "").empty()) {
    OutboundMessage plain = outbound(job);
    plain.callback_id.clear();
    const size_t plain_calls = job.handler->render(plain).size();
    const size_t acks = job.calls.size() - std::min(job.calls.size(), plain_calls);
    made -= std::min(made, acks);
  }
  const int64_t before =
      job.k == 0 ? std::max<int64_t>(0, job.entry.value("skip_calls", int64_t{0})) : 0;
  return static_cast<size_t>(before) + made;
}

Status OutboxSender::send_batch(const std::string& consumer, std::vector<Pending>& pending,
                                uint64_t turn) {
  std::vector<std::string> finished;  // (id, retry payload, due) triples for finish()
  auto finish_job = [this, &finished](Job& job, const std::string& retry, int64_t due) {
    job.done = true;
    finished.push_back(job.id);
    finished.push_back(retry);
    finished.push_back(std::to_string(due));
    if (auto back = job.entry.find("retry_of"); back != job.entry.end() && back->is_string()) {
      returned_held(job.chat, back->get<std::string>());  // new entries need not wait for it
    }
  };

  std::vector<Job> jobs;
  jobs.reserve(pending.size());
  for (Pending& p : pending) {
    Job job;
    job.id = p.id;
    job.reclaimed = p.reclaimed;
    if (p.chat.empty()) {  // queue_up() found it malformed
      if (Status st = dead_letter(json::object(), p.payload, "malformed outbox entry"); !st.is_ok())
        return st;
      finish_job(job, "", 0);
      continue;
    }
    job.entry = std::move(p.entry);
    auto h = handlers_.find(job.entry.value("platform", ""));
    job.handler = h == handlers_.end() ? nullptr : h->second.get();
    job.chat = p.chat;
    if (p.reclaimed) {
      auto progress = redis_.command({"HGET", keys::outbox_progress(), p.id});
      if (!progress.ok()) return progress.status();
      if (progress->is_error()) return redis_error(progress.value());
      if (!progress->is_nil() && progress->str.rfind("sending:", 0) == 0) {
        // Unreadable progress is taken as the first reply having left: never sent twice.
        size_t k = sending_index(progress->str).value_or(0);
        if (k < job.entry["replies"].size()) {
          Status st = dead_letter(job.entry, job.entry["replies"][k],
                                  "delivery uncertain: a sender stopped while sending this reply; "
                                  "not resent to avoid sending it twice");
          if (!st.is_ok()) return st;
        }
        job.k = k + 1;
      }
    }
    jobs.push_back(std::move(job));
  }

  // Drops the jobs another worker has taken over (see keep()): that worker sends them now.
  auto drop_lost = [&jobs, &consumer](const std::vector<std::string>& lost) {
    for (Job& job : jobs) {
      if (job.lost || std::find(lost.begin(), lost.end(), job.id) == lost.end()) continue;
      std::cerr << "nivaran: outbox: " << consumer << " lost entry " << job.id
                << " to another worker; leaving it to that one\n";
      job.done = true;  // not finished here: acknowledging it would take it from its new owner
      job.lost = true;
    }
  };

  // Rounds: each round sends the next call of every job at once (different conversations in
  // parallel); a conversation's later entry waits until its earlier one is done.
  // A conversation that an earlier batch of another worker still holds waits for it.
  // The batch's entries are kept this worker's while it lasts: their idle time is reset every
  // third of reclaim_idle_ms (reading them just did), so a batch that waits on slow calls or
  // on another batch's turn is not taken over and sent twice.
  int64_t kept_at = clock_();
  while (true) {
    if (clock_() - kept_at >= options_.reclaim_idle_ms / 3) {
      std::vector<std::string> ids;  // done ones too: they stay pending until finish()
      for (const Job& job : jobs) {
        if (!job.lost) ids.push_back(job.id);
      }
      auto lost = keep(consumer, ids);
      if (!lost.ok()) return lost.status();
      drop_lost(lost.value());
      kept_at = clock_();
    }
    std::vector<Job*> active;
    std::vector<std::string> busy_chats;
    bool waiting = false;
    for (Job& job : jobs) {
      if (job.done) continue;
      if (std::find(busy_chats.begin(), busy_chats.end(), job.chat) != busy_chats.end()) continue;
      busy_chats.push_back(job.chat);
      if (!first_for(job.chat, turn)) {
        waiting = true;
        continue;
      }
      active.push_back(&job);
    }
    if (active.empty() && !waiting) break;
    if (active.empty()) {
      std::unique_lock lock(turns_mu_);
      turns_cv_.wait_for(lock, std::chrono::milliseconds(50));
      continue;
    }

    // Render the next reply of jobs between replies, recording that it is about to leave (and
    // resetting the entry's idle time, so no other worker takes it over meanwhile).
    std::vector<std::string> marks = {"HSET", keys::outbox_progress()};  // field value ...
    std::vector<Job*> sending;
    for (Job* job : active) {
      const json& replies = job->entry["replies"];
      while (job->c == 0 && job->calls.empty() && !job->done) {
        if (job->k >= replies.size()) {
          finish_job(*job, "", 0);
          break;
        }
        if (!job->handler) {
          Status st = dead_letter(job->entry, replies[job->k],
                                  "platform is not configured in this process");
          if (!st.is_ok()) return st;
          ++job->k;
          continue;
        }
        job->calls = job->handler->render(outbound(*job));
        if (job->k == 0) {
          // A retry of a reply sent in several parts, some of which went out: not again.
          const int64_t want = std::max<int64_t>(0, job->entry.value("skip_calls", int64_t{0}));
          const auto skip = std::min<int64_t>(want, static_cast<int64_t>(job->calls.size()));
          job->calls.erase(job->calls.begin(), job->calls.begin() + skip);
        }
        if (job->calls.empty()) {
          ++job->k;
          continue;
        }
      }
      if (!job->done) sending.push_back(job);
    }
    // Replies that may not begin now wait in the delay set, not counted as attempts: those of
    // a paused platform (see pause_unreachable_ms) and those over their platform's send rate.
    // Only whole replies wait, never the rest of a reply already begun.
    const int64_t now = clock_();
    std::vector<std::pair<Job*, int64_t>> held;  // job, earliest time it may go
    std::vector<Job*> probes;                      // replies that end a pause if answered
    // And a new entry of a conversation whose earlier entry this process has held back: it
    // waits behind that one, which comes back as a later stream entry (waits_behind_held()).
    std::set<const Job*> waiting_behind;
    {
      std::vector<Job*> open;
      for (Job* job : sending) {
        int64_t until = 0;
        if (job->c == 0 && job->k == 0 && !job->entry.contains("retry_of") &&
            waits_behind_held(job->chat, now, &until)) {
          held.emplace_back(job, until);
          waiting_behind.insert(job);
        } else {
          open.push_back(job);
        }
      }
      sending = std::move(open);
    }
    if (options_.pause_unreachable_ms > 0) {
      std::vector<Job*> open;
      for (Job* job : sending) {
        if (job->c != 0) {
          open.push_back(job);
          continue;
        }
        int64_t until = 0;
        Gate gate = pause_gate(job->entry.value("platform", ""), now, &until);
        if (gate == Gate::kHeld) {
          metrics::counters().outbox_paused++;
          held.emplace_back(job, until);
        } else {
          if (gate == Gate::kProbe) probes.push_back(job);
          open.push_back(job);
        }
      }
      sending = std::move(open);
    }
    // Per-platform send rates, shared by every process: a reply that would go over its
    // platform's rate this second waits for the next second.
    if (!options_.sends_per_second.empty()) {
      std::map<std::string, std::vector<Job*>> starting;  // platform → jobs beginning a reply
      for (Job* job : sending) {
        if (job->c != 0) continue;
        const std::string platform = job->entry.value("platform", "");
        if (options_.sends_per_second.count(platform)) starting[platform].push_back(job);
      }
      if (!starting.empty()) {
        std::vector<std::vector<std::string>> counts;
        for (const auto& [platform, list] : starting) {
          const std::string key = keys::rate_window("send:" + platform, now / 1000);
          counts.push_back({"INCRBY", key, std::to_string(list.size())});
          counts.push_back({"PEXPIRE", key, "2000", "NX"});
        }
        auto counted = redis_.pipeline(counts);
        if (!counted.ok()) return counted.status();
        for (const auto& c : counted.value()) {
          if (c.is_error()) return redis_error(c);
        }
        thread_local std::mt19937 rng{std::random_device{}()};
        const int64_t next_second =
            now + 1000 - now % 1000 + std::uniform_int_distribution<int64_t>(0, 200)(rng);
        size_t i = 0;
        for (const auto& [platform, list] : starting) {
          const int64_t total = counted->at(2 * i++).integer;
          const int64_t before = total - static_cast<int64_t>(list.size());
          const int64_t room = std::max<int64_t>(0, options_.sends_per_second.at(platform) - before);
          for (size_t j = static_cast<size_t>(room); j < list.size(); ++j) {
            metrics::counters().outbox_rate_limited++;
            held.emplace_back(list[j], next_second);
            sending.erase(std::find(sending.begin(), sending.end(), list[j]));
            // A probe held back is not out: the next reply to the platform probes instead.
            if (std::find(probes.begin(), probes.end(), list[j]) != probes.end())
              unprobe(platform);
          }
        }
      }
    }
    if (!held.empty()) {
      // A conversation's later entries in this batch wait with it, so its order holds; but
      // when it only waits behind a held-back entry, that entry (and any other one coming back)
      // goes on: it is the one to go first.
      std::map<std::string, int64_t> held_chats;
      std::set<std::string> only_waiting;
      for (const auto& [job, until] : held) {
        auto [it, fresh] = held_chats.emplace(job->chat, until);
        if (!fresh) it->second = std::max(it->second, until);
        if (fresh && waiting_behind.count(job)) only_waiting.insert(job->chat);
        if (!waiting_behind.count(job)) only_waiting.erase(job->chat);
      }
      for (Job& job : jobs) {
        if (job.done) continue;
        auto chat = held_chats.find(job.chat);
        if (chat == held_chats.end()) continue;
        if (only_waiting.count(job.chat) && job.entry.contains("retry_of")) continue;
        if (std::find_if(held.begin(), held.end(), [&job](const auto& h) {
              return h.first == &job;
            }) != held.end()) {
          continue;
        }
        held.emplace_back(&job, chat->second);
        auto in_round = std::find(sending.begin(), sending.end(), &job);
        if (in_round != sending.end()) sending.erase(in_round);
      }
      // In batch order, so that the delay set, which gives entries back by due time, keeps it.
      std::stable_sort(held.begin(), held.end(), [](const auto& a, const auto& b) {
        return a.first < b.first;  // jobs lie in one vector, in batch order
      });
      // A reply held for a paused platform longer than its retries could have taken becomes a
      // dead letter, so that staff learn of it instead of it waiting unseen.
      const int64_t give_up_ms = options_.max_backoff_ms * options_.max_attempts;
      for (const auto& [job, until] : held) {
        const json& replies = job->entry["replies"];
        const std::string platform = job->entry.value("platform", "");
        json later = job->entry;
        later.erase("held_since");
        if (paused(platform)) {
          const int64_t since = job->entry.value("held_since", now);
          if (now - since >= give_up_ms) {
            for (size_t j = job->k; j < replies.size(); ++j) {
              Status st = dead_letter(job->entry, replies[j],
                                      platform + " did not answer for " +
                                          std::to_string((now - since) / 60000) +
                                          " minutes; not sent");
              if (!st.is_ok()) return st;
            }
            finish_job(*job, "", 0);
            continue;
          }
          later["held_since"] = since;
        }
        later["replies"] = json(std::vector<json>(replies.begin() + job->k, replies.end()));
        later["retry_of"] = job->id;
        if (job->k > 0) {
          later["callback_id"] = "";
          later.erase("skip_calls");  // it was about reply 0, now sent
        }
        const int64_t due = hold_until(platform, until);
        finish_job(*job, json_text(later), due);
        remember_held(job->chat, job->id, due);
      }
    }
    // A reply that begins after an earlier one of its entry, or of an entry taken over, first
    // makes sure the entry is still this worker's (and resets its idle time).
    std::vector<std::string> claim;
    for (Job* job : sending) {
      if (job->c == 0 && (job->k > 0 || job->reclaimed)) claim.push_back(job->id);
    }
    if (!claim.empty()) {
      auto lost = keep(consumer, claim);
      if (!lost.ok()) return lost.status();
      drop_lost(lost.value());
      std::erase_if(sending, [](const Job* job) { return job->done; });
    }
    for (Job* job : sending) {
      if (job->c != 0) continue;  // marked when its reply began
      marks.push_back(job->id);
      marks.push_back("sending:" + std::to_string(job->k));
    }
    if (marks.size() > 2) {  // one command for the round's marks
      auto marked = redis_.command(marks);
      if (!marked.ok()) return marked.status();
      // Unmarked, a reply could be sent again after a crash: send nothing this time.
      if (marked->is_error()) return redis_error(marked.value());
    }
    if (sending.empty()) continue;

    std::vector<ApiCall> calls;
    // Each call goes out once: a retry renders its reply again, and only the number of a
    // reply's calls is read after this.
    for (Job* job : sending) calls.push_back(std::move(job->calls[job->c]));
    std::vector<ApiResponse> responses = transport_.send_all(calls);

    for (size_t i = 0; i < sending.size(); ++i) {
      Job& job = *sending[i];
      const json& replies = job.entry["replies"];
      // Status 0: no answer at all (timeout, refused connection; see ApiTransport).
      heard_from(job.entry.value("platform", ""), responses[i].status != 0, clock_());
      SendOutcome outcome = job.handler->classify(responses[i]);
      auto next_reply = [&job] {
        ++job.k;
        job.c = 0;
        job.calls.clear();
      };
      if (outcome.kind == SendOutcome::Kind::kSent) {
        if (++job.c == job.calls.size()) {
          metrics::counters().outbox_sent++;
          next_reply();
        }
        continue;
      }
      if (outcome.kind == SendOutcome::Kind::kPermanent) {
        Status st = dead_letter(job.entry, replies[job.k], outcome.reason);
        if (!st.is_ok()) return st;
        next_reply();  // this reply is given up; go on with the next one
        continue;
      }
      // Transient: retry replies k.. later, as a new entry.
      int attempt = job.entry.value("attempt", 0) + 1;
      if (attempt >= options_.max_attempts) {
        for (size_t j = job.k; j < replies.size(); ++j) {
          Status st = dead_letter(job.entry, replies[j],
                                  "gave up after " + std::to_string(attempt) + " attempts: " +
                                      outcome.reason);
          if (!st.is_ok()) return st;
        }
        finish_job(job, "", 0);
        continue;
      }
      int64_t delay = outcome.retry_after_s > 0
                          ? outcome.retry_after_s * 1000LL
                          : std::min(options_.max_backoff_ms,
                                     options_.base_backoff_ms << std::min(attempt - 1, 20));
      thread_local std::mt19937 rng{std::random_device{}()};
      delay += std::uniform_int_distribution<int64_t>(0, delay / 4)(rng);  // spread the herd
      json retry = job.entry;
      retry.erase("held_since");  // a try was made: a later pause counts afresh
      retry["replies"] = json(std::vector<json>(replies.begin() + job.k, replies.end()));
      retry["attempt"] = attempt;
      retry["retry_of"] = job.id;  // also makes the delayed-set member unique
      if (job.k > 0 || job.c > 0) retry["callback_id"] = "";  // the press was acknowledged
      // Parts of this reply that went out are not sent again (a long reply is several calls).
      if (size_t skip = sent_parts(job); skip > 0) {
        retry["skip_calls"] = skip;
      } else {
        retry.erase("skip_calls");
      }
      metrics::counters().outbox_retried++;
      finish_job(job, json_text(retry), clock_() + delay);
    }
  }
  return finish(finished);
}

}  // namespace nivaran
