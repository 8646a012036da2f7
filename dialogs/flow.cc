#include "dialogs/flow.h"

#include <algorithm>
#include <deque>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "dialogs/text.h"

namespace nivaran::dialogs {

using nlohmann::json;

namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Collects the first structural error as "<file>: <path>: <what>".
struct Errors {
  std::string file;
  std::string first;
  void add(const std::string& path, const std::string& what) {
    if (first.empty()) first = file + ": " + path + ": " + what;
  }
};

std::string get_string(const json& obj, const char* key, const std::string& path, Errors& e,
                       bool required = false) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) e.add(path + "." + key, "missing");
    return "";
  }
  if (!it->is_string()) {
    e.add(path + "." + key, "must be a string");
    return "";
  }
  return it->get<std::string>();
}

LocalText get_local(const json& obj, const char* key, const std::string& path, Errors& e) {
  LocalText t;
  auto it = obj.find(key);
  if (it == obj.end()) return t;
  if (!it->is_object()) {
    e.add(path + "." + key,
          "must be an object of language → text, e.g. {\"hi\": ..., \"en\": ...}");
    return t;
  }
  for (auto& [lang, v] : it->items()) {
    if (!v.is_string()) {
      e.add(path + "." + key + "." + lang, "must be a string");
      continue;
    }
    t[lang] = v.get<std::string>();
  }
  return t;
}

std::vector<std::string> get_strings(const json& obj, const char* key, const std::string& path,
                                     Errors& e) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end()) return out;
  if (!it->is_array()) {
    e.add(path + "." + key, "must be an array of strings");
    return out;
  }
  for (size_t i = 0; i < it->size(); ++i) {
    if (!(*it)[i].is_string()) {
      e.add(path + "." + key + "[" + std::to_string(i) + "]", "must be a string");
      continue;
    }
    out.push_back((*it)[i].get<std::string>());
  }
  return out;
}

Node parse_node(const std::string& id, const json& j, Errors& e) {
  Node n;
  n.id = id;
  const std::string path = "nodes." + id;
  if (!j.is_object()) {
    e.add(path, "must be an object");
    return n;
  }
  n.type = get_string(j, "type", path, e, /*required=*/true);
  n.text = get_local(j, "text", path, e);
  n.retry = get_local(j, "retry", path, e);
  n.input = get_string(j, "input", path, e);
  n.slot = get_string(j, "slot", path, e);
  n.next = get_string(j, "next", path, e);
  n.action = get_string(j, "action", path, e);
  n.skip_unless = get_string(j, "skip_unless", path, e);
  n.summary = get_strings(j, "summary", path, e);
  if (j.contains("optional")) {
    if (!j["optional"].is_boolean())
      e.add(path + ".optional", "must be true or false");
    else
      n.optional = j["optional"].get<bool>();
  }
  if (j.contains("min_length")) {
    if (!j["min_length"].is_number_integer() || j["min_length"].get<int>() < 0)
      e.add(path + ".min_length", "must be a non-negative integer");
    else
      n.min_length = j["min_length"].get<int>();
  }
  if (j.contains("options")) {
    if (!j["options"].is_array()) {
      e.add(path + ".options", "must be an array of options");
    } else {
      for (size_t i = 0; i < j["options"].size(); ++i) {
        const json& o = j["options"][i];
        std::string op = path + ".options[" + std::to_string(i) + "]";
        if (!o.is_object()) {
          e.add(op, "must be an object");
          continue;
        }
        FlowOption opt;
        opt.id = get_string(o, "id", op, e, /*required=*/true);
        opt.title = get_local(o, "title", op, e);
        opt.next = get_string(o, "next", op, e);
        opt.command = get_string(o, "command", op, e);
        std::vector<std::string> names = get_strings(o, "words", op, e);
        for (auto& [lang, t] : opt.title) names.push_back(t);
        names.push_back(opt.id);
        Phrases p = Phrases::of(names);
        opt.keys = p.keys;
        n.options.push_back(std::move(opt));
      }
    }
  }
  return n;
}

constexpr size_t kMaxOptionTitle = 24;

const std::vector<std::string> kOptionCommands = {"edit", "cancel", "restart", "help", "back"};

}  // namespace

const Node* Flow::node(const std::string& id) const {
  auto it = nodes.find(id);
  return it == nodes.end() ? nullptr : &it->second;
}

