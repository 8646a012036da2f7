#include "bot/metrics.h"

#include <cstdio>

namespace nivaran::metrics {

Counters& counters() {
  static Counters c;
  return c;
}

std::string render_prometheus() {
  const Counters& c = counters();
  std::string out;
  auto metric = [&out](const char* name, const char* help, const char* type,
                        const std::string& value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
           name + " " + value + "\n";
  };
  auto counter = [&metric](const char* name, const char* help, uint64_t value) {
    metric(name, help, "counter", std::to_string(value));
  };
  counter("nivaran_webhook_requests_total", "Webhook requests received.", c.webhook_requests);
  counter("nivaran_webhook_rejected_total", "Webhook requests answered 4xx.", c.webhook_rejected);
  counter("nivaran_webhook_unavailable_total", "Webhook requests answered 503.",
          c.webhook_unavailable);
  counter("nivaran_messages_processed_total", "Inbound messages committed.",
          c.messages_processed);
  counter("nivaran_messages_duplicate_total", "Redelivered messages ignored.",
          c.messages_duplicate);
  counter("nivaran_tickets_created_total", "Tickets filed.", c.tickets_created);
  counter("nivaran_session_cache_hits_total",
          "Messages stepped on a session cached in this process instead of one read from Redis.",
          c.session_cache_hits);
  counter("nivaran_session_cache_stale_total",
          "Cached sessions the commit found out of date; the message was stepped again after a read.",
          c.session_cache_stale);
  counter("nivaran_outbox_sent_total", "Replies delivered to platforms.", c.outbox_sent);
  counter("nivaran_outbox_retried_total", "Replies scheduled for another attempt.",
          c.outbox_retried);
  counter("nivaran_outbox_rate_limited_total",
          "Replies held back a moment for their platform's send rate.", c.outbox_rate_limited);
  counter("nivaran_outbox_paused_total",
          "Replies held back while their platform did not answer (timeouts, refused connections).",
          c.outbox_paused);
  counter("nivaran_outbox_dead_lettered_total", "Replies that could not be delivered.",
          c.outbox_dead_lettered);
  char lag[32];
  std::snprintf(lag, sizeof lag, "%.3f", static_cast<double>(c.outbox_lag_ms.load()) / 1000);
  metric("nivaran_outbox_lag_seconds",
         "Age of the oldest new reply at this process's last read of the outbox; growing, the "
         "replies are falling behind.",
         "gauge", lag);
  return out;
}

}  // namespace nivaran::metrics
