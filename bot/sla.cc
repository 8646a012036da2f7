#include "bot/sla.h"

#include "bot/keys.h"
#include "core/message.h"

namespace nivaran {

using nlohmann::json;

namespace {

// KEYS: 1 SLA deadlines, 2 ticket, 3 history, 4 audit
// ARGV: 1 member ("first:<ref>" | "resolve:<ref>"), 2 now ms, 3 targets JSON
//       {priority: [first_response_ms, resolution_ms]}, 4 ladder JSON
// Only the caller whose ZREM removed the member escalates: exactly once per breach.
const RedisScript kEscalateScript(R"lua(
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 'GONE' end
if redis.call('EXISTS', KEYS[2]) == 0 then return 'MISSING' end
local kind = string.sub(ARGV[1], 1, string.find(ARGV[1], ':') - 1)
local f = redis.call('HMGET', KEYS[2], 'status', 'first_response_at', 'escalation_level', 'priority', 'id')
local status, responded, level, priority, ref = f[1], f[2], tonumber(f[3] or '0'), f[4], f[5]
if status == 'resolved' or status == 'closed' then return 'DONE' end
if kind == 'first' and responded and responded ~= '' then return 'DONE' end
local ladder = cjson.decode(ARGV[4])
if level >= #ladder - 1 then return 'TOP' end
local targets = cjson.decode(ARGV[3])
local t = targets[priority] or targets['normal']
local period = kind == 'first' and t[1] or t[2]
local now = tonumber(ARGV[2])
level = level + 1
local role = ladder[level + 1]
local what = kind == 'first' and 'first response' or 'resolution'
local reason = string.format('%s overdue: target %d min for %s priority', what,
  math.floor(period / 60000), priority or 'normal')
redis.call('HSET', KEYS[2], 'escalation_level', level, 'escalated_to', role,
  'sla_breached', kind == 'first' and 'first_response' or 'resolution', 'updated_at', ARGV[2])
local entry = cjson.encode({at = now, by = 'system', role = 'system', action = 'escalated',
  to = role, level = level, reason = reason, ticket = ref})
redis.call('XADD', KEYS[3], '*', 'e', entry)
redis.call('XADD', KEYS[4], '*', 'e', entry)
if level < #ladder - 1 then
  redis.call('ZADD', KEYS[1], now + period, ARGV[1])
end
return 'ESCALATED'
)lua");

int64_t positive(const json& block, const std::string& path, const char* key, int64_t fallback,
                 int64_t unit_ms, std::string& error) {
  auto it = block.find(key);
  if (it == block.end()) return fallback;
  if (!it->is_number() || it->get<double>() <= 0) {
    if (error.empty()) error = path + "." + key + ": expected a number greater than 0";
    return fallback;
  }
  return static_cast<int64_t>(it->get<double>() * static_cast<double>(unit_ms));
}

}  // namespace

const SlaTarget& SlaPolicy::target(const std::string& priority) const {
  auto it = by_priority.find(priority);
  if (it != by_priority.end()) return it->second;
  return by_priority.at("normal");
}

const std::vector<std::string>& escalation_ladder() {
  static const std::vector<std::string> kLadder = {"cell", "nodal", "sp", "ig"};
  return kLadder;
}

Result<SlaPolicy> sla_policy(const json& block) {
  SlaPolicy p;
  if (block.is_null()) return p;
  if (!block.is_object()) return Status::invalid("sla: expected an object");
  std::string error;
  for (auto& [name, target] : p.by_priority) {
    auto it = block.find(name);
    if (it == block.end()) continue;
    const std::string path = "sla." + name;
    if (!it->is_object()) return Status::invalid(path + ": expected an object");
    target.first_response_ms =
        positive(*it, path, "first_response_minutes", target.first_response_ms, 60 * 1000, error);
    target.resolution_ms =
        positive(*it, path, "resolution_hours", target.resolution_ms, 3600 * 1000, error);
  }
  for (auto& [name, value] : block.items()) {
    if (name != "check_interval_seconds" && !p.by_priority.count(name)) {
      return Status::invalid("sla." + name + ": unknown priority; use urgent, high or normal");
    }
    (void)value;
  }
  p.check_interval_ms =
      positive(block, "sla", "check_interval_seconds", p.check_interval_ms, 1000, error);
  if (!error.empty()) return Status::invalid(error);
  return p;
}

std::vector<std::string> initial_deadlines(const SlaPolicy& policy, const std::string& ref,
                                           const std::string& priority, int64_t created_at_ms) {
  const SlaTarget& t = policy.target(priority);
  return {std::to_string(created_at_ms + t.first_response_ms), "first:" + ref,
          std::to_string(created_at_ms + t.resolution_ms), "resolve:" + ref};
}

SlaScheduler::SlaScheduler(Redis& redis, SlaPolicy policy)
    : redis_(redis), policy_(std::move(policy)) {}

Result<int> SlaScheduler::run_once(int64_t now_ms, int max) {
  auto due = redis_.command({"ZRANGEBYSCORE", keys::sla_due(), "-inf", std::to_string(now_ms),
                             "LIMIT", "0", std::to_string(max)});
  if (!due.ok()) return due.status();
  if (due->is_error()) return Status::unavailable("Redis: " + due->str);
  json targets = json::object();
  for (const auto& [name, t] : policy_.by_priority) {
    targets[name] = {t.first_response_ms, t.resolution_ms};
  }
  const std::string targets_json = json_text(targets);
  const std::string ladder_json = json_text(json(escalation_ladder()));
  int escalated = 0;
  for (const RedisValue& member : due->elements) {
    const std::string& m = member.str;
    auto colon = m.find(':');
    if (colon == std::string::npos) continue;
    const std::string ref = m.substr(colon + 1);
    auto r = redis_.eval(kEscalateScript,
                         {keys::sla_due(), keys::ticket(ref), keys::ticket_history(ref), keys::audit()},
                         {m, std::to_string(now_ms), targets_json, ladder_json});
    if (!r.ok()) return r.status();
    if (r->is_error()) return Status::unavailable("Redis: " + r->str);
    if (r->str == "ESCALATED") ++escalated;
  }
  return escalated;
}

}  // namespace nivaran