const std::string& Flow::message(const std::string& name, const std::string& lang) const {
  static const std::string empty;
  auto it = messages.find(name);
  return it == messages.end() ? empty : text_in(it->second, lang);
}

const std::vector<std::string>& node_types() {
  static const std::vector<std::string> v = {"input", "menu", "confirm", "action", "end"};
  return v;
}
const std::vector<std::string>& input_validators() {
  static const std::vector<std::string> v = {"category", "district", "police_station",
                                             "place",    "datetime", "text",
                                             "name",     "mobile",   "yes_no"};
  return v;
}
const std::vector<std::string>& flow_actions() {
  static const std::vector<std::string> v = {"create_ticket"};
  return v;
}
const std::vector<std::string>& flow_commands() {
  static const std::vector<std::string> v = {"help",    "cancel",  "restart", "back",
                                             "lang_en", "lang_hi", "continue"};
  return v;
}
const std::vector<std::string>& required_messages() {
  static const std::vector<std::string> v = {"greeting",
                                             "help",
                                             "emergency",
                                             "helpline",
                                             "cancelled",
                                             "nothing_to_cancel",
                                             "restarted",
                                             "language_switched",
                                             "attached",
                                             "open_ticket_question",
                                             "add_to_ticket",
                                             "attachment_received",
                                             "did_you_mean",
                                             "edit_which",
                                             "simple_prompt",
                                             "simple_prompt_text",
                                             "back_at_start",
                                             "outside_range",
                                             "range_desk",
                                             "other_district",
                                             "dont_know",
                                             "unknown_value",
                                             "outside_range_value",
                                             "no_attachments",
                                             "attachment_count",
                                             "yes",
                                             "no",
                                             "new_complaint",
                                             "help_option",
                                             "category_guess",
                                             "future_time",
                                             "status_reply",
                                             "status_which",
                                             // said by the pipeline for a ticket_status effect
                                             "ticket_status_new",
                                             "ticket_status_in_progress",
                                             "ticket_status_forwarded",
                                             "ticket_status_resolved",
                                             "ticket_status_closed",
                                             "ticket_status_reopened",
                                             "ticket_not_found",
                                             "internal_error",  // when a step fails
                                             "resume_offer",
                                             "continue",
                                             "location_shared",
                                             "child_helpline",
                                             "part_morning",
                                             "part_afternoon",
                                             "part_evening",
                                             "part_night"};
  return v;
}

