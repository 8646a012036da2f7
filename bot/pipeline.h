// The inbound pipeline: one platform-neutral message in, one atomic commit out.
//
// For each message: read the session and dedupe flag (one round trip), run the pure dialog step,
// assign a ticket reference if the step filed one, and commit session, transcript, ticket and
// outbox entry in one script. A lost compare-and-set race re-reads and re-steps; a redelivered
// message is a no-op. Success means the message is durable and may be acknowledged (HTTP 200).
// A step that throws (a bug) must not block the citizen's platform with endless redeliveries: the
// message is committed with the error in the transcript, the session unchanged, and an apology.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bot/conversation_store.h"
#include "bot/session_cache.h"
#include "bot/sla.h"
#include "core/message.h"
#include "core/status.h"
#include "dialogs/engine.h"

namespace nivaran {

struct Processed {
  bool duplicate = false;
  std::vector<Reply> replies;      // what the citizen is sent (already queued in the outbox)
  std::string ticket_ref;          // the ticket this message filed, if any
};

struct PipelineOptions {
  std::map<std::string, std::string> ticket_prefixes;  // district code → reference prefix
  std::string triage_prefix = "BRG";                   // tickets outside the range's districts
  bool queue_replies = true;  // false for the terminal, which prints replies itself
  // Platforms the bot serves itself (the web chat): replies go to keys::local_inbox, read by
  // the page, instead of the outbox.
  std::set<std::string> local_platforms = {"webchat"};
  int max_conflict_retries = 50;  // with backoff: about a second before giving up (503)
  int utc_offset_minutes = 330;
  SlaPolicy sla;  // deadlines a new ticket starts with
  // Intake: at most this many tickets per mobile number within the window (0: no limit).
  int intake_limit = 10;
  int64_t intake_window_ms = 30LL * 24 * 3600 * 1000;
  // The same mobile filing the same category on another platform within this time is linked
  // to the earlier ticket instead of opening a second one.
  int64_t link_window_ms = 24LL * 3600 * 1000;
};

class Pipeline {
 public:
  using Clock = std::function<int64_t()>;  // milliseconds since the epoch
  // The dialog step; dialogs::step except in tests.
  using StepFunction = std::function<dialogs::StepResult(
      const dialogs::Flow&, const dialogs::ReferenceData&, const dialogs::Session&,
      const InboundMessage&, const dialogs::StepContext&)>;

  // `cache` (may be null: always read Redis) remembers sessions this process committed, so the
  // next message of a conversation skips the read; see session_cache.h.
  Pipeline(ConversationStore& store, const dialogs::Flow& flow, const dialogs::ReferenceData& ref,
           PipelineOptions options, Clock clock, StepFunction step = dialogs::step,
           SessionCache* cache = nullptr);

  // Processes one message. unavailable() when Redis cannot be reached or the conversation stays
  // contended; the caller answers 503 so the platform redelivers.
  Result<Processed> process(const InboundMessage& msg);

 private:
  // Filled in by one attempt; committed by process().
  struct Draft {
    ConversationCommit commit;
    std::vector<Reply> replies;
    std::string reply_kind;  // "mention": a public answer
    std::optional<dialogs::Session> session;  // as committed, after an ordinary step
  };
  Result<Processed> record_receipt(const InboundMessage& msg);
  // The ordinary path: the dialog step and its effects.
  Status draft_step(const InboundMessage& msg, const LoadedSession& loaded,
                    const dialogs::Session& stored, int64_t now, Draft& d);
  // The bot's replies, into the draft's transcript and its outbox entry (or local inbox).
  void record_replies(const InboundMessage& msg, int64_t now, Draft& d) const;
  // After a commit that filed a ticket: its reference in place of the placeholder.
  static void name_new_ticket(const std::string& ref, Draft& d);
  // After a commit: caches the session as Redis now holds it, or forgets it when that is not
  // known exactly.
  void remember(const std::string& cache_key, const LoadedSession& loaded, Draft& d);
  // A public mention: a docket in the triage queue and a short public answer.
  Status draft_mention(const InboundMessage& msg, const dialogs::Session& session, int64_t now,
                       Draft& d);
  // The answer to "are you satisfied?"; false when `msg` is not one (or the ticket moved on).
  Result<bool> draft_feedback(const InboundMessage& msg, const LoadedSession& loaded,
                              const dialogs::Session& session, int64_t now, Draft& d);
  // Intake limit and cross-platform linking, before a ticket is created. Returns true when
  // the draft was turned into a refusal or a link (no new ticket).
  // Makes the open ticket `ref` urgent in this message's commit (an emergency written about it).
  Status raise_to_urgent(const std::string& ref, const InboundMessage& msg, int64_t now, Draft& d);
  Result<bool> intake_check(const InboundMessage& msg, const nlohmann::json& data,
                            dialogs::Session& session, int64_t now, Draft& d);
  std::string text(const std::string& key, const std::string& lang) const;

  ConversationStore& store_;
  const dialogs::Flow& flow_;
  const dialogs::ReferenceData& ref_;
  PipelineOptions options_;
  Clock clock_;
  StepFunction step_;
  SessionCache* cache_;
};

// The key a mobile number is indexed under: a keyed hash, so the number never appears in Redis
// key names (keys::mobile_tickets).
std::string mobile_key(const std::string& mobile);

// A fresh id, unique across processes with overwhelming probability (time + 64 random bits).
std::string make_unique_id(int64_t now_ms);

// Milliseconds since the epoch from the system clock.
int64_t system_now_ms();

}  // namespace nivaran
