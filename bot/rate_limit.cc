#include "bot/rate_limit.h"

#include "bot/keys.h"

namespace nivaran {

Result<bool> rate_allow(Redis& redis, const std::string& what, const RateLimit& rule,
                        int64_t now_ms) {
  if (rule.limit <= 0 || rule.window_ms <= 0) return true;
  const std::string key = keys::rate_window(what, now_ms / rule.window_ms);
  auto r = redis.pipeline({{"INCR", key}, {"PEXPIRE", key, std::to_string(rule.window_ms), "NX"}});
  if (!r.ok()) return r.status();
  if (r->at(0).is_error()) return Status::unavailable("Redis: " + r->at(0).str);
  return r->at(0).integer <= rule.limit;
}

}  // namespace nivaran
