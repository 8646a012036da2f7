// The dialog engine: a pure function from (flow, reference data, session, message) to
// (new session, replies, effects).
//
// It does no I/O and reads no clock: time and fresh ids come in through StepContext, and
// everything that must happen in the world (a ticket to create) goes out as an Effect that the
// pipeline commits atomically with the new session. Flows are data (dialogs/flows/*.json).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/message.h"
#include "core/status.h"
#include "dialogs/flow.h"
#include "dialogs/reference_data.h"

namespace nivaran::dialogs {

// A citizen's conversation state. Serialised as JSON into Redis by the store; the store, not
// the engine, keeps the version used for compare-and-set.
struct Session {
  std::string node;         // current node id; empty before the first message
  std::string lang = "hi";  // "hi" or "en"
  nlohmann::json slots = nlohmann::json::object();  // answers collected so far
  std::vector<std::string> trail;                   // nodes visited, for "back"
  int failures = 0;                                 // consecutive unusable answers at `node`
  std::string episode;        // id of this complaint's conversation; keys its transcript
  std::string open_ticket;    // reference of the ticket this episode filed, empty if none
  int64_t started_at_ms = 0;  // when this episode began
  int64_t updated_at_ms = 0;  // last message
  std::string return_to;      // after answering `node`, go back here (editing from the summary)
  std::string pending;        // a side question open at `node`: "edit", "did_you_mean"
  std::vector<std::string> candidates;  // option ids offered by that side question
  std::string held;  // text written after filing, kept while asking whether it is a new complaint

  bool operator==(const Session&) const = default;
};

void to_json(nlohmann::json& j, const Session& s);
void from_json(const nlohmann::json& j, Session& s);
// The same text as json_text(json(s)), written without building a tree (once per message).
std::string session_json_text(const Session& s);

// What the engine may know about the world besides the message.
struct StepContext {
  int64_t now_ms = 0;            // wall clock, milliseconds since the epoch (UTC)
  std::string fresh_episode;     // an unused id, taken if this step starts a new episode
  int utc_offset_minutes = 330;  // local time for dates and "आज/कल" (IST)
};

// Something the pipeline must do, committed atomically with the session.
struct Effect {
  // "create_ticket": data holds the ticket fields (category, district, police_station,
  //   place, incident_time, description, attachments, name, mobile, consent, priority, lang,
  //   emergency). The pipeline assigns the reference and replaces "{ticket_ref}" in this
  //   step's replies with it, and sets Session::open_ticket.
  // "attach_to_ticket": the message belongs to the open ticket (data: {"ticket": ref}, plus
  //   "priority": "urgent" when it carried emergency words). A text written after filing is
  //   first met with "add it to {ticket}, or is it a new complaint?"; emergencies, photos and
  //   the messages after the citizen chose "add" (until they fall idle) attach at once.
  // "ticket_status": the citizen asks how a ticket stands (data: {"ticket": ref}, the open
  //   ticket or one named in the message, e.g. "स्थिति BLY-000123"); the pipeline replaces
  //   "{ticket_status}" in this step's replies with the ticket's status, or says it was not
  //   found (a citizen may only see tickets filed from their own conversation).
  std::string type;
  nlohmann::json data = nlohmann::json::object();

  bool operator==(const Effect&) const = default;
};

struct StepResult {
  Session session;
  std::vector<Reply> replies;
  std::vector<Effect> effects;
};

// One turn of the conversation. Never fails: unusable input yields a re-prompt.
StepResult step(const Flow& flow, const ReferenceData& ref, const Session& session,
                const InboundMessage& msg, const StepContext& ctx);

}  // namespace nivaran::dialogs
