// The engine walks a Flow one message at a time. Order of business for each message:
//   1. a new episode starts when there is none (first message, after cancel, after a ticket
//      when no ticket is open); an opening message that tells the story fills every slot it
//      can, and the category it suggests is confirmed rather than asked;
//   2. emergency words get the 112 reply before anything else and make the complaint urgent;
//   3. commands (help, cancel, restart, back, language, status) work at any node; after a long
//      pause an unfinished complaint is offered to resume or start over;
//   4. after a ticket is filed, messages attach to it;
//   5. otherwise the message answers the current node: accepted answers fill the node's slot
//      and move on; unusable ones get the node's retry text, and a simpler prompt after three.
// Everything the engine says comes from the flow file; it only chooses and fills in texts.
#include "dialogs/engine.h"

#include <map>
#include <regex>
#include <set>

#include "core/json_write.h"
#include "dialogs/datetime.h"
#include "dialogs/match.h"
#include "dialogs/text.h"

namespace nivaran::dialogs {

using nlohmann::json;

void to_json(json& j, const Session& s) {
  j = json{{"node", s.node},
           {"lang", s.lang},
           {"slots", s.slots},
           {"trail", s.trail},
           {"failures", s.failures},
           {"episode", s.episode},
           {"open_ticket", s.open_ticket},
           {"started_at_ms", s.started_at_ms},
           {"updated_at_ms", s.updated_at_ms}};
  if (!s.return_to.empty()) j["return_to"] = s.return_to;
  if (!s.pending.empty()) j["pending"] = s.pending;
  if (!s.candidates.empty()) j["candidates"] = s.candidates;
  if (!s.held.empty()) j["held"] = s.held;
}

std::string session_json_text(const Session& s) {
  // Keys in the sorted order nlohmann gives an object's keys.
  std::string out;
  out.reserve(256 + s.held.size());
  auto strings = [&out](const std::vector<std::string>& list) {
    out += '[';
    for (size_t i = 0; i < list.size(); ++i) {
      if (i > 0) out += ',';
      append_json_string(out, list[i]);
    }
    out += ']';
  };
  out += '{';
  if (!s.candidates.empty()) {
    out += "\"candidates\":";
    strings(s.candidates);
    out += ',';
  }
  out += "\"episode\":";
  append_json_string(out, s.episode);
  out += ",\"failures\":";
  out += std::to_string(s.failures);
  if (!s.held.empty()) {
    out += ",\"held\":";
    append_json_string(out, s.held);
  }
  out += ",\"lang\":";
  append_json_string(out, s.lang);
  out += ",\"node\":";
  append_json_string(out, s.node);
  out += ",\"open_ticket\":";
  append_json_string(out, s.open_ticket);
  if (!s.pending.empty()) {
    out += ",\"pending\":";
    append_json_string(out, s.pending);
  }
  if (!s.return_to.empty()) {
    out += ",\"return_to\":";
    append_json_string(out, s.return_to);
  }
  out += ",\"slots\":";
  append_json(out, s.slots);
  out += ",\"started_at_ms\":";
  out += std::to_string(s.started_at_ms);
  out += ",\"trail\":";
  strings(s.trail);
  out += ",\"updated_at_ms\":";
  out += std::to_string(s.updated_at_ms);
  out += '}';
  return out;
}

namespace {

// The field as T, or `fallback` when it is missing or of another type: a damaged stored
// session degrades to a fresh one instead of throwing into the pipeline.
template <typename T>
T field_or(const json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end()) return fallback;
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    return fallback;
  }
}

}  // namespace

void from_json(const json& j, Session& s) {
  s = Session{};
  if (!j.is_object()) return;
  s.node = field_or<std::string>(j, "node", "");
  s.lang = field_or<std::string>(j, "lang", "hi");
  s.slots = field_or<json>(j, "slots", json::object());
  if (!s.slots.is_object()) s.slots = json::object();
  s.trail = field_or<std::vector<std::string>>(j, "trail", {});
  s.failures = field_or<int>(j, "failures", 0);
  s.episode = field_or<std::string>(j, "episode", "");
  s.open_ticket = field_or<std::string>(j, "open_ticket", "");
  s.started_at_ms = field_or<int64_t>(j, "started_at_ms", 0);
  s.updated_at_ms = field_or<int64_t>(j, "updated_at_ms", 0);
  s.return_to = field_or<std::string>(j, "return_to", "");
  s.pending = field_or<std::string>(j, "pending", "");
  s.candidates = field_or<std::vector<std::string>>(j, "candidates", {});
  s.held = field_or<std::string>(j, "held", "");
}

namespace {

using Vars = std::map<std::string, std::string>;

// Rows a platform list can show (WhatsApp: 10), including "don't know".
constexpr size_t kMaxMenuRows = 10;

// Words from which a message counts as the whole story and fills the description.
constexpr size_t kStoryWords = 8;

// Replaces {name} for the given names only; other braces (e.g. {ticket_ref}, which the
// pipeline fills) are left as they are.
std::string fill(std::string t, const Vars& vars) {
  for (const auto& [k, v] : vars) {
    const std::string pat = "{" + k + "}";
    size_t pos = 0;
    while ((pos = t.find(pat, pos)) != std::string::npos) {
      t.replace(pos, pat.size(), v);
      pos += v.size();
    }
  }
  return t;
}

// Options offered at a node, with what matches each.
struct Menu {
  std::vector<ReplyOption> options;
  std::vector<MenuItem> items;
  // `keys` must outlive the menu: the flow's or the reference data's (see MenuItem).
  void add(std::string id, std::string title, const std::vector<std::string>& keys) {
    options.push_back(ReplyOption{id, std::move(title)});
    items.push_back(MenuItem{std::move(id), &keys});
  }
  void add(std::string, std::string, const std::vector<std::string>&&) = delete;  // would dangle
};

size_t utf8_length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

bool slot_empty(const json& slots, const std::string& name) {
  auto it = slots.find(name);
  return it == slots.end() || it->is_null() || (it->is_string() && it->get<std::string>().empty());
}

class Turn {
 public:
  Turn(const Flow& flow, const ReferenceData& ref, const Session& session, const StepContext& ctx)
      : flow_(flow), ref_(ref), ctx_(ctx) {
    out_.session = session;
  }

