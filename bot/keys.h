// Every Redis key Nivaran writes, in one place. docs/redis-keys.md describes each one's type,
// owner and lifetime; keep the two in step.
#pragma once

#include <cstdint>
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

// Sorted set ref → created_at ms: one queue index, e.g. nv:tickets:district:pilibhit:status:new
// or nv:tickets:range:category:cyber_fraud. `scope` is "range" or "district:<code>"
// (tickets::ticket_scopes); `dimension` is status, category or priority. The status indexes
// are moved in the same script that changes a ticket's status. Never expires.
inline std::string ticket_index(const std::string& scope, const std::string& dimension,
                                const std::string& value) {
  return "nv:tickets:" + scope + ":" + dimension + ":" + value;
}

// Sorted set ref → created_at ms: the tickets filed with one mobile number, for the intake
// limit and for linking the same complaint made on two platforms. The number itself never
// appears in a key: `mobile_key` is a hash of it (mobile_key() in bot/pipeline.cc). Never
// expires.
inline std::string mobile_tickets(const std::string& mobile_key) {
  return "nv:tickets:mobile:" + mobile_key;
}

// Stream {e: JSON}: everything that happened to one ticket after filing (status changes with
// who and why, replies, notes, escalations, the citizen's feedback). Never expires.
inline std::string ticket_history(const std::string& ref) { return "nv:history:" + ref; }

// Stream {e: JSON}: the append-only audit log of staff actions (logins and failed logins,
// reading a ticket's personal data, replies, notes, status changes) and escalations. No role can
// edit it; the service only ever XADDs. Never expires, never capped.
inline std::string audit() { return "nv:audit"; }

// Sorted set "first:<ref>" / "resolve:<ref>" → due ms: the SLA deadlines still running. The
// scheduler removes a member before escalating it, so each breach is escalated once.
inline std::string sla_due() { return "nv:sla:due"; }

// String counter: the last ticket number issued for a reference prefix and year.
inline std::string ticket_sequence(const std::string& prefix, const std::string& yy) {
  return "nv:seq:ticket:" + prefix + ":" + yy;
}

// Stream {r: reply JSON} of the bot's replies to a conversation on a platform the bot serves
// itself (the web chat), read by the page. Capped (MAXLEN ~ 1000); expires with the session.
inline std::string local_inbox(const std::string& platform, const std::string& chat) {
  return "nv:inbox:" + platform + ":" + chat;
}

// String "1": a web chat session id that was issued. Expires after webchat.session_ttl_seconds
// idle.
inline std::string webchat_session(const std::string& session) {
  return "nv:webchat:session:" + session;
}

// String counter: requests in one fixed rate-limit window, e.g. "webchat:addr:127.0.0.1".
// Expires with its window.
inline std::string rate_window(const std::string& what, int64_t window_index) {
  return "nv:rl:" + what + ":" + std::to_string(window_index);
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

// Stream {r: JSON}: what platforms reported about messages the bot sent ("sent", "delivered",
// "read"), {platform, chat_id, sent_id, state, at}. Capped (MAXLEN ~ 100000).
inline std::string receipts() { return "nv:receipts"; }

// Stream {m: JSON, reason}: replies that could not be delivered. Capped (MAXLEN ~ 100000).
inline std::string dead_letters() { return "nv:outbox:dead"; }

// Hash {login, role, district, password (scrypt$N$r$p$salt$hash), created_at, disabled "0"/"1"}:
// one staff account (Accounts). Never expires; disabled rather than deleted.
inline std::string staff_user(const std::string& login) { return "nv:staff:" + login; }

// Set of logins: every staff account ever added (Accounts::list_users). Never expires.
inline std::string staff_index() { return "nv:staff"; }

// Hash {login, created_at, expires_at, addr}: one console session, keyed by the SHA-256 (hex) of
// its bearer token so the store never holds a usable token. Expires auth.token_ttl_seconds
// after login.
inline std::string auth_token(const std::string& token_sha256_hex) {
  return "nv:auth:token:" + token_sha256_hex;
}

// Sorted set "ms:nonce" → ms: failed logins for one login name in the lock-out window. Expires
// a window after the last failure; deleted by a successful login.
inline std::string login_failures(const std::string& login) {
  return "nv:auth:failures:" + login;
}

}  // namespace nivaran::keys
