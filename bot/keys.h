// Every Redis key Nivaran writes, in one place. docs/redis-keys.md describes each one's type,
// owner and lifetime; keep the two in step.
#pragma once

#include <string>

namespace nivaran::keys {

// Hash {v: version, s: session JSON}; the dialog state of one citizen on one platform.
// Expires after sessions.ttl_seconds idle.
inline std::string session(const std::string& platform, const std::string& user) {
  return "nv:session:" + platform + ":" + user;
}

// String "1": this platform message id was committed. Expires after sessions.dedupe_ttl_seconds.
inline std::string seen(const std::string& platform, const std::string& message_id) {
  return "nv:seen:" + platform + ":" + message_id;
}

// Stream of transcript entries {e: JSON} of one complaint conversation (episode), in and out.
// Expires after sessions.draft_transcript_ttl_seconds unless a ticket was filed; then never.
inline std::string transcript(const std::string& episode) { return "nv:log:" + episode; }

// Hash: one ticket's fields. Never expires.
inline std::string ticket(const std::string& ref) { return "nv:ticket:" + ref; }

// Sorted set ref → created_at ms: every ticket. Never expires.
inline std::string all_tickets() { return "nv:tickets"; }

// Sorted set ref → created_at ms: a district's tickets ("triage" for the range queue).
inline std::string district_tickets(const std::string& district) {
  return "nv:tickets:district:" + district;
}

// Sorted set ref → created_at ms: the tickets one citizen filed from one platform account.
inline std::string citizen_tickets(const std::string& platform, const std::string& user) {
  return "nv:tickets:citizen:" + platform + ":" + user;
}

// String counter: the last ticket number issued for a reference prefix and year.
inline std::string ticket_sequence(const std::string& prefix, const std::string& yy) {
  return "nv:seq:ticket:" + prefix + ":" + yy;
}

// Stream {m: JSON} of replies waiting to be sent; consumer group "senders". Entries are
// deleted once sent or dead-lettered.
inline std::string outbox() { return "nv:outbox"; }
inline const char* kOutboxGroup = "senders";

// Hash entry id → "sending:K": the outbox entry's message K was handed to the network.
// A field lives only while its entry is pending.
inline std::string outbox_progress() { return "nv:outbox:progress"; }

// Sorted set JSON payload → due time ms: outbox entries waiting for a retry.
inline std::string outbox_delayed() { return "nv:outbox:delayed"; }

// Stream {m: JSON, reason}: replies that could not be delivered. Capped (MAXLEN ~ 100000).
inline std::string dead_letters() { return "nv:outbox:dead"; }

}  // namespace nivaran::keys
