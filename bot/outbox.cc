#include "bot/outbox.h"

#include <algorithm>
#include <chrono>
#include <random>

#include <nlohmann/json.hpp>

#include "bot/keys.h"
#include "bot/metrics.h"

namespace nivaran {

using nlohmann::json;

namespace {

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// KEYS: 1 delayed set, 2 outbox stream. ARGV: 1 now ms. Moves up to 100 due entries.
const RedisScript kPromoteScript(R"lua(
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 100)
for _, payload in ipairs(due) do
  redis.call('XADD', KEYS[2], '*', 'm', payload)
  redis.call('ZREM', KEYS[1], payload)
end
return #due
)lua");

// KEYS: 1 outbox stream, 2 progress hash, 3 delayed set. ARGV: 1 group, 2 entry id,
// 3 retry payload ('' for none), 4 due ms. Finishes an entry, scheduling its retry atomically.
const RedisScript kFinishScript(R"lua(
if ARGV[3] ~= '' then
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[3])
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[2])
return 1
)lua");

Status redis_error(const RedisValue& v) {
  return Status::unavailable("Redis: " + v.str);
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
        auto n = group_ready ? run_once(consumer, options_.block_ms, housekeeping)
                             : Result<int>(Status::unavailable("no consumer group"));
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

Result<int> OutboxSender::reclaim(const std::string& consumer) {
  auto r = redis_.command({"XAUTOCLAIM", keys::outbox(), keys::kOutboxGroup, consumer,
                           std::to_string(options_.reclaim_idle_ms), "0-0", "COUNT", "10"});
  if (!r.ok()) return r.status();
  if (r->is_error()) return redis_error(r.value());
  int handled = 0;
  if (r->elements.size() < 2) return 0;
  for (const auto& entry : r->elements[1].elements) {
    if (entry.elements.size() < 2 || entry.elements[1].is_nil()) continue;
    Status st = handle(consumer, entry.elements[0].str, field_m(entry.elements[1]), true);
    if (!st.is_ok()) return st;
    ++handled;
  }
  return handled;
}

Result<int> OutboxSender::run_once(const std::string& consumer, int block_ms, bool housekeeping) {
  Result<int> reclaimed = 0;
  if (housekeeping) {
    if (Status st = promote_due(); !st.is_ok()) return st;
    reclaimed = reclaim(consumer);
    if (!reclaimed.ok()) return reclaimed.status();
  }
  auto r = redis_.command({"XREADGROUP", "GROUP", keys::kOutboxGroup, consumer, "COUNT", "16",
                           "BLOCK", std::to_string(block_ms), "STREAMS", keys::outbox(), ">"});
  if (!r.ok()) return r.status();
  if (r->is_error()) return redis_error(r.value());
  int handled = reclaimed.value();
  if (r->is_nil()) return handled;
  for (const auto& stream : r->elements) {
    if (stream.elements.size() < 2) continue;
    for (const auto& entry : stream.elements[1].elements) {
      if (entry.elements.size() < 2) continue;
      Status st = handle(consumer, entry.elements[0].str, field_m(entry.elements[1]), false);
      if (!st.is_ok()) return st;
      ++handled;
    }
  }
  return handled;
}

Status OutboxSender::dead_letter(const json& entry, const json& reply, const std::string& reason) {
  metrics::counters().outbox_dead_lettered++;
  json record = {{"platform", entry.value("platform", "")},
                 {"chat_id", entry.value("chat_id", "")},
                 {"reply", reply},
                 {"reason", reason},
                 {"at", clock_()}};
  auto r = redis_.command({"XADD", keys::dead_letters(), "MAXLEN", "~", "100000", "*", "m",
                           dump(record)});
  if (!r.ok()) return r.status();
  return Status::ok();
}

Status OutboxSender::handle(const std::string& consumer, const std::string& id,
                           const std::string& payload, bool reclaimed) {
  json entry = json::parse(payload, nullptr, false);
  auto finish = [&](const std::string& retry_payload, int64_t due_ms) -> Status {
    auto r = redis_.eval(kFinishScript,
                         {keys::outbox(), keys::outbox_progress(), keys::outbox_delayed()},
                         {keys::kOutboxGroup, id, retry_payload, std::to_string(due_ms)});
    if (!r.ok()) return r.status();
    if (r->is_error()) return redis_error(r.value());
    return Status::ok();
  };
  if (entry.is_discarded() || !entry.is_object() || !entry.contains("replies") ||
      !entry["replies"].is_array()) {
    if (Status st = dead_letter(json::object(), payload, "malformed outbox entry"); !st.is_ok()) return st;
    return finish("", 0);
  }
  const json& replies = entry["replies"];
  size_t start = 0;
  if (reclaimed) {
    auto progress = redis_.command({"HGET", keys::outbox_progress(), id});
    if (!progress.ok()) return progress.status();
    if (!progress->is_nil() && progress->str.rfind("sending:", 0) == 0) {
      size_t k = std::stoul(progress->str.substr(8));
      if (k < replies.size()) {
        Status st = dead_letter(entry, replies[k],
                                "delivery uncertain: a sender stopped while sending this reply; "
                                "not resent to avoid sending it twice");
        if (!st.is_ok()) return st;
      }
      start = k + 1;
    }
  }

  auto handler_it = handlers_.find(entry.value("platform", ""));
  for (size_t k = start; k < replies.size(); ++k) {
    if (handler_it == handlers_.end()) {
      Status st = dead_letter(entry, replies[k], "platform is not configured in this process");
      if (!st.is_ok()) return st;
      continue;
    }
    // Record that reply k is about to leave, and reset the entry's idle time so that no other
    // worker takes it over while this one is working.
    auto marked = redis_.pipeline(
        {{"HSET", keys::outbox_progress(), id, "sending:" + std::to_string(k)},
         {"XCLAIM", keys::outbox(), keys::kOutboxGroup, consumer, "0", id, "JUSTID"}});
    if (!marked.ok()) return marked.status();

    OutboundMessage msg;
    msg.platform = entry.value("platform", "");
    msg.chat_id = entry.value("chat_id", "");
    msg.reply = replies[k].get<Reply>();
    if (k == 0) msg.callback_id = entry.value("callback_id", "");

    const std::vector<ApiCall> calls = handler_it->second->render(msg);
    for (size_t c = 0; c < calls.size(); ++c) {
      SendOutcome outcome = handler_it->second->classify(transport_.send(calls[c]));
      if (outcome.kind == SendOutcome::Kind::kSent) continue;
      if (outcome.kind == SendOutcome::Kind::kPermanent) {
        Status st = dead_letter(entry, replies[k], outcome.reason);
        if (!st.is_ok()) return st;
        break;  // this reply is given up; go on with the next one
      }
      // Transient: retry replies k.. later, as a new entry.
      int attempt = entry.value("attempt", 0) + 1;
      if (attempt >= options_.max_attempts) {
        for (size_t j = k; j < replies.size(); ++j) {
          Status st = dead_letter(entry, replies[j],
                                  "gave up after " + std::to_string(attempt) + " attempts: " +
                                      outcome.reason);
          if (!st.is_ok()) return st;
        }
        return finish("", 0);
      }
      int64_t delay = outcome.retry_after_s > 0
                          ? outcome.retry_after_s * 1000LL
                          : std::min(options_.max_backoff_ms,
                                     options_.base_backoff_ms << std::min(attempt - 1, 20));
      thread_local std::mt19937 rng{std::random_device{}()};
      delay += std::uniform_int_distribution<int64_t>(0, delay / 4)(rng);  // spread the herd
      json retry = entry;
      retry["replies"] = json(std::vector<json>(replies.begin() + k, replies.end()));
      retry["attempt"] = attempt;
      retry["retry_of"] = id;  // also makes the delayed-set member unique
      if (k > 0 || c > 0) retry["callback_id"] = "";  // the button press was acknowledged
      metrics::counters().outbox_retried++;
      return finish(dump(retry), clock_() + delay);
    }
    metrics::counters().outbox_sent++;
  }
  return finish("", 0);
}

}  // namespace nivaran