  StepResult run(const InboundMessage& msg);

 private:
  Session& s() { return out_.session; }
  const std::string& lang() { return out_.session.lang; }
  std::string msg(const std::string& name, const Vars& vars = {}) {
    return fill(flow_.message(name, lang()), vars);
  }
  // Phonetic keys of a short message, to match it as an option title.
  const std::vector<std::string>& names_of(const std::string& message) const {
    static const std::vector<std::string> kNone;
    auto it = flow_.message_names.find(message);
    return it == flow_.message_names.end() ? kNone : it->second.keys;
  }
  void say(std::string text, std::vector<ReplyOption> options = {}) {
    out_.replies.push_back(Reply{std::move(text), std::move(options)});
  }
  // Text said before the next prompt, in the same reply.
  void preface(const std::string& text) {
    if (!text.empty()) preface_ += (preface_.empty() ? "" : "\n\n") + text;
  }
  void say_with_preface(const std::string& text, std::vector<ReplyOption> options = {}) {
    std::string t = preface_.empty() ? text : preface_ + (text.empty() ? "" : "\n\n" + text);
    preface_.clear();
    say(std::move(t), std::move(options));
  }
  void flush_preface() {
    if (!preface_.empty()) say_with_preface("");
  }

  void start_episode();
  // A first message in English ("my phone was stolen") is answered in English.
  bool writes_english(const Utterance& u) const;
  bool tell_story(const Utterance& u, const InboundMessage& m);
  // Fills the slots a free-text story answers (district, police station, time, description)
  // without asking anything; true when it filled any.
  bool extract_story(const Utterance& u, const InboundMessage& m);
  bool handle_status(const Utterance& u);
  void ask_guess(const std::string& category);
  bool handle_command(const std::string& cmd);
  void continue_after_command(const Node* here, bool ended);
  void emergency_reply(const Utterance& u);
  void attach_to_ticket(bool emergency);
  // A message to the conversation whose ticket is filed: attach it, or ask first.
  void after_filing(const Utterance& u, const InboundMessage& m, bool emergency, bool was_idle);
  void collect_attachments(const InboundMessage& m);

  Menu menu_for(const Node& n);
  Menu edit_menu(const Node& confirm);
  Menu candidate_menu();
  std::string summary(const Node& confirm);
  std::string display(const std::string& slot);
  std::string display_time(const json& value);
  Reply prompt(const Node& n);
  void reprompt();
  void enter(std::string id, bool skip_answered = false);
  void advance(const Node& n);
  void fail(const Node& n);
  void ask_did_you_mean(const std::string& prefix, const std::vector<std::string>& codes);

  void answer(const Node& n, const Utterance& u, const InboundMessage& m);
  bool answer_input(const Node& n, const Utterance& u, const InboundMessage& m);
  void answer_confirm(const Node& n, const Utterance& u);
  void accept(const Node& n, json value);
  void create_ticket();
  void cancel();

