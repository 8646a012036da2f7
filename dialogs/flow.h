// The flow format: a conversation as data (dialogs/flows/*.json), in the spirit of goflow /
// RapidPro. A flow is a set of nodes, each with texts in every language of the flow:
//
//   input    asks a question and checks the answer with a typed validator (category, district,
//            police_station, place, datetime, text, name, mobile, yes_no), storing it in `slot`;
//            then `next`.
//   menu     offers fixed options, each leading to a node or running a command.
//   confirm  shows a summary of the slots and offers options (confirm / edit / cancel).
//   action   does something in the world through an Effect (create_ticket); then `next`.
//   end      says its text; the episode is over (later messages attach to the ticket).
//
// Besides nodes a flow holds the messages the engine says outside any node (help, cancelled,
// emergency, ...), the command words, emergency words and the small vocabulary for yes / no /
// don't know / numbers, so that every word the bot says or understands is editable data.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "dialogs/datetime.h"
#include "dialogs/match.h"
#include "dialogs/reference_data.h"

namespace nivaran::dialogs {

struct FlowOption {
  std::string id;  // ASCII, ≤ 64 bytes: what a button sends back
  LocalText title;
  std::string next;               // node to go to, or
  std::string command;            // a command to run: "edit", "cancel", "restart", "help"
  std::vector<std::string> keys;  // phonetic keys of the titles and `words` (built by load_flow)
};

struct Node {
  std::string id;
  std::string type;         // input, menu, confirm, action, end
  LocalText text;           // what the bot says on entering the node
  LocalText retry;          // what it says when the answer is unusable (with an example)
  std::string input;        // input nodes: the validator
  std::string slot;         // input nodes: where the answer goes
  bool optional = false;    // input nodes: "don't know" / "skip" accepted (slot set to "")
  int min_length = 0;       // text inputs: minimum characters
  std::string skip_unless;  // skip the node when this slot is empty or null
  std::string next;
  std::vector<FlowOption> options;   // menu, confirm
  std::string action;                // action nodes: create_ticket
  std::vector<std::string> summary;  // confirm: slots shown and editable, in order
};

struct Flow {
  std::string id;
  std::string start;                   // first node of an episode
  std::vector<std::string> languages;  // every text must exist in each; first is the default
  std::map<std::string, Node> nodes;
  std::map<std::string, LocalText> messages;     // engine messages by name
  std::map<std::string, LocalText> fields;       // slot → label, for the summary and edit menu
  std::map<std::string, Phrases> field_names;    // slot → its labels in every language, prepared
  std::map<std::string, Phrases> message_names;  // short messages used as option titles, prepared
  std::map<std::string, Phrases> commands;       // help, cancel, restart, back, lang_hi, lang_en
  Phrases emergency;                             // danger-to-life words
  Phrases yes, no, dont_know, skip;
  Phrases greetings;        // a first message that only greets tells no story
  Phrases english_markers;  // two of them in a first message: the citizen writes English
  Phrases status;       // "स्थिति", "status": followed by an optional ticket reference
  Phrases child_words;  // an emergency about a child also gets the child helpline
  Phrases place_words;  // "रोड", "bazar", "चौराहा": a story's place is the word before one,
  Phrases place_markers;    // or the place word with "के पास" / "ke bahar" after it;
  Phrases not_place_names;  // never a place name: "मेरे गाँव" names no place
  // Police stations whose names are everyday words (शाही/सही, Banda, Katra, किला): in a story
  // that does not name the district, such a station is taken only when the story also has one
  // of `station_words` ("थाना", "thana", "kotwali"), so "sahi baat hai" is no thana Shahi.
  Phrases common_word_stations;
  Phrases station_words;
  NumberWords numbers;
  DateWords dates;
  int idle_minutes = 120;  // after this long, an unfinished complaint is offered to resume

  // nullptr when absent.
  const Node* node(const std::string& id) const;
  // A message in `lang`; empty when the flow does not define it.
  const std::string& message(const std::string& name, const std::string& lang) const;
};

// Node types, validators, actions, commands and messages the engine understands.
const std::vector<std::string>& node_types();
const std::vector<std::string>& input_validators();
const std::vector<std::string>& flow_actions();
const std::vector<std::string>& flow_commands();
const std::vector<std::string>& required_messages();

// Reads a flow file. Structural problems (wrong JSON types, missing fields) are
// Status::invalid("<file>: nodes.<id>.<field>: <what is wrong>").
Result<Flow> load_flow(const std::string& path);

// Checks a loaded flow against itself and the reference data: dangling and unreachable nodes,
// missing translations, unknown node types / validators / actions / commands, summary slots
// no node fills. Each error reads "<file>: nodes.<id>[.<field>]: <problem>"; empty when valid.
std::vector<std::string> validate_flow(const Flow& flow, const ReferenceData& ref,
                                       const std::string& file);

}  // namespace nivaran::dialogs
