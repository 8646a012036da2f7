// Tickets after filing: the lifecycle, the queues staff work from, replies to the citizen,
// and what each role may see.
//
// A ticket is a hash (keys::ticket) written first by the conversation commit. From then on
// every change — a status change, a reply, a note, an escalation — is ONE Lua script that
// checks the ticket is still in the state the change was decided on, updates the hash, moves
// it between queue indexes, appends to its history (and the audit log), and queues what the
// citizen must be told. Nothing is half-done, and two staff acting at once cannot both win.
//
// Scoping is enforced here, not by the page: staff, nodal officers and SPs see their own
// district only; the IG and admins see the range. A ticket outside the caller's scope is
// answered exactly like one that does not exist (not_found), so references cannot be probed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bot/redis.h"
#include "core/status.h"
#include "dialogs/flow.h"
#include "dialogs/reference_data.h"

namespace nivaran {

// Who is acting: a signed-in staff member, or the system (the SLA scheduler, the citizen).
struct Actor {
  std::string login;     // "system" for the scheduler, "citizen" for the citizen
  std::string role;      // staff, nodal, sp, ig, admin; "system"
  std::string district;  // empty for ig, admin and system

  bool range_wide() const { return district.empty(); }
};

// The lifecycle: new → in_progress → forwarded → resolved → closed, and reopened.
const std::vector<std::string>& ticket_statuses();
// The statuses a ticket in `from` may move to; empty for an unknown status.
const std::vector<std::string>& next_statuses(const std::string& from);
bool transition_allowed(const std::string& from, const std::string& to);

// Where a ticket is listed: "district:<code>" ("district:triage" outside the range) and
// "range". A queue index is keys::ticket_index(scope, dimension, value).
std::vector<std::string> ticket_scopes(const std::string& district);

// Every queue index a ticket with these fields is listed in (both scopes).
std::vector<std::string> ticket_index_keys(const std::string& district, const std::string& status,
                                           const std::string& category,
                                           const std::string& priority);

// The ticket hash as the API shows it: numbers as numbers, empty times as null, attachments
// parsed. With `mask`, the citizen's name and mobile are hidden (women's safety and children's
// cases, for roles that do not need them).
nlohmann::json ticket_view(const std::map<std::string, std::string>& fields, bool mask);

// True when `actor` must not see this ticket's personal data.
bool must_mask(const Actor& actor, const std::map<std::string, std::string>& fields);

struct TicketQuery {
  std::string district;  // empty: the caller's whole scope
  std::string status;
  std::string category;
  std::string priority;
  int limit = 50;          // 1..200
  std::string cursor;      // from the previous page; empty for the newest
};

struct TicketPage {
  std::vector<nlohmann::json> tickets;  // newest first
  std::string next_cursor;              // empty on the last page
};

// Reads and changes tickets on behalf of staff. Thread-safe (state is in Redis).
class TicketService {
 public:
  using Clock = std::function<int64_t()>;
  // `flow` supplies the citizen-facing texts (staff_reply, feedback_question, ...).
  TicketService(Redis& redis, const dialogs::ReferenceData& reference, const dialogs::Flow& flow,
                Clock clock, std::vector<std::string> local_platforms = {"webchat"});

  // A page of the queue. forbidden() when a district outside the caller's scope is asked for;
  // invalid() for an unknown status, category, priority or a malformed cursor.
  Result<TicketPage> list(const Actor& actor, const TicketQuery& q);

  // One ticket with its history, and its transcript when `with_transcript`. Reading personal
  // data unmasked is written to the audit log.
  Result<nlohmann::json> get(const Actor& actor, const std::string& ref, bool with_transcript);

  // Queues `text` to the citizen on their platform, records it in the transcript and history,
  // sets first_response_at (and moves a new ticket to in_progress).
  Result<nlohmann::json> reply(const Actor& actor, const std::string& ref, const std::string& text);

  // The newest replies that could not be delivered (outbox dead letters), newest first, at most
  // `limit`. Range roles (ig, admin) only: a dead letter is a message to a citizen of any
  // district; forbidden() for the others.
  Result<nlohmann::json> dead_letters(const Actor& actor, int limit);

  // An internal note, visible to staff only.
  Result<nlohmann::json> add_note(const Actor& actor, const std::string& ref,
                                  const std::string& text);

  // Moves the ticket to `to`. `police_station` is required for "forwarded" (a station of the
  // ticket's district). invalid() for an unknown status or a transition the lifecycle does not
  // allow, naming the allowed ones. Resolving asks the citizen whether they are satisfied.
  Result<nlohmann::json> set_status(const Actor& actor, const std::string& ref,
                                    const std::string& to, const std::string& note,
                                    const std::string& police_station = "");

 private:
  struct Loaded {
    std::map<std::string, std::string> fields;
  };
  // The ticket when it exists and `actor` may see it; not_found() otherwise.
  Result<Loaded> load(const Actor& actor, const std::string& ref);
  std::string text(const std::string& key, const std::string& lang) const;

  Redis& redis_;
  const dialogs::ReferenceData& reference_;
  const dialogs::Flow& flow_;
  Clock clock_;
  std::vector<std::string> local_platforms_;
};

}  // namespace nivaran