  const Flow& flow_;
  const ReferenceData& ref_;
  const StepContext& ctx_;
  StepResult out_;
  std::string preface_;
};

StepResult Turn::run(const InboundMessage& m) {
  const int64_t last_seen_ms = s().updated_at_ms;
  const int64_t idle_ms = ctx_.now_ms - last_seen_ms;
  s().updated_at_ms = ctx_.now_ms;
  const Utterance u = Utterance::of(m.text, m.button);
  const Node* here = flow_.node(s().node);
  const bool ended = here && here->type == "end";
  const bool has_ticket = ended && !s().open_ticket.empty();
  const bool new_episode = !here || (ended && s().open_ticket.empty());
  const bool first_contact = s().episode.empty();
  if (new_episode) start_episode();
  if (first_contact && writes_english(u)) s().lang = "en";

  const bool emergency = !u.form.empty() && flow_.emergency.occurs_in(u);
  if (emergency) emergency_reply(u);

  std::string cmd;
  if (u.button.rfind("cmd:", 0) == 0) cmd = u.button.substr(4);
  for (const auto& [name, words] : flow_.commands)
    if (cmd.empty() && words.equals(u)) cmd = name;
  if (!cmd.empty() && handle_command(cmd)) return std::move(out_);
  if (handle_status(u)) return std::move(out_);

  const bool was_idle = last_seen_ms > 0 && idle_ms > int64_t{flow_.idle_minutes} * 60'000;
  if (has_ticket) {
    after_filing(u, m, emergency, was_idle);
    return std::move(out_);
  }
  collect_attachments(m);
  if (new_episode) {
    preface(msg("greeting"));
    const Node* start = flow_.node(flow_.start);
    // A pressed button from an earlier menu still counts as an answer.
    if (start && !u.button.empty() && answer_input(*start, u, m)) return std::move(out_);
    if (u.button.empty() && !flow_.greetings.equals(u) && tell_story(u, m)) return std::move(out_);
    enter(flow_.start, true);
    return std::move(out_);
  }
  if (was_idle && !emergency && s().pending != "resume" && here->type != "end") {
    s().pending = "resume";
    say(msg("resume_offer"), {ReplyOption{"cmd:continue", msg("continue")},
                              ReplyOption{"cmd:restart", msg("new_complaint")}});
    return std::move(out_);
  }
  if (s().pending == "resume") s().pending.clear();
  answer(*flow_.node(s().node), u, m);
  return std::move(out_);
}

void Turn::start_episode() {
  const std::string lang = s().lang.empty() ? flow_.languages.front() : s().lang;
  Session fresh;
  fresh.lang = lang;
  fresh.episode = ctx_.fresh_episode;
  fresh.started_at_ms = ctx_.now_ms;
  fresh.updated_at_ms = ctx_.now_ms;
  s() = fresh;
}

bool Turn::handle_command(const std::string& cmd) {
  const Node* here = flow_.node(s().node);
  const bool ended = here && here->type == "end";
  if (cmd == "help") {
    preface(msg("help"));
    continue_after_command(here, ended);
    return true;
  }
  if (cmd == "cancel") {
    if (ended) {
      say(msg("nothing_to_cancel", {{"ticket", s().open_ticket}}),
          {ReplyOption{"cmd:restart", msg("new_complaint")}});
    } else {
      cancel();
    }
    return true;
  }
  if (cmd == "restart") {
    // Asked "add to your ticket or new complaint?", the citizen chose new: what they wrote
    // is the new complaint's story.
    const std::string held = s().pending == "attach_or_new" ? s().held : "";
    start_episode();
    preface(msg("restarted"));
    if (!held.empty()) {
      InboundMessage story;
      story.text = held;
      if (tell_story(Utterance::of(held), story)) return true;
    }
    enter(flow_.start);
    return true;
  }
  if (cmd == "back") {
    if (ended || !here) return false;
    preface_.clear();
    if (!s().pending.empty()) {  // leaving a side question returns to the node itself
      s().pending.clear();
      reprompt();
      return true;
    }
    if (s().trail.empty()) {
      preface(msg("back_at_start"));
      reprompt();
      return true;
    }
    std::string prev = s().trail.back();
    s().trail.pop_back();
    s().return_to.clear();
    enter(prev);
    return true;
  }
  if (cmd == "continue") {
    if (!here || ended) return false;
    if (s().pending == "resume") s().pending.clear();
    reprompt();
    return true;
  }
  if (cmd == "lang_en" || cmd == "lang_hi") {
    std::string want = cmd.substr(5);
    if (std::find(flow_.languages.begin(), flow_.languages.end(), want) == flow_.languages.end())
      return false;
    s().lang = want;
    preface(msg("language_switched"));
    continue_after_command(here, ended);
    return true;
  }
  return false;
}

void Turn::ask_guess(const std::string& category) {
  const Category* c = ref_.find_category(category);
  if (!c) return reprompt();
  s().pending = "guess";
  s().candidates = {"cat:" + category};
  say_with_preface(msg("category_guess", {{"category", text_in(c->name, lang())}}),
                   {ReplyOption{"yes", msg("yes")}, ReplyOption{"no", msg("no")}});
}

bool Turn::writes_english(const Utterance& u) const {
  if (has_devanagari(u.raw) ||
      std::find(flow_.languages.begin(), flow_.languages.end(), "en") == flow_.languages.end())
    return false;
  std::set<std::string> seen;
  for (const auto& w : u.form_words)
    if (flow_.english_markers.has_form(w)) seen.insert(w);
  return seen.size() >= 2;
}

bool Turn::tell_story(const Utterance& u, const InboundMessage& m) {
  bool understood = extract_story(u, m);
  std::vector<std::string> guesses = guess_categories(u, ref_);
  if (!understood && guesses.empty()) return false;
  const Node* start = flow_.node(flow_.start);
  if (start && start->input == "category" && !guesses.empty()) {
    s().node = flow_.start;
    if (guesses.size() == 1)
      ask_guess(guesses.front());
    else
      ask_did_you_mean("cat:", guesses);
    return true;
  }
  enter(flow_.start, true);
  return true;
}

bool Turn::extract_story(const Utterance& u, const InboundMessage& m) {
  json& slots = s().slots;
  bool understood = false;
  // Names must be spelled exactly in a story: "barely" in an English sentence is no district.
  NameMatch dm = match_district(u, ref_, /*exact_only=*/true);
  const bool district_named = dm.codes.size() == 1 && dm.exact;
  if (district_named) {
    slots["district"] = dm.codes.front();
    understood = true;
  }
  // Some stations are everyday words (शाही/सही, Banda, Katra, किला): without the district,
  // such a station is taken from a story only when the story speaks of a thana.
  const bool station_spoken_of = district_named || flow_.station_words.occurs_in(u);
  auto common_word = [this](const std::string& district, const std::string& code) {
    const PoliceStation* ps = ref_.find_police_station(district, code);
    if (!ps) return false;
    for (const auto& k : ps->keys)  // the keys of its names and variants
      if (flow_.common_word_stations.has_key(k)) return true;
    return false;
  };
  std::vector<std::pair<std::string, std::string>> stations;  // (district, station)
  if (const District* d = slots.contains("district")
                              ? ref_.find_district(string_field(slots, "district"))
                              : nullptr) {
    NameMatch pm = match_police_station(u, *d, /*exact_only=*/true);
    if (pm.exact)
      for (const auto& code : pm.codes) stations.emplace_back(d->code, code);
  } else if (!slots.contains("district")) {
    stations = find_police_stations(u, ref_);
  }
  if (stations.size() == 1 &&
      (station_spoken_of || !common_word(stations.front().first, stations.front().second))) {
    slots["district"] = stations.front().first;
    slots["police_station"] = stations.front().second;
    understood = true;
  }
  auto t = parse_incident_time(u, flow_.dates, flow_.numbers, ctx_.now_ms, ctx_.utc_offset_minutes);
  if (t && !t->future) {
    json value{{"date", t->date}};
    if (!t->time.empty()) value["time"] = t->time;
    if (!t->part.empty()) value["part"] = t->part;
    slots["incident_time"] = value;
    understood = true;
  }
  const std::string cleaned = clean_text(m.text);
  // "Tilhar bazar", "बारादरी इलाके", "स्टेशन रोड": a name followed by a place word.
  if (!slots.contains("place")) {
    const std::vector<std::string>& keys = u.words;
    const std::vector<std::string>& forms = u.form_words;
    std::vector<std::string> raw;  // split only when a place is found
    // Show the citizen's own spelling when the words line up, else the folded form.
    auto shown_words = [&]() -> const std::vector<std::string>& {
      if (raw.empty()) raw = split_words(cleaned);
      return raw.size() == forms.size() ? raw : forms;
    };
    auto is_one_of = [](const Phrases& p, const std::string& key) { return p.has_key(key); };
    for (size_t i = 0; i < keys.size() && keys.size() == forms.size(); ++i) {
      if (!is_one_of(flow_.place_words, keys[i])) continue;
      std::string place;
      const std::vector<std::string>& shown = shown_words();
      if (i + 2 < keys.size() && is_one_of(flow_.place_markers, keys[i + 1] + " " + keys[i + 2])) {
        place = shown[i] + " " + shown[i + 1] + " " + shown[i + 2];  // "स्कूल के बाहर"
      } else if (i > 0 && !is_one_of(flow_.not_place_names, keys[i - 1])) {
        place = shown[i - 1] + " " + shown[i];  // "Tilhar bazar"
      } else {
        continue;
      }
      while (!place.empty() && std::string(",.;:!?").find(place.back()) != std::string::npos)
        place.pop_back();
      slots["place"] = place;
      understood = true;
      break;
    }
  }
  // A message long enough to be the story is kept as the description; a short one ("mera
  // phone chori ho gaya") still gets the description question, which asks for details.
  for (const auto& [id, n] : flow_.nodes) {
    if (n.type != "input" || n.input != "text") continue;
    if (u.form_words.size() >= kStoryWords &&
        static_cast<int>(utf8_length(cleaned)) >= n.min_length) {
      slots[n.slot] = cleaned;
      understood = true;
    }
    break;
  }
  return understood;
}

bool Turn::handle_status(const Utterance& u) {
  bool asked = false;
  for (const auto& f : flow_.status.forms)
    if (u.form == f || u.form.rfind(f + " ", 0) == 0) asked = true;
  if (!asked && u.button != "cmd:status") return false;
  // Bounded repeats: std::regex recurses per character, so an unbounded one on a long run of
  // digits could overflow the stack (found by fuzz_dialog_step).
  static const std::regex kRef(R"(([A-Za-z]{2,5})[- ]?([0-9][0-9-]{0,19}))");
  std::smatch match;
  std::string ticket;
  if (std::regex_search(u.raw, match, kRef)) {
    ticket = match[1].str() + "-" + match[2].str();
    for (char& c : ticket) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (ticket.empty()) ticket = s().open_ticket;
  const Node* here = flow_.node(s().node);
  if (ticket.empty()) {
    say(msg("status_which"));
  } else {
    out_.effects.push_back(Effect{"ticket_status", json{{"ticket", ticket}}});
    say(msg("status_reply", {{"ticket", ticket}}));
  }
  if (here && here->type != "end")
    reprompt();
  else if (!here) {
    preface(msg("greeting"));
    enter(flow_.start, true);
  }
  return true;
}

void Turn::continue_after_command(const Node* here, bool ended) {
  if (here && !ended) return reprompt();
  if (!here) {  // the episode starts with this command
    preface(msg("greeting"));
    return enter(flow_.start);
  }
  flush_preface();
}

void Turn::cancel() {
  const std::string lang = s().lang;
  s() = Session{};
  s().lang = lang;
  s().updated_at_ms = ctx_.now_ms;
  preface_.clear();
  say(msg("cancelled"));
}

void Turn::emergency_reply(const Utterance& u) {
  std::string text = msg("emergency");
  std::vector<std::string> cats;
  if (!slot_empty(s().slots, "category"))
    cats.push_back(string_field(s().slots, "category"));
  else
    cats = guess_categories(u, ref_);
  for (const auto& code : cats) {
    const Category* c = ref_.find_category(code);
    if (!c) continue;
    for (const auto& h : c->helplines)
      text += "\n" + msg("helpline", {{"name", text_in(h.name, lang())}, {"number", h.number}});
  }
  if (flow_.child_words.occurs_in(u)) text += "\n" + msg("child_helpline");
  say(text);
  s().slots["emergency"] = true;
}

void Turn::attach_to_ticket(bool emergency) {
  Effect e{"attach_to_ticket", json{{"ticket", s().open_ticket}}};
  if (emergency) e.data["priority"] = "urgent";
  out_.effects.push_back(std::move(e));
  say_with_preface(msg("attached", {{"ticket", s().open_ticket}}),
                   {ReplyOption{"cmd:restart", msg("new_complaint")}});
}

void Turn::after_filing(const Utterance& u, const InboundMessage& m, bool emergency,
                        bool was_idle) {
  // An emergency cannot wait for a question; a photo or location after filing is evidence for
  // the ticket; and once the citizen said "add", what follows is added until they fall idle.
  if (emergency || !m.attachments.empty() || (s().pending == "attaching" && !was_idle)) {
    attach_to_ticket(emergency);
    return;
  }
  // Only a short answer answers the question: "aur haan, phone bhi chori hua" is more to tell.
  constexpr size_t kMaxAnswerWords = 4;
  if (s().pending == "attach_or_new" && u.words.size() <= kMaxAnswerWords) {
    std::vector<std::string> add_keys = names_of("add_to_ticket");
    add_keys.insert(add_keys.end(), flow_.yes.keys.begin(), flow_.yes.keys.end());
    std::vector<std::string> new_keys = names_of("new_complaint");
    const std::vector<MenuItem> items = {{"cmd:attach", &add_keys}, {"cmd:restart", &new_keys}};
    if (auto k = match_choice(u, items, flow_.numbers)) {
      if (*k == 1) {
        handle_command("restart");
        return;
      }
      s().pending = "attaching";
      s().held.clear();
      attach_to_ticket(false);
      return;
    }
  }
  // A text: ask, and keep it in case it is a new complaint. It is in the ticket's
  // conversation already; the ticket itself is touched only when the citizen says "add".
  constexpr size_t kMaxHeld = 4000;
  const std::string text = clean_text(m.text);
  if (!text.empty() && s().held.size() + text.size() < kMaxHeld)
    s().held += (s().held.empty() ? "" : "\n") + text;
  s().pending = "attach_or_new";
  say_with_preface(msg("open_ticket_question", {{"ticket", s().open_ticket}}),
                   {ReplyOption{"cmd:attach", msg("add_to_ticket")},
                    ReplyOption{"cmd:restart", msg("new_complaint")}});
}

void Turn::collect_attachments(const InboundMessage& m) {
  if (m.attachments.empty()) return;
  json& list = s().slots["attachments"];
  if (!list.is_array()) list = json::array();
  for (const auto& a : m.attachments) list.push_back(a);
}

Menu Turn::menu_for(const Node& n) {
  Menu menu;
  if (n.type == "menu" || n.type == "confirm") {
    for (const auto& o : n.options) menu.add(o.id, text_in(o.title, lang()), o.keys);
    return menu;
  }
  if (n.input == "category") {
    for (const auto& c : ref_.categories)
      menu.add("cat:" + c.code, text_in(c.short_name, lang()), c.keys);
  } else if (n.input == "district") {
    for (const auto& d : ref_.districts)
      menu.add("dist:" + d.code, text_in(d.name, lang()), d.keys);
    menu.add("dist:other", msg("other_district"), names_of("other_district"));
  } else if (n.input == "police_station") {
    // A WhatsApp list holds 10 rows: a longer station list is typed by name, not chosen.
    const District* d = ref_.find_district(string_field(s().slots, "district"));
    if (d && d->police_stations.size() < kMaxMenuRows) {
      for (const auto& p : d->police_stations)
        menu.add("ps:" + p.code, text_in(p.name, lang()), p.keys);
    }
    if (n.optional) menu.add("ps:unknown", msg("dont_know"), flow_.dont_know.keys);
  } else if (n.input == "yes_no") {
    menu.add("yes", msg("yes"), flow_.yes.keys);
    menu.add("no", msg("no"), flow_.no.keys);
  }
  return menu;
}

Menu Turn::edit_menu(const Node& confirm) {
  static const std::vector<std::string> kNoKeys;
  Menu menu;
  for (const auto& slot : confirm.summary) {
    if (slot == "attachments") continue;
    auto f = flow_.fields.find(slot);
    if (f == flow_.fields.end()) continue;
    auto names = flow_.field_names.find(slot);
    menu.add("edit:" + slot, text_in(f->second, lang()),
             names == flow_.field_names.end() ? kNoKeys : names->second.keys);
  }
  return menu;
}

Menu Turn::candidate_menu() {
  Menu menu;
  const std::string district = string_field(s().slots, "district");
  for (const auto& id : s().candidates) {
    std::string code = id.substr(id.find(':') + 1);
    if (id.rfind("cat:", 0) == 0) {
      if (const Category* c = ref_.find_category(code))
        menu.add(id, text_in(c->short_name, lang()), c->keys);
    } else if (id.rfind("dist:", 0) == 0) {
      if (const District* d = ref_.find_district(code))
        menu.add(id, text_in(d->name, lang()), d->keys);
    } else if (id.rfind("ps:", 0) == 0) {
      if (const PoliceStation* p = ref_.find_police_station(district, code))
        menu.add(id, text_in(p->name, lang()), p->keys);
    }
  }
  return menu;
}

std::string Turn::display(const std::string& slot) {
  const json& slots = s().slots;
  const std::string v = string_field(slots, slot);
  if (slot == "category") {
    const Category* c = ref_.find_category(v);
    return c ? text_in(c->name, lang()) : v;
  }
  if (slot == "district") {
    const District* d = ref_.find_district(v);
    return d ? text_in(d->name, lang()) : msg("outside_range_value");
  }
  if (slot == "police_station") {
    const PoliceStation* p = ref_.find_police_station(string_field(slots, "district"), v);
    return p ? text_in(p->name, lang()) : msg("unknown_value");
  }
  if (slot == "attachments") {
    auto it = slots.find("attachments");
    size_t n = it != slots.end() && it->is_array() ? it->size() : 0;
    return n == 0 ? msg("no_attachments") : msg("attachment_count", {{"count", std::to_string(n)}});
  }
  auto it = slots.find(slot);
  if (it != slots.end() && it->is_boolean()) return msg(it->get<bool>() ? "yes" : "no");
  if (it != slots.end() && it->is_object() && it->contains("date")) return display_time(*it);
  return v.empty() ? msg("unknown_value") : v;
}

std::string Turn::display_time(const json& v) {
  if (!v.is_object()) return msg("unknown_value");
  const std::string date = v.value("date", "");
  std::string out = date.size() == 10
                        ? date.substr(8, 2) + "/" + date.substr(5, 2) + "/" + date.substr(0, 4)
                        : date;
  if (v.contains("part")) out += ", " + msg("part_" + v.value("part", ""));
  if (v.contains("time")) out += " " + v.value("time", "");
  return out;
}

std::string Turn::summary(const Node& confirm) {
  std::string out;
  for (const auto& slot : confirm.summary) {
    if (slot != "attachments" && !s().slots.contains(slot)) continue;
    if (slot == "police_station" && slot_empty(s().slots, "district")) continue;
    auto f = flow_.fields.find(slot);
    std::string label = f == flow_.fields.end() ? slot : text_in(f->second, lang());
    out += (out.empty() ? "" : "\n") + label + ": " + display(slot);
  }
  return out;
}

Reply Turn::prompt(const Node& n) {
  Vars vars;
  if (n.type == "confirm") vars["summary"] = summary(n);
  Reply r{fill(text_in(n.text, lang()), vars), menu_for(n).options};
  return r;
}

void Turn::reprompt() {
  const Node* n = flow_.node(s().node);
  if (!n) return flush_preface();
  if (s().pending == "edit") return say_with_preface(msg("edit_which"), edit_menu(*n).options);
  if (s().pending == "did_you_mean")
    return say_with_preface(msg("did_you_mean"), candidate_menu().options);
  if (s().pending == "guess" && !s().candidates.empty() && s().candidates.front().size() > 4)
    return ask_guess(s().candidates.front().substr(4));
  Reply r = prompt(*n);
  say_with_preface(r.text, r.options);
}

void Turn::enter(std::string id, bool skip_answered) {
  for (int hops = 0; hops < 64; ++hops) {
    const Node* n = flow_.node(id);
    if (!n) break;
    // Questions the story already answered are skipped; the summary confirms them.
    if (skip_answered && n->type == "input" && s().return_to.empty() &&
        s().slots.contains(n->slot)) {
      id = n->next;
      continue;
    }
    if (!n->skip_unless.empty() && slot_empty(s().slots, n->skip_unless)) {
      if (!s().return_to.empty()) {
        id = s().return_to;
        s().return_to.clear();
      } else {
        id = n->next;
      }
      continue;
    }
    if (n->type == "action") {
      if (n->action == "create_ticket") create_ticket();
      id = n->next;
      continue;
    }
    s().node = id;
    s().failures = 0;
    s().pending.clear();
    s().candidates.clear();
    Vars vars;
    if (n->type == "end") {
      const District* d = ref_.find_district(string_field(s().slots, "district"));
      const Category* c = ref_.find_category(string_field(s().slots, "category"));
      std::string desk = msg("range_desk");
      if (d && c && d->cells.count(c->cell)) desk = text_in(d->cells.at(c->cell), lang());
      vars["desk"] = desk;
      say_with_preface(fill(text_in(n->text, lang()), vars));
      return;
    }
    Reply r = prompt(*n);
    say_with_preface(r.text, r.options);
    return;
  }
  flush_preface();
}

void Turn::advance(const Node& n) {
  if (s().trail.empty() || s().trail.back() != n.id) s().trail.push_back(n.id);
  std::string target = n.next;
  if (!s().return_to.empty()) {
    const Node* next = flow_.node(n.next);
    bool dependent = next && !n.slot.empty() && next->skip_unless == n.slot;
    if (!dependent) {
      target = s().return_to;
      s().return_to.clear();
    }
  }
  enter(target, true);
}

void Turn::accept(const Node& n, json value) {
  s().slots[n.slot] = std::move(value);
  if (n.slot == "district" && !s().return_to.empty()) s().slots.erase("police_station");
  advance(n);
}

void Turn::fail(const Node& n) {
  ++s().failures;
  Menu menu = menu_for(n);
  if (s().failures >= 3) {
    if (!menu.options.empty()) return say_with_preface(msg("simple_prompt"), menu.options);
    return say_with_preface(fill(text_in(n.retry, lang()), {}) + "\n\n" +
                            msg("simple_prompt_text"));
  }
  Vars vars;
  if (n.input == "police_station") {
    const District* d = ref_.find_district(string_field(s().slots, "district"));
    vars["example"] =
        d && !d->police_stations.empty() ? text_in(d->police_stations.front().name, lang()) : "";
  }
  say_with_preface(fill(text_in(n.retry, lang()), vars), menu.options);
}

void Turn::ask_did_you_mean(const std::string& prefix, const std::vector<std::string>& codes) {
  s().pending = "did_you_mean";
  s().candidates.clear();
  for (const auto& c : codes) s().candidates.push_back(prefix + c);
  say_with_preface(msg("did_you_mean"), candidate_menu().options);
}

void Turn::answer(const Node& n, const Utterance& u, const InboundMessage& m) {
  if (n.type == "confirm") return answer_confirm(n, u);
  // ("cat:<code>"; a stored session damaged otherwise is treated as having no guess.)
  if (s().pending == "guess" && !s().candidates.empty() && s().candidates.front().size() > 4) {
    const std::string code = s().candidates.front().substr(4);
    s().pending.clear();
    s().candidates.clear();
    if (u.button == "yes" || flow_.yes.equals(u)) return accept(n, code);
    if (u.button == "no" || flow_.no.equals(u)) return reprompt();
  }
  if (s().pending == "did_you_mean") {
    Menu menu = candidate_menu();
    s().pending.clear();
    if (menu.items.size() == 1 && (u.button == "yes" || flow_.yes.equals(u)))
      return accept(n, menu.items.front().id.substr(menu.items.front().id.find(':') + 1));
    if (auto i = match_choice(u, menu.items, flow_.numbers)) {
      const std::string& id = menu.items[*i].id;
      return accept(n, id.substr(id.find(':') + 1));
    }
  }
  if (n.type == "input") {
    if (answer_input(n, u, m)) return;
    if (u.form.empty() && !m.attachments.empty()) {  // a photo sent while asked something else
      preface(msg("attachment_received"));
      return reprompt();
    }
    return fail(n);
  }
  if (n.type == "menu") {
    Menu menu = menu_for(n);
    if (auto i = match_choice(u, menu.items, flow_.numbers)) {
      const FlowOption& o = n.options[*i];
      if (!o.next.empty()) {
        s().trail.push_back(n.id);
        return enter(o.next);
      }
      if (handle_command(o.command)) return;
    }
    return fail(n);
  }
}

bool Turn::answer_input(const Node& n, const Utterance& u, const InboundMessage& m) {
  const std::string& v = n.input;
  if (v == "category") {
    Menu menu = menu_for(n);
    if (auto i = match_choice(u, menu.items, flow_.numbers)) {
      accept(n, menu.items[*i].id.substr(4));
      return true;
    }
    std::vector<std::string> guesses = guess_categories(u, ref_);
    // The story told in answer to "what is it about?" answers the later questions too.
    if (u.form_words.size() >= 5) extract_story(u, m);
    if (guesses.size() == 1) {
      ask_guess(guesses.front());
      return true;
    }
    if (guesses.size() > 1) {
      ask_did_you_mean("cat:", guesses);
      return true;
    }
    return false;
  }
  if (v == "district") {
    Menu menu = menu_for(n);
    int distance = 0;
    std::optional<size_t> i = match_choice(u, menu.items, flow_.numbers, &distance);
    if (i && distance >= 2) {  // "sahajhapur": ask rather than guess
      ask_did_you_mean("dist:", {menu.items[*i].id.substr(5)});
      return true;
    }
    if (i && menu.items[*i].id == "dist:other") {
      preface(msg("outside_range"));
      accept(n, "");
      return true;
    }
    if (i) {
      accept(n, menu.items[*i].id.substr(5));
      return true;
    }
    NameMatch dm = match_district(u, ref_);
    if (dm.codes.size() == 1 && dm.distance >= 2) {
      ask_did_you_mean("dist:", dm.codes);
      return true;
    }
    if (dm.codes.size() == 1) {
      accept(n, dm.codes.front());
      return true;
    }
    if (dm.codes.size() > 1) {
      ask_did_you_mean("dist:", dm.codes);
      return true;
    }
    return false;
  }
  if (v == "police_station") {
    if (u.button == "ps:unknown" || flow_.dont_know.equals(u) || flow_.dont_know.occurs_in(u) ||
        (n.optional && flow_.skip.equals(u))) {
      accept(n, "");
      return true;
    }
    const District* d = ref_.find_district(string_field(s().slots, "district"));
    if (!d) {
      accept(n, "");
      return true;
    }
    Menu menu = menu_for(n);
    int distance = 0;
    if (auto i = match_choice(u, menu.items, flow_.numbers, &distance)) {
      const std::string& id = menu.items[*i].id;
      if (distance >= 2 && id != "ps:unknown") {
        ask_did_you_mean("ps:", {id.substr(3)});
        return true;
      }
      accept(n, id == "ps:unknown" ? "" : id.substr(3));
      return true;
    }
    NameMatch pm = match_police_station(u, *d);
    if (pm.codes.size() == 1 && pm.distance >= 2) {
      ask_did_you_mean("ps:", pm.codes);
      return true;
    }
    if (pm.codes.size() == 1) {
      accept(n, pm.codes.front());
      return true;
    }
    if (pm.codes.size() > 1) {
      ask_did_you_mean("ps:", pm.codes);
      return true;
    }
    return false;
  }
  if (v == "place") {
    std::string text = clean_text(m.text);
    bool located = false;
    for (const auto& a : m.attachments) located = located || a.kind == "location";
    if (located) {
      accept(n, text.empty() ? msg("location_shared") : text);
      return true;
    }
    if (n.optional && (flow_.dont_know.equals(u) || flow_.skip.equals(u))) {
      accept(n, "");
      return true;
    }
    if (utf8_length(text) >= 3 && !u.key.empty()) {
      accept(n, text);
      return true;
    }
    return false;
  }
  if (v == "datetime") {
    if (n.optional && (flow_.dont_know.equals(u) || flow_.skip.equals(u))) {
      accept(n, "");
      return true;
    }
    auto t =
        parse_incident_time(u, flow_.dates, flow_.numbers, ctx_.now_ms, ctx_.utc_offset_minutes);
    if (!t) return false;
    json value{{"date", t->date}, {"said", clean_text(m.text)}};
    if (!t->time.empty()) value["time"] = t->time;
    if (!t->part.empty()) value["part"] = t->part;
    if (t->future) {
      ++s().failures;
      say_with_preface(msg("future_time", {{"when", display_time(value)}}));
      return true;
    }
    accept(n, value);
    return true;
  }
  if (v == "text") {
    std::string text = clean_text(m.text);
    bool spoken = false;
    for (const auto& a : m.attachments)
      spoken = spoken || a.kind == "voice" || a.kind == "audio" || a.kind == "video";
    if (static_cast<int>(utf8_length(text)) >= std::max(n.min_length, 1) ||
        (text.empty() && spoken)) {
      accept(n, text);
      return true;
    }
    if (n.optional && flow_.skip.equals(u)) {
      accept(n, "");
      return true;
    }
    return false;
  }
  if (v == "name") {
    if (auto name = match_name(m.text)) {
      accept(n, *name);
      return true;
    }
    return false;
  }
  if (v == "mobile") {
    if (auto mobile = match_mobile(m.text)) {
      accept(n, *mobile);
      return true;
    }
    return false;
  }
  if (v == "yes_no") {
    if (u.button == "yes" || flow_.yes.equals(u)) {
      accept(n, true);
      return true;
    }
    if (u.button == "no" || flow_.no.equals(u)) {
      accept(n, false);
      return true;
    }
    std::vector<std::string> words = split_words(u.form);
    if (!words.empty()) {
      Utterance first = Utterance::of(words.front());
      if (flow_.yes.equals(first)) return accept(n, true), true;
      if (flow_.no.equals(first)) return accept(n, false), true;
    }
    return false;
  }
  return false;
}

void Turn::answer_confirm(const Node& n, const Utterance& u) {
  if (s().pending == "edit") {
    Menu menu = edit_menu(n);
    if (auto i = match_choice(u, menu.items, flow_.numbers)) {
      std::string slot = menu.items[*i].id.substr(5);
      for (const auto& [id, other] : flow_.nodes) {
        if (other.type == "input" && other.slot == slot) {
          s().return_to = n.id;
          enter(id);
          return;
        }
      }
    }
    ++s().failures;
    return say_with_preface(msg("edit_which"), menu.options);
  }
  if (u.button.empty()) {
    // "mobile badalna hai", "नाम गलत है": straight to that field.
    Menu fields = edit_menu(n);
    for (size_t k = 0; k < fields.items.size(); ++k) {
      for (const auto& key : *fields.items[k].keys) {
        if (!key.empty() && contains_phrase(u.key, key)) {
          s().pending = "edit";
          return answer_confirm(n, Utterance::of("", fields.items[k].id));
        }
      }
    }
  }
  Menu menu = menu_for(n);
  std::optional<size_t> i = match_choice(u, menu.items, flow_.numbers);
  if (!i && flow_.yes.equals(u)) i = 0;
  if (!i) return fail(n);
  const FlowOption& o = n.options[*i];
  if (!o.next.empty()) return enter(o.next);
  if (o.command == "edit") {
    s().pending = "edit";
    return say_with_preface(msg("edit_which"), edit_menu(n).options);
  }
  if (o.command == "cancel") return cancel();
  handle_command(o.command);
}

void Turn::create_ticket() {
  const json& slots = s().slots;
  const Category* c = ref_.find_category(string_field(slots, "category"));
  const std::string district = string_field(slots, "district");
  const bool emergency = slots.value("emergency", false);
  json data;
  data["category"] = c ? c->code : "other";
  data["district"] = district.empty() ? json(nullptr) : json(district);
  const std::string ps = string_field(slots, "police_station");
  data["police_station"] = ps.empty() ? json(nullptr) : json(ps);
  for (const char* key : {"place", "incident_time"})
    data[key] = slot_empty(slots, key) ? json(nullptr) : slots[key];
  data["description"] = string_field(slots, "description");
  data["attachments"] = slots.contains("attachments") ? slots["attachments"] : json::array();
  data["name"] = string_field(slots, "name");
  data["mobile"] = string_field(slots, "mobile");
  data["consent"] = slots.value("consent", false);
  data["emergency"] = emergency;
  data["priority"] = emergency ? "urgent" : (c ? c->priority : "normal");
  data["cell"] = district.empty() ? "triage" : (c ? c->cell : "social_media");
  data["lang"] = lang();
  data["mask_personal_data"] = c && c->mask_personal_data;
  out_.effects.push_back(Effect{"create_ticket", std::move(data)});
  s().trail.clear();
}

}  // namespace

StepResult step(const Flow& flow, const ReferenceData& ref, const Session& session,
                const InboundMessage& msg, const StepContext& ctx) {
  Turn turn(flow, ref, session, ctx);
  return turn.run(msg);
}

}  // namespace nivaran::dialogs
