#include "dialogs/reference_data.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "dialogs/text.h"

namespace nivaran::dialogs {

using nlohmann::json;

namespace {

// Reads a JSON document, or an error naming the file.
Result<json> read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::invalid(path + ": cannot open file");
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::invalid(path + ": not valid JSON");
  return j;
}

// What the range office may not change: DESIGN.md fixes these codes and guarantees.
const std::vector<std::string>& required_districts() {
  static const std::vector<std::string> codes = {"bareilly", "badaun", "pilibhit", "shahjahanpur"};
  return codes;
}
const std::vector<std::string>& required_categories() {
  static const std::vector<std::string> codes = {"theft",   "cyber_fraud",    "women_safety",
                                                 "assault", "land_dispute",   "missing_person",
                                                 "traffic", "police_conduct", "objectionable_post",
                                                 "other"};
  return codes;
}
// Tickets outside the range's districts start with this (bot/pipeline.h, triage_prefix).
constexpr const char* kTriagePrefix = "BRG";
// A WhatsApp list row holds 24 characters; names and short names are shown in such rows.
constexpr size_t kMaxTitle = 24;

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string in_quotes(const std::string& s) { return "\"" + s + "\""; }

size_t chars_in(const std::string& utf8) {
  size_t n = 0;
  for (unsigned char c : utf8) n += (c & 0xC0) != 0x80;
  return n;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Field-by-field reader that remembers the first problem as "<file>: <path>: <what>".
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}
  bool failed() const { return !error_.empty(); }
  Status status() const { return Status::invalid(error_); }

  void fail(const std::string& path, const std::string& what) {
    if (error_.empty()) error_ = file_ + ": " + path + ": " + what;
  }

  // Every key of `obj` is one of `allowed`; keys starting with "_" are notes and ignored. A
  // misspelt key ("varients") would otherwise be silently ignored.
  void known_keys(const json& obj, const std::string& path,
                  std::initializer_list<const char*> allowed) {
    for (auto& [key, v] : obj.items()) {
      if (!key.empty() && key[0] == '_') continue;
      bool ok = false;
      std::string expected;
      for (const char* a : allowed) {
        ok = ok || key == a;
        expected += (expected.empty() ? "" : ", ") + std::string(a);
      }
      if (!ok)
        fail(path.empty() ? key : path + "." + key, "unknown field (expected " + expected + ")");
    }
  }

  std::string string(const json& obj, const std::string& path, const char* key,
                     bool required = true) {
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) fail(path + "." + key, "missing");
      return "";
    }
    if (!it->is_string() || (required && it->get<std::string>().empty())) {
      fail(path + "." + key, "must be a non-empty string");
      return "";
    }
    return it->get<std::string>();
  }

  // An array of non-empty strings, each with at least one letter or digit to match on.
  std::vector<std::string> strings(const json& obj, const std::string& path, const char* key) {
    std::vector<std::string> out;
    auto it = obj.find(key);
    if (it == obj.end()) return out;
    if (!it->is_array()) {
      fail(path + "." + key, "must be an array of strings, e.g. [\"bareli\", \"बरैली\"]");
      return out;
    }
    for (size_t i = 0; i < it->size(); ++i) {
      const json& v = (*it)[i];
      const std::string at = path + "." + key + "[" + std::to_string(i) + "]";
      if (!v.is_string() || v.get<std::string>().empty()) {
        fail(at, "must be a non-empty string");
        continue;
      }
      if (phonetic_key(match_form(v.get<std::string>())).empty()) {
        fail(at, in_quotes(v.get<std::string>()) + " has no letters to match");
        continue;
      }
      out.push_back(v.get<std::string>());
    }
    return out;
  }

  // A {"hi": ..., "en": ...} object; both languages required, Hindi in Devanagari, English
  // in Latin letters; `title`: short enough for a list row.
  LocalText local(const json& obj, const std::string& path, const char* key, bool required = true,
                  bool title = false) {
    LocalText t;
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) fail(path + "." + key, "missing (expected {\"hi\": ..., \"en\": ...})");
      return t;
    }
    if (!it->is_object()) {
      fail(path + "." + key, "must be an object {\"hi\": ..., \"en\": ...}");
      return t;
    }
    for (const char* lang : {"hi", "en"}) {
      auto l = it->find(lang);
      if (l == it->end() || !l->is_string() || l->get<std::string>().empty()) {
        fail(path + "." + key + "." + lang, "missing translation");
        continue;
      }
    }
    for (auto& [lang, v] : it->items()) {
      if (!lang.empty() && lang[0] == '_') continue;
      const std::string at = path + "." + key + "." + lang;
      if (!v.is_string()) {
        fail(at, "must be a string");
        continue;
      }
      const std::string text = v.get<std::string>();
      if (lang == "hi" && !text.empty() && !has_devanagari(text))
        fail(at, in_quotes(text) + " is not in Devanagari (the Hindi name goes in \"hi\")");
      if (lang == "en" && has_devanagari(text))
        fail(at, in_quotes(text) + " is in Devanagari (the English name goes in \"en\")");
      if (title && chars_in(text) > kMaxTitle)
        fail(at, in_quotes(text) + " is longer than " + std::to_string(kMaxTitle) +
                     " characters (it must fit a WhatsApp list row)");
      t[lang] = text;
    }
    return t;
  }

 private:
  std::string file_;
  std::string error_;
};

