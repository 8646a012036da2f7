// ConversationStore: reads a citizen's session and commits one inbound message's consequences
// (session, transcript, ticket, outbox) in ONE atomic Redis script.
//
// The commit is a compare-and-set on the session's version and a check of the message's dedupe
// key, so a redelivered message changes nothing and two deliveries for one citizen racing on two
// threads or processes never overwrite each other: the loser is told kConflict and retries.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bot/redis.h"
#include "core/status.h"

namespace nivaran {

struct LoadedSession {
  bool seen = false;          // the message id was committed before
  int64_t version = 0;        // 0 when there is no session yet
  std::string session_json;   // empty when there is no session yet
  std::string feedback_for;   // a resolved ticket whose "are you satisfied?" awaits an answer
  // The ticket the session has open, as last committed, and its status now ("" when the ticket
  // is missing). Sessions committed before this field existed have open_ticket "".
  std::string open_ticket;
  std::string open_ticket_status;
  std::string token;  // written by the last commit ('' none): see ConversationCommit::new_token
};

// What a message does to a ticket besides being added to it (the citizen's feedback closes or
// reopens it), or the history entry of a ticket the message files. Applied in the commit, to the
// attached ticket; when that ticket's status is no longer `expect_status` ("" any), the whole
// commit is refused as a conflict, so that the message is decided again on the ticket as it is.
struct TicketChange {
  std::string expect_status;
  std::vector<std::string> set;  // field, value, ...
  std::vector<std::string> index_remove;
  std::vector<std::string> index_add;
  int64_t score = 0;  // created_at: the order of every queue
  std::vector<std::string> sla_remove;
  std::vector<std::string> sla_add;  // score, member, ...
  std::vector<std::string> sla_tighten;  // score, member, ...: only an existing, later deadline
  std::string history;  // JSON entry for keys::ticket_history
  std::string audit;    // JSON entry for keys::audit

  bool empty() const { return set.empty() && history.empty() && audit.empty(); }
};

// Where a new ticket's reference comes from: "BLY-26-" and six digits from an INCR of
// `sequence` (keys::ticket_sequence), numbered per prefix and year.
struct TicketNumbering {
  std::string ref_prefix;  // e.g. "BLY-26-"
  std::string sequence;    // the counter's key
};

// The numbering of tickets under `prefix` (a district's, or triage's) filed at `now_ms` (UTC year).
TicketNumbering ticket_numbering(const std::string& prefix, int64_t now_ms);

// A fresh placeholder for a ticket reference not taken yet, unguessable, so no text a citizen
// typed can contain it.
std::string new_ticket_placeholder();

struct ConversationCommit {
  std::string platform;
  std::string user_id;
  std::string message_id;
  int64_t expected_version = 0;
  // The session's token as the step found it, and a fresh one this commit writes: versions
  // restart when a session hash expires and is created again, tokens never repeat.
  std::string expected_token;
  std::string new_token;
  std::string session_json;
  std::string open_ticket;               // the session's open ticket, kept beside it ('' none)
  // The ticket the step took to be open ('' none) and the status it took it to have: the commit
  // is refused as a conflict when that status has changed since (staff closed the ticket).
  std::string checked_ticket;
  std::string checked_ticket_status;
  std::string episode;                   // keys the transcript stream
  bool episode_has_ticket = false;       // keep the transcript for ever
  std::vector<std::string> transcript;   // JSON entries, in order
  std::string outbox_json;               // empty: nothing to send
  // A ticket this message files ('' none). Its reference is taken inside the commit, after the
  // commit's checks passed, so references have no gaps; until then every string of the commit
  // (ticket fields, SLA members, session, replies) names the ticket by this placeholder
  // (new_ticket_placeholder()), which the commit replaces. CommitResult::ticket_ref is the
  // reference it became.
  std::string new_ticket;
  TicketNumbering new_ticket_numbering;
  std::string new_ticket_district;       // queue the ticket goes to ("triage" outside the range)
  std::map<std::string, std::string> new_ticket_fields;
  std::vector<std::string> new_ticket_indexes;    // queue indexes it joins (ticket_index_keys)
  std::vector<std::string> new_ticket_deadlines;  // SLA: score, member, ... (initial_deadlines)
  TicketChange change;
  std::string attach_ticket_ref;         // the open ticket this message was added to
  // A platform the bot serves itself (the web chat) takes its replies from this stream instead
  // of the outbox: one entry {r: reply JSON} per reply. It expires with the session.
  std::string inbox_key;
  std::vector<std::string> inbox_entries;
  int64_t now_ms = 0;
};

struct StoreLimits {
  int64_t session_ttl_ms = 30LL * 24 * 3600 * 1000;
  int64_t dedupe_ttl_ms = 7LL * 24 * 3600 * 1000;
  int64_t draft_transcript_ttl_ms = 30LL * 24 * 3600 * 1000;
};

class ConversationStore {
 public:
  enum class Outcome { kCommitted, kDuplicate, kConflict };
  struct CommitResult {
    Outcome outcome = Outcome::kCommitted;
    std::string ticket_ref;  // the reference of the ticket the commit filed, if any
  };

  ConversationStore(Redis& redis, StoreLimits limits);

  // One round trip: the session, whether the message was seen, and the status of the ticket
  // the session has open.
  Result<LoadedSession> load(const std::string& platform, const std::string& user_id,
                             const std::string& message_id);


  // The status of ticket `ref` when it was filed from this platform account, or when `text`
  // holds the last 4 digits of the ticket's mobile number as a word of its own (a citizen asking
  // from another app); "" when there is no such ticket or it belongs to someone else (the two
  // are not told apart).
  Result<std::string> ticket_status_for(const std::string& ref, const std::string& platform,
                                        const std::string& user_id, const std::string& text = "");

  // Some fields of ticket `ref` (empty strings for missing ones; an empty map when there is no
  // such ticket).
  Result<std::map<std::string, std::string>> ticket_fields(const std::string& ref,
                                                           const std::vector<std::string>& names);

  // What intake needs to know of one mobile number's tickets (keys::mobile_tickets), in one
  // round trip: how many were filed since `count_since_ms`, and the newest `max_recent` filed
  // since `recent_since_ms`, newest first. Bounded, however many tickets the number has.
  struct MobileTickets {
    int64_t count = 0;
    std::vector<std::string> recent;
  };
  Result<MobileTickets> tickets_by_mobile(const std::string& mobile_key, int64_t count_since_ms,
                                          int64_t recent_since_ms, int max_recent);

  // ticket_fields() of several tickets, in one round trip; in the order of `refs`.
  Result<std::vector<std::map<std::string, std::string>>> tickets_fields(
      const std::vector<std::string>& refs, const std::vector<std::string>& names);

  Redis& redis() { return redis_; }

  // Applies the commit atomically, or nothing at all.
  Result<CommitResult> commit(const ConversationCommit& c);

  // Appends `record` as field `field` of an entry of the capped stream `stream` unless the
  // platform's message `message_id` was recorded before (the same dedupe key as a commit):
  // false for a redelivery. For what a platform reports besides messages (delivery receipts).
  Result<bool> record_once(const std::string& platform, const std::string& message_id,
                           const std::string& stream, const std::string& field,
                           const std::string& record);

 private:
  Redis& redis_;
  StoreLimits limits_;
};

}  // namespace nivaran