Result<Flow> load_flow(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::invalid(path + ": cannot open file");
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::invalid(path + ": not valid JSON");
  if (!j.is_object()) return Status::invalid(path + ": must be a JSON object");

  Errors e{path, ""};
  Flow f;
  f.id = get_string(j, "id", "flow", e, true);
  f.start = get_string(j, "start", "flow", e, true);
  f.languages = get_strings(j, "languages", "flow", e);
  if (f.languages.empty()) e.add("languages", "missing (expected e.g. [\"hi\", \"en\"])");
  if (!j.contains("nodes") || !j["nodes"].is_object() || j["nodes"].empty()) {
    e.add("nodes", "missing (expected an object of node id → node)");
  } else {
    for (auto& [id, node] : j["nodes"].items()) f.nodes[id] = parse_node(id, node, e);
  }
  if (j.contains("messages")) {
    if (!j["messages"].is_object())
      e.add("messages", "must be an object of name → texts");
    else
      for (auto& [name, v] : j["messages"].items())
        f.messages[name] = get_local(j["messages"], name.c_str(), "messages", e);
  }
  if (j.contains("fields")) {
    if (!j["fields"].is_object())
      e.add("fields", "must be an object of slot → labels");
    else
      for (auto& [name, v] : j["fields"].items())
        f.fields[name] = get_local(j["fields"], name.c_str(), "fields", e);
  }
  if (j.contains("commands")) {
    if (!j["commands"].is_object())
      e.add("commands", "must be an object of command → words");
    else
      for (auto& [name, v] : j["commands"].items())
        f.commands[name] = Phrases::of(get_strings(j["commands"], name.c_str(), "commands", e));
  }
  f.emergency = Phrases::of(get_strings(j, "emergency_words", "flow", e));
  if (j.contains("idle_minutes")) {
    if (!j["idle_minutes"].is_number_integer() || j["idle_minutes"].get<int>() < 1)
      e.add("idle_minutes", "must be a positive whole number of minutes");
    else
      f.idle_minutes = j["idle_minutes"].get<int>();
  }
  if (j.contains("vocabulary")) {
    const json& v = j["vocabulary"];
    if (!v.is_object()) {
      e.add("vocabulary", "must be an object");
    } else {
      f.yes = Phrases::of(get_strings(v, "yes", "vocabulary", e));
      f.no = Phrases::of(get_strings(v, "no", "vocabulary", e));
      f.dont_know = Phrases::of(get_strings(v, "dont_know", "vocabulary", e));
      f.skip = Phrases::of(get_strings(v, "skip", "vocabulary", e));
      f.numbers.fillers = Phrases::of(get_strings(v, "number_fillers", "vocabulary", e));
      f.greetings = Phrases::of(get_strings(v, "greetings", "vocabulary", e));
      f.english_markers = Phrases::of(get_strings(v, "english_markers", "vocabulary", e));
      f.status = Phrases::of(get_strings(v, "status", "vocabulary", e));
      f.child_words = Phrases::of(get_strings(v, "child_words", "vocabulary", e));
      f.place_words = Phrases::of(get_strings(v, "place_words", "vocabulary", e));
      f.place_markers = Phrases::of(get_strings(v, "place_markers", "vocabulary", e));
      f.not_place_names = Phrases::of(get_strings(v, "not_place_names", "vocabulary", e));
      f.station_words = Phrases::of(get_strings(v, "station_words", "vocabulary", e));
      f.common_word_stations =
          Phrases::of(get_strings(v, "common_word_stations", "vocabulary", e));
      if (v.contains("dates")) {
        const json& d = v["dates"];
        const std::string dp = "vocabulary.dates";
        if (!d.is_object()) {
          e.add(dp, "must be an object");
        } else {
          f.dates.now = Phrases::of(get_strings(d, "now", dp, e));
          f.dates.today = Phrases::of(get_strings(d, "today", dp, e));
          f.dates.yesterday = Phrases::of(get_strings(d, "yesterday", dp, e));
          f.dates.day_before_yesterday = Phrases::of(get_strings(d, "day_before_yesterday", dp, e));
          f.dates.days_ago = Phrases::of(get_strings(d, "days_ago", dp, e));
          f.dates.hour_marker = Phrases::of(get_strings(d, "hour_marker", dp, e));
          f.dates.am = Phrases::of(get_strings(d, "am", dp, e));
          f.dates.pm = Phrases::of(get_strings(d, "pm", dp, e));
          for (const char* part : {"morning", "afternoon", "evening", "night"})
            f.dates.parts[part] = Phrases::of(get_strings(d, part, dp, e));
          if (d.contains("months")) {
            if (!d["months"].is_object())
              e.add(dp + ".months", "must be an object of 1..12 → names");
            else
              for (auto& [num, names] : d["months"].items()) {
                int n = std::atoi(num.c_str());
                if (n < 1 || n > 12) {
                  e.add(dp + ".months." + num, "key must be a month number 1-12");
                  continue;
                }
                f.dates.months[n] =
                    Phrases::of(get_strings(d["months"], num.c_str(), dp + ".months", e));
              }
          }
        }
      }
      if (v.contains("numbers")) {
        if (!v["numbers"].is_object()) {
          e.add("vocabulary.numbers", "must be an object of number → words");
        } else {
          for (auto& [num, words] : v["numbers"].items()) {
            int n = 0;
            try {
              n = std::stoi(num);
            } catch (...) {
              e.add("vocabulary.numbers." + num, "key must be a number");
              continue;
            }
            Phrases p =
                Phrases::of(get_strings(v["numbers"], num.c_str(), "vocabulary.numbers", e));
            for (size_t i = 0; i < p.keys.size(); ++i) {
              auto [it, fresh] = f.numbers.keys.emplace(p.keys[i], n);
              if (!fresh && it->second != n)
                e.add("vocabulary.numbers." + num,
                      "\"" + p.forms[i] + "\" reads the same as a word for " +
                          std::to_string(it->second) + " (change or remove one of them)");
            }
          }
        }
      }
    }
  }
  if (!e.first.empty()) return Status::invalid(e.first);
  for (const auto& [slot, labels] : f.fields) {
    std::vector<std::string> names;
    for (const auto& [lang, t] : labels) names.push_back(t);
    f.field_names[slot] = Phrases::of(names);
  }
  auto first_words_of = [&f](const Phrases& p) {
    for (const auto& words : p.key_words)
      if (!words.empty()) f.dates.first_words.insert(words.front());
  };
  for (const Phrases* p : {&f.dates.now, &f.dates.today, &f.dates.yesterday,
                           &f.dates.day_before_yesterday, &f.dates.days_ago, &f.dates.hour_marker,
                           &f.dates.am, &f.dates.pm})
    first_words_of(*p);
  for (const auto& [part, p] : f.dates.parts) first_words_of(p);
  for (const auto& [month, p] : f.dates.months) first_words_of(p);
  for (const auto& [name, texts] : f.messages) {
    std::vector<std::string> names;
    for (const auto& [lang, t] : texts)
      if (t.size() <= 64) names.push_back(t);
    if (!names.empty()) f.message_names[name] = Phrases::of(names);
  }
  return f;
}