bool is_code(const std::string& s) {
  if (s.empty() || s.size() > 40) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

// Reads a "code" field that must be a unique lower_snake code; "" when it is not usable.
std::string read_code(const json& obj, const std::string& path, Reader& r,
                      std::set<std::string>& seen, const std::string& what) {
  std::string code = r.string(obj, path, "code");
  if (code.empty()) return "";
  if (!is_code(code)) {
    r.fail(path + ".code",
           in_quotes(code) + " must be lower-case a-z, 0-9 and _ (e.g. prem_nagar)");
    return "";
  }
  if (!seen.insert(code).second)
    r.fail(path + ".code", "duplicate " + what + " " + in_quotes(code));
  return code;
}

// The names a citizen may type for one thing (district, police station): its code, names and
// variants, each with the field it comes from, as the matcher sees them (phonetic keys).
struct Spelling {
  std::string key;
  std::string text;
  std::string field;
};

std::vector<Spelling> spellings(const std::string& code, const LocalText& name,
                                const std::vector<std::string>& variants) {
  std::vector<Spelling> out;
  auto add = [&](const std::string& text, const std::string& field) {
    // The matcher reads "prem nagar" and "premnagar" alike, so spaces do not tell names apart.
    std::string k = phonetic_key(match_form(text));
    k.erase(std::remove(k.begin(), k.end(), ' '), k.end());
    if (!k.empty()) out.push_back({k, text, field});
  };
  add(code, "code");
  for (auto& [lang, n] : name) add(n, "name." + lang);
  for (size_t i = 0; i < variants.size(); ++i)
    add(variants[i], "variants[" + std::to_string(i) + "]");
  return out;
}

// Fails when one of `mine` reads the same as a spelling already taken (key → whose it is): the
// citizen who types it could not be told which one is meant.
void check_confusable(Reader& r, const std::string& path, const std::vector<Spelling>& mine,
                      const std::map<std::string, std::string>& earlier) {
  for (const auto& s : mine) {
    auto it = earlier.find(s.key);
    if (it != earlier.end())
      r.fail(path + "." + s.field,
             in_quotes(s.text) + " reads the same as " + it->second +
                 "; a citizen who types it could mean either (change or remove one spelling)");
  }
}

void parse_districts(const json& root, Reader& r, ReferenceData& ref) {
  if (!root.is_object() || !root.contains("districts") || !root["districts"].is_array()) {
    r.fail("districts", "missing (expected an array of districts)");
    return;
  }
  r.known_keys(root, "", {"districts"});
  std::set<std::string> seen;
  std::map<std::string, std::string> prefixes;       // ticket prefix → district
  std::map<std::string, std::string> district_keys;  // spelling key → "district X"
  const json& arr = root["districts"];
  for (size_t i = 0; i < arr.size(); ++i) {
    const json& d = arr[i];
    std::string path = "districts[" + std::to_string(i) + "]";
    if (!d.is_object()) {
      r.fail(path, "must be an object");
      return;
    }
    District out;
    out.code = read_code(d, path, r, seen, "district");
    if (!out.code.empty()) path = "districts." + out.code;
    r.known_keys(d, path,
                 {"code", "name", "variants", "ticket_prefix", "cells", "police_stations"});
    out.name = r.local(d, path, "name", /*required=*/true, /*title=*/true);
    out.variants = r.strings(d, path, "variants");
    out.ticket_prefix = r.string(d, path, "ticket_prefix");
    if (!out.ticket_prefix.empty()) {
      bool upper = out.ticket_prefix.size() == 3;
      for (char c : out.ticket_prefix) upper = upper && c >= 'A' && c <= 'Z';
      if (!upper) {
        r.fail(path + ".ticket_prefix",
               in_quotes(out.ticket_prefix) + " must be 3 capital letters A-Z (e.g. \"BLY\")");
      } else if (out.ticket_prefix == kTriagePrefix) {
        r.fail(path + ".ticket_prefix", in_quotes(out.ticket_prefix) +
                                            " is the range triage queue's prefix; choose another");
      } else if (auto [it, fresh] = prefixes.emplace(out.ticket_prefix, out.code); !fresh) {
        r.fail(path + ".ticket_prefix", in_quotes(out.ticket_prefix) + " is already district " +
                                            in_quotes(it->second) + "'s ticket prefix");
      }
    }
    if (!d.contains("cells")) {
      r.fail(path + ".cells", "missing (expected social_media, cyber, women, nodal)");
    } else if (!d["cells"].is_object()) {
      r.fail(path + ".cells", "must be an object of cell → {\"hi\", \"en\"}");
    } else {
      for (auto& [cell, v] : d["cells"].items()) {
        if (!cell.empty() && cell[0] == '_') continue;
        if (!contains(known_cells(), cell))
          r.fail(path + ".cells." + cell,
                 "unknown cell (expected social_media, cyber, women, nodal)");
        out.cells[cell] = r.local(d["cells"], path + ".cells", cell.c_str());
      }
      for (const auto& cell : known_cells())
        if (!out.cells.count(cell)) r.fail(path + ".cells." + cell, "missing");
    }
    const std::vector<Spelling> own = spellings(out.code, out.name, out.variants);
    check_confusable(r, path, own, district_keys);
    for (const auto& s : own) district_keys.emplace(s.key, "district " + out.code);

    std::set<std::string> ps_seen;
    std::map<std::string, std::string> station_keys;  // spelling key → "police station X"
    auto ps_it = d.find("police_stations");
    if (ps_it == d.end()) {
      r.fail(path + ".police_stations", "missing (expected an array of police stations)");
    } else if (!ps_it->is_array()) {
      r.fail(path + ".police_stations", "must be an array of police stations");
    } else if (ps_it->empty()) {
      r.fail(path + ".police_stations", "must list at least one police station");
    }
    for (size_t k = 0; ps_it != d.end() && ps_it->is_array() && k < ps_it->size(); ++k) {
      const json& p = (*ps_it)[k];
      std::string pp = path + ".police_stations[" + std::to_string(k) + "]";
      if (!p.is_object()) {
        r.fail(pp, "must be an object {\"code\", \"name\", \"variants\"}");
        continue;
      }
      PoliceStation st;
      st.code = read_code(p, pp, r, ps_seen, "police station");
      if (!st.code.empty()) pp = path + ".police_stations." + st.code;
      r.known_keys(p, pp, {"code", "name", "variants"});
      st.name = r.local(p, pp, "name", /*required=*/true, /*title=*/true);
      st.variants = r.strings(p, pp, "variants");
      const std::vector<Spelling> mine = spellings(st.code, st.name, st.variants);
      check_confusable(r, pp, mine, station_keys);
      const std::string label =
          "police station " + st.code + " (" + in_quotes(text_in(st.name, "en")) + ")";
      for (const auto& s : mine) station_keys.emplace(s.key, label);
      out.police_stations.push_back(std::move(st));
    }
    ref.districts.push_back(std::move(out));
  }
  if (ref.districts.empty()) r.fail("districts", "must list at least one district");
  // A station spelt like a district (any district) would be taken for the district.
  for (const auto& d : ref.districts)
    for (const auto& p : d.police_stations)
      if (!d.code.empty() && !p.code.empty())
        check_confusable(r, "districts." + d.code + ".police_stations." + p.code,
                         spellings(p.code, p.name, p.variants), district_keys);
  for (const auto& code : required_districts())
    if (!seen.count(code))
      r.fail("districts", "missing district " + in_quotes(code) + " (the range's districts are " +
                              join(required_districts()) + ")");
}

void parse_categories(const json& root, Reader& r, ReferenceData& ref) {
  if (!root.is_object() || !root.contains("categories") || !root["categories"].is_array()) {
    r.fail("categories", "missing (expected an array of categories)");
    return;
  }
  r.known_keys(root, "", {"categories"});
  std::set<std::string> seen;
  const json& arr = root["categories"];
  for (size_t i = 0; i < arr.size(); ++i) {
    const json& c = arr[i];
    std::string path = "categories[" + std::to_string(i) + "]";
    if (!c.is_object()) {
      r.fail(path, "must be an object");
      return;
    }
    Category out;
    out.code = read_code(c, path, r, seen, "category");
    if (!out.code.empty()) path = "categories." + out.code;
    r.known_keys(c, path,
                 {"code", "name", "short_name", "cell", "priority", "keywords", "helplines",
                  "mask_personal_data"});
    out.name = r.local(c, path, "name");
    out.short_name = r.local(c, path, "short_name", /*required=*/false, /*title=*/true);
    if (out.short_name.empty()) {
      out.short_name = out.name;
      for (const auto& [lang, t] : out.name)
        if (chars_in(t) > kMaxTitle)
          r.fail(path + ".short_name",
                 "missing, and name." + lang + " is longer than " + std::to_string(kMaxTitle) +
                     " characters: give a short_name that fits a WhatsApp list row");
    }
    out.keywords = r.strings(c, path, "keywords");
    out.cell = r.string(c, path, "cell");
    if (!out.cell.empty() && !contains(known_cells(), out.cell))
      r.fail(path + ".cell",
             "unknown cell '" + out.cell + "' (expected social_media, cyber, women, nodal)");
    out.priority = r.string(c, path, "priority");
    if (!out.priority.empty() && out.priority != "normal" && out.priority != "high")
      r.fail(path + ".priority", "must be \"normal\" or \"high\"");
    if (c.contains("helplines")) {
      const json& h = c["helplines"];
      if (!h.is_array()) r.fail(path + ".helplines", "must be an array");
      for (size_t k = 0; h.is_array() && k < h.size(); ++k) {
        std::string hp = path + ".helplines[" + std::to_string(k) + "]";
        if (!h[k].is_object()) {
          r.fail(hp, "must be an object {\"number\", \"name\"}");
          continue;
        }
        r.known_keys(h[k], hp, {"number", "name"});
        Helpline hl;
        hl.number = r.string(h[k], hp, "number");
        bool digits = hl.number.size() >= 3 && hl.number.size() <= 12;
        for (char ch : hl.number) digits = digits && ch >= '0' && ch <= '9';
        if (!hl.number.empty() && !digits)
          r.fail(hp + ".number", in_quotes(hl.number) + " must be 3-12 digits (e.g. \"1930\")");
        hl.name = r.local(h[k], hp, "name");
        out.helplines.push_back(std::move(hl));
      }
    }
    if (c.contains("mask_personal_data")) {
      if (!c["mask_personal_data"].is_boolean())
        r.fail(path + ".mask_personal_data", "must be true or false");
      else
        out.mask_personal_data = c["mask_personal_data"].get<bool>();
    }
    // Guarantees DESIGN.md makes to citizens; the file may not take them away.
    if (out.code == "police_conduct" && !out.cell.empty() && out.cell != "nodal")
      r.fail(path + ".cell",
             "must be \"nodal\": complaints about police conduct go to the district's nodal "
             "officer, never to the police station concerned");
    if (out.code == "women_safety" && !out.mask_personal_data)
      r.fail(path + ".mask_personal_data",
             "must be true: the personal data of complaints about crimes against women is masked");
    ref.categories.push_back(std::move(out));
  }
  if (ref.categories.empty()) r.fail("categories", "must list at least one category");
  for (const auto& code : required_categories())
    if (!seen.count(code))
      r.fail("categories", "missing category " + in_quotes(code) + " (the categories are " +
                               join(required_categories()) + ")");
}

void add_keys(std::vector<std::string>& keys, const std::string& text) {
  std::string k = phonetic_key(match_form(text));
  if (!k.empty() && std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
}

}  // namespace

const std::string& text_in(const LocalText& t, const std::string& lang) {
  static const std::string empty;
  auto it = t.find(lang);
  if (it != t.end() && !it->second.empty()) return it->second;
  it = t.find("hi");
  if (it != t.end()) return it->second;
  return t.empty() ? empty : t.begin()->second;
}

const std::vector<std::string>& known_cells() {
  static const std::vector<std::string> cells = {"social_media", "cyber", "women", "nodal"};
  return cells;
}

const District* ReferenceData::find_district(const std::string& code) const {
  for (const auto& d : districts)
    if (d.code == code) return &d;
  return nullptr;
}

const Category* ReferenceData::find_category(const std::string& code) const {
  for (const auto& c : categories)
    if (c.code == code) return &c;
  return nullptr;
}

const PoliceStation* ReferenceData::find_police_station(const std::string& district,
                                                        const std::string& code) const {
  const District* d = find_district(district);
  if (!d) return nullptr;
  for (const auto& p : d->police_stations)
    if (p.code == code) return &p;
  return nullptr;
}

void NameIndex::add(const std::vector<std::string>& keys, size_t thing) {
  for (std::string k : keys) {
    k.erase(std::remove(k.begin(), k.end(), ' '), k.end());
    auto& list = things[k];
    if (std::find(list.begin(), list.end(), thing) == list.end()) list.push_back(thing);
    longest = std::max(longest, k.size());
    starts.set(start_of(k));
  }
}

void keyword_index_keys(const std::string& word, bool said, std::vector<std::string>& keys) {
  // same_word (match.cc): equal words and Hindi endings share the first three letters; one
  // typo in a keyword of 6+ letters leaves either the first three or the last two intact, and
  // the said word then has 5+ letters.
  keys.resize(word.size() >= (said ? 5u : 6u) ? 2 : 1);
  keys[0].assign("^").append(word, 0, 3);
  if (keys.size() == 2) keys[1].assign("$").append(word, word.size() - 2, 2);
}

void build_match_keys(ReferenceData& ref) {
  ref.district_index = {};
  ref.station_index = {};
  ref.stations.clear();
  for (size_t i = 0; i < ref.districts.size(); ++i) {
    District& d = ref.districts[i];
    d.keys.clear();
    add_keys(d.keys, d.code);
    for (auto& [lang, name] : d.name) add_keys(d.keys, name);
    for (auto& v : d.variants) add_keys(d.keys, v);
    ref.district_index.add(d.keys, i);
    d.station_index = {};
    for (size_t k = 0; k < d.police_stations.size(); ++k) {
      PoliceStation& p = d.police_stations[k];
      p.keys.clear();
      add_keys(p.keys, p.code);
      for (auto& [lang, name] : p.name) add_keys(p.keys, name);
      for (auto& v : p.variants) add_keys(p.keys, v);
      d.station_index.add(p.keys, k);
      ref.station_index.add(p.keys, ref.stations.size());
      ref.stations.emplace_back(i, k);
    }
  }
  ref.keywords.clear();
  ref.keyword_index.clear();
  std::vector<std::string> lookups;
  for (size_t ci = 0; ci < ref.categories.size(); ++ci) {
    Category& c = ref.categories[ci];
    c.keyword_keys.clear();
    c.keys.clear();
    add_keys(c.keys, c.code);
    for (auto& [lang, name] : c.name) add_keys(c.keys, name);
    for (auto& [lang, name] : c.short_name) add_keys(c.keys, name);
    for (auto& k : c.keywords) add_keys(c.keyword_keys, k);
    for (auto& k : c.keyword_keys) {
      ReferenceData::Keyword kw{ci, split_words(k)};
      if (kw.words.empty()) continue;
      keyword_index_keys(kw.words.front(), /*said=*/false, lookups);
      for (const auto& lookup : lookups) ref.keyword_index[lookup].push_back(ref.keywords.size());
      ref.keywords.push_back(std::move(kw));
    }
  }
}

Result<ReferenceData> load_reference_data(const std::string& districts_path,
                                          const std::string& categories_path) {
  ReferenceData ref;
  {
    auto doc = read_json(districts_path);
    if (!doc.ok()) return doc.status();
    Reader r(districts_path);
    parse_districts(doc.value(), r, ref);
    if (r.failed()) return r.status();
  }
  {
    auto doc = read_json(categories_path);
    if (!doc.ok()) return doc.status();
    Reader r(categories_path);
    parse_categories(doc.value(), r, ref);
    if (r.failed()) return r.status();
  }
  build_match_keys(ref);
  return ref;
}

}  // namespace nivaran::dialogs
