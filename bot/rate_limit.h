// Fixed-window rate limits counted in Redis, so every process shares one count.
//
// A window is a counter key that expires with it (keys::rate_window). Fixed windows let a burst
// of twice the limit through at a window edge; for turning away floods that is good enough and
// costs one round trip.
#pragma once

#include <cstdint>
#include <string>

#include "bot/redis.h"
#include "core/status.h"

namespace nivaran {

struct RateLimit {
  int64_t limit = 0;       // requests per window; 0 turns the limit off
  int64_t window_ms = 60000;
};

// Counts one request for `what` (e.g. "webchat:addr:10.0.0.7") and says whether it is within
// `rule`. unavailable() when Redis cannot be reached.
Result<bool> rate_allow(Redis& redis, const std::string& what, const RateLimit& rule,
                        int64_t now_ms);

}  // namespace nivaran
