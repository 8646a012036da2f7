// Service-level targets and the escalation ladder.
//
// Every ticket gets two deadlines when it is filed: a first response from staff and a
// resolution, by priority (config "sla"). They live in one sorted set (keys::sla_due). The
// scheduler, which any number of processes may run at once, takes due members one at a time:
// removing the member and escalating the ticket happen in one script, and only the process
// whose removal succeeded escalates, so each breach climbs the ladder exactly once:
// cell → nodal officer → SP → range IG. Each step is written to the ticket's history and the
// audit log with its reason, and the next deadline is set one more target period ahead.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bot/redis.h"
#include "core/status.h"

namespace nivaran {

struct SlaTarget {
  int64_t first_response_ms = 0;
  int64_t resolution_ms = 0;
};

struct SlaPolicy {
  std::map<std::string, SlaTarget> by_priority = {
      {"urgent", {15LL * 60 * 1000, 24LL * 3600 * 1000}},
      {"high", {60LL * 60 * 1000, 3LL * 24 * 3600 * 1000}},
      {"normal", {4LL * 3600 * 1000, 7LL * 24 * 3600 * 1000}},
  };
  int64_t check_interval_ms = 30 * 1000;

  // The target for `priority`; "normal"'s for an unknown one.
  const SlaTarget& target(const std::string& priority) const;
};

// The escalation ladder: level 0 is the cell the ticket was routed to.
const std::vector<std::string>& escalation_ladder();  // cell, nodal, sp, ig

// Reads the "sla" block: {"urgent"|"high"|"normal": {"first_response_minutes",
// "resolution_hours"}, "check_interval_seconds"}. Missing parts keep their defaults;
// invalid() names the field.
Result<SlaPolicy> sla_policy(const nlohmann::json& block);

// The deadline members a new ticket adds to keys::sla_due: score, member, score, member.
std::vector<std::string> initial_deadlines(const SlaPolicy& policy, const std::string& ref,
                                           const std::string& priority, int64_t created_at_ms);

class SlaScheduler {
 public:
  SlaScheduler(Redis& redis, SlaPolicy policy);

  // Escalates every deadline due at `now_ms` (at most `max` of them); returns how many this
  // call escalated. Safe to run from several processes at once.
  Result<int> run_once(int64_t now_ms, int max = 200);

 private:
  Redis& redis_;
  SlaPolicy policy_;
};

}  // namespace nivaran
