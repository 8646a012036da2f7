// Process-wide counters, rendered in the Prometheus text format at GET /metrics.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace nivaran::metrics {

struct Counters {
  std::atomic<uint64_t> webhook_requests{0};
  std::atomic<uint64_t> webhook_rejected{0};      // 4xx
  std::atomic<uint64_t> webhook_unavailable{0};   // 503
  std::atomic<uint64_t> messages_processed{0};
  std::atomic<uint64_t> messages_duplicate{0};
  std::atomic<uint64_t> tickets_created{0};
  std::atomic<uint64_t> session_cache_hits{0};    // steps taken on a cached session
  std::atomic<uint64_t> session_cache_stale{0};   // of those, refused by the commit and re-read
  std::atomic<uint64_t> outbox_sent{0};
  std::atomic<uint64_t> outbox_retried{0};
  std::atomic<uint64_t> outbox_rate_limited{0};  // replies held for their platform's send rate
  std::atomic<uint64_t> outbox_paused{0};  // replies held while their platform did not answer
  std::atomic<uint64_t> outbox_dead_lettered{0};
  // A gauge: how old the oldest new entry was when a worker of this process last read the
  // outbox (0 when that read found nothing new). Growing, it says the replies are falling behind.
  std::atomic<int64_t> outbox_lag_ms{0};
};

// The one set of counters of this process.
Counters& counters();

// Prometheus exposition text of every counter.
std::string render_prometheus();

}  // namespace nivaran::metrics