std::vector<std::string> validate_flow(const Flow& flow, const ReferenceData& ref,
                                       const std::string& file) {
  std::vector<std::string> errors;
  auto err = [&](const std::string& where, const std::string& what) {
    errors.push_back(file + ": " + where + ": " + what);
  };
  auto check_langs = [&](const LocalText& t, const std::string& where) {
    for (const auto& lang : flow.languages)
      if (!t.count(lang) || t.at(lang).empty()) err(where + "." + lang, "missing translation");
  };
  auto check_target = [&](const std::string& target, const std::string& where) {
    if (!flow.node(target)) err(where, "points to unknown node '" + target + "'");
  };

  if (!flow.node(flow.start)) err("start", "unknown node '" + flow.start + "'");

  std::set<std::string> filled_slots = {"attachments"};
  for (const auto& [id, n] : flow.nodes)
    if (n.type == "input" && !n.slot.empty()) filled_slots.insert(n.slot);

  for (const auto& [id, n] : flow.nodes) {
    const std::string at = "nodes." + id;
    if (!contains(node_types(), n.type)) {
      err(at + ".type",
          "unknown node type '" + n.type + "' (expected input, menu, confirm, action or end)");
      continue;
    }
    if (n.type != "action") {
      if (n.text.empty())
        err(at + ".text", "missing");
      else
        check_langs(n.text, at + ".text");
    }
    if (n.type == "input" || n.type == "menu" || n.type == "confirm") {
      if (n.retry.empty())
        err(at + ".retry", "missing (what to say when the answer is unusable)");
      else
        check_langs(n.retry, at + ".retry");
    }
    if (n.type == "input") {
      if (!contains(input_validators(), n.input))
        err(at + ".input", "unknown validator '" + n.input + "'");
      if (n.slot.empty()) err(at + ".slot", "missing");
    }
    if (n.type == "input" || n.type == "action" || n.type == "confirm") {
      if (n.next.empty())
        err(at + ".next", "missing");
      else
        check_target(n.next, at + ".next");
    }
    if (n.type == "end" && !n.next.empty()) err(at + ".next", "an end node has no next");
    if (n.type == "action") {
      if (!contains(flow_actions(), n.action))
        err(at + ".action", "unknown action '" + n.action + "'");
      if (n.action == "create_ticket") {
        const Node* after = flow.node(n.next);
        bool has_ref = after && std::all_of(after->text.begin(), after->text.end(), [](auto& kv) {
                         return kv.second.find("{ticket_ref}") != std::string::npos;
                       });
        if (after && !has_ref)
          err("nodes." + n.next + ".text", "must contain {ticket_ref} in every language");
      }
    }
    if ((n.type == "menu" || n.type == "confirm") && n.options.empty())
      err(at + ".options", "missing");
    for (size_t i = 0; i < n.options.size(); ++i) {
      const FlowOption& o = n.options[i];
      const std::string oat = at + ".options." + (o.id.empty() ? std::to_string(i) : o.id);
      if (o.id.empty() || o.id.size() > 64 ||
          !std::all_of(o.id.begin(), o.id.end(), [](char c) { return c > 32 && c < 127; }))
        err(oat + ".id", "must be 1-64 printable ASCII characters");
      check_langs(o.title, oat + ".title");
      if (!o.next.empty())
        check_target(o.next, oat + ".next");
      else if (o.command.empty())
        err(oat, "needs a next node or a command");
      else if (!contains(kOptionCommands, o.command))
        err(oat + ".command", "unknown command '" + o.command + "'");
    }
    for (const auto& slot : n.summary) {
      if (!filled_slots.count(slot))
        err(at + ".summary", "no input node fills slot '" + slot + "'");
      auto f = flow.fields.find(slot);
      if (f == flow.fields.end())
        err("fields." + slot, "missing label for summary slot");
      else
        check_langs(f->second, "fields." + slot);
    }
    if (!n.skip_unless.empty() && !filled_slots.count(n.skip_unless))
      err(at + ".skip_unless", "no input node fills slot '" + n.skip_unless + "'");
  }

  // Reachability from the start, following next, options and confirm edits.
  std::set<std::string> seen;
  std::deque<std::string> todo = {flow.start};
  while (!todo.empty()) {
    std::string id = todo.front();
    todo.pop_front();
    const Node* n = flow.node(id);
    if (!n || !seen.insert(id).second) continue;
    if (!n->next.empty()) todo.push_back(n->next);
    for (const auto& o : n->options)
      if (!o.next.empty()) todo.push_back(o.next);
    for (const auto& slot : n->summary)
      for (const auto& [oid, other] : flow.nodes)
        if (other.type == "input" && other.slot == slot) todo.push_back(oid);
  }
  for (const auto& [id, n] : flow.nodes)
    if (!seen.count(id)) err("nodes." + id, "unreachable from start node '" + flow.start + "'");

  for (const auto& name : required_messages()) {
    auto it = flow.messages.find(name);
    if (it == flow.messages.end())
      err("messages." + name, "missing");
    else
      check_langs(it->second, "messages." + name);
  }
  for (const auto& [name, t] : flow.messages) check_langs(t, "messages." + name);
  for (const auto& [name, p] : flow.commands)
    if (!contains(flow_commands(), name)) err("commands." + name, "unknown command");
  for (const auto& name : flow_commands())
    if (!flow.commands.count(name) || flow.commands.at(name).empty())
      err("commands." + name, "missing words");
  if (flow.yes.empty()) err("vocabulary.yes", "missing words");
  if (flow.no.empty()) err("vocabulary.no", "missing words");
  if (flow.dont_know.empty()) err("vocabulary.dont_know", "missing words");
  if (flow.emergency.empty()) err("emergency_words", "missing");
  if (flow.status.empty()) err("vocabulary.status", "missing words");
  bool uses_dates = false;
  for (const auto& [id, n] : flow.nodes) uses_dates = uses_dates || n.input == "datetime";
  if (uses_dates &&
      (flow.dates.today.empty() || flow.dates.yesterday.empty() || flow.dates.months.size() != 12))
    err("vocabulary.dates", "needs today, yesterday and all 12 months for a datetime input");

  // Option titles must fit a WhatsApp list row (24 characters); buttons fall back to lists.
  auto check_title = [&](const LocalText& t, const std::string& where) {
    for (const auto& [lang, text] : t) {
      size_t chars = 0;
      for (unsigned char c : text) chars += (c & 0xC0) != 0x80;
      if (chars > kMaxOptionTitle)
        err(where + "." + lang,
            "option title longer than " + std::to_string(kMaxOptionTitle) + " characters");
    }
  };
  for (const auto& [id, n] : flow.nodes)
    for (const auto& o : n.options)
      check_title(o.title, "nodes." + id + ".options." + o.id + ".title");
  for (const char* name :
       {"other_district", "dont_know", "yes", "no", "new_complaint", "continue", "add_to_ticket"}) {
    auto it = flow.messages.find(name);
    if (it != flow.messages.end()) check_title(it->second, std::string("messages.") + name);
  }
  for (const auto& [slot, labels] : flow.fields) check_title(labels, "fields." + slot);

  // Reference data must speak every language of the flow, in titles that fit.
  for (const auto& c : ref.categories) {
    check_langs(c.name, "categories." + c.code + ".name");
    check_langs(c.short_name, "categories." + c.code + ".short_name");
    check_title(c.short_name, "categories." + c.code + ".short_name");
  }
  for (const auto& d : ref.districts) {
    check_langs(d.name, "districts." + d.code + ".name");
    check_title(d.name, "districts." + d.code + ".name");
    for (const auto& p : d.police_stations) {
      const std::string at = "districts." + d.code + ".police_stations." + p.code + ".name";
      check_langs(p.name, at);
      check_title(p.name, at);
    }
  }
  return errors;
}

}  // namespace nivaran::dialogs
