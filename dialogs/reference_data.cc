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

// Field-by-field reader that remembers the first problem as "<file>: <path>: <what>".
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}
  bool failed() const { return !error_.empty(); }
  Status status() const { return Status::invalid(error_); }

  void fail(const std::string& path, const std::string& what) {
    if (error_.empty()) error_ = file_ + ": " + path + ": " + what;
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

  std::vector<std::string> strings(const json& obj, const std::string& path, const char* key) {
    std::vector<std::string> out;
    auto it = obj.find(key);
    if (it == obj.end()) return out;
    if (!it->is_array()) {
      fail(path + "." + key, "must be an array of strings");
      return out;
    }
    for (size_t i = 0; i < it->size(); ++i) {
      const json& v = (*it)[i];
      if (!v.is_string() || v.get<std::string>().empty()) {
        fail(path + "." + key + "[" + std::to_string(i) + "]", "must be a non-empty string");
        continue;
      }
      out.push_back(v.get<std::string>());
    }
    return out;
  }

  // A {"hi": ..., "en": ...} object; both languages required.
  LocalText local(const json& obj, const std::string& path, const char* key, bool required = true) {
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
      if (v.is_string()) t[lang] = v.get<std::string>();
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

void parse_districts(const json& root, Reader& r, ReferenceData& ref) {
  if (!root.is_object() || !root.contains("districts") || !root["districts"].is_array()) {
    r.fail("districts", "missing (expected an array of districts)");
    return;
  }
  std::set<std::string> seen;
  const json& arr = root["districts"];
  for (size_t i = 0; i < arr.size(); ++i) {
    const json& d = arr[i];
    std::string path = "districts[" + std::to_string(i) + "]";
    if (!d.is_object()) {
      r.fail(path, "must be an object");
      return;
    }
    District out;
    out.code = r.string(d, path, "code");
    if (!out.code.empty() && !is_code(out.code))
      r.fail(path + ".code", "must be lower-case a-z, 0-9, _");
    if (!seen.insert(out.code).second) r.fail(path + ".code", "duplicate district " + out.code);
    path = "districts." + out.code;
    out.name = r.local(d, path, "name");
    out.variants = r.strings(d, path, "variants");
    out.ticket_prefix = r.string(d, path, "ticket_prefix");
    if (!out.ticket_prefix.empty()) {
      bool upper = out.ticket_prefix.size() <= 5;
      for (char c : out.ticket_prefix) upper = upper && c >= 'A' && c <= 'Z';
      if (!upper) r.fail(path + ".ticket_prefix", "must be 1-5 capital letters A-Z");
    }
    if (d.contains("cells")) {
      if (!d["cells"].is_object()) {
        r.fail(path + ".cells", "must be an object of cell → {\"hi\", \"en\"}");
      } else {
        for (auto& [cell, v] : d["cells"].items()) {
          if (std::find(known_cells().begin(), known_cells().end(), cell) == known_cells().end())
            r.fail(path + ".cells." + cell,
                   "unknown cell (expected social_media, cyber, women, nodal)");
          out.cells[cell] = r.local(d["cells"], path + ".cells", cell.c_str());
        }
      }
    }
    for (const char* cell : {"social_media", "cyber", "women", "nodal"})
      if (!out.cells.count(cell)) r.fail(path + ".cells." + cell, "missing");
    std::set<std::string> ps_seen;
    if (d.contains("police_stations")) {
      const json& ps = d["police_stations"];
      if (!ps.is_array()) r.fail(path + ".police_stations", "must be an array");
      for (size_t k = 0; ps.is_array() && k < ps.size(); ++k) {
        std::string pp = path + ".police_stations[" + std::to_string(k) + "]";
        if (!ps[k].is_object()) {
          r.fail(pp, "must be an object");
          continue;
        }
        PoliceStation st;
        st.code = r.string(ps[k], pp, "code");
        if (!st.code.empty() && !is_code(st.code))
          r.fail(pp + ".code", "must be lower-case a-z, 0-9, _");
        if (!ps_seen.insert(st.code).second)
          r.fail(pp + ".code", "duplicate police station " + st.code);
        pp = path + ".police_stations." + st.code;
        st.name = r.local(ps[k], pp, "name");
        st.variants = r.strings(ps[k], pp, "variants");
        out.police_stations.push_back(std::move(st));
      }
    }
    ref.districts.push_back(std::move(out));
  }
  if (ref.districts.empty()) r.fail("districts", "must list at least one district");
}

void parse_categories(const json& root, Reader& r, ReferenceData& ref) {
  if (!root.is_object() || !root.contains("categories") || !root["categories"].is_array()) {
    r.fail("categories", "missing (expected an array of categories)");
    return;
  }
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
    out.code = r.string(c, path, "code");
    if (!out.code.empty() && !is_code(out.code))
      r.fail(path + ".code", "must be lower-case a-z, 0-9, _");
    if (!seen.insert(out.code).second) r.fail(path + ".code", "duplicate category " + out.code);
    path = "categories." + out.code;
    out.name = r.local(c, path, "name");
    out.short_name = r.local(c, path, "short_name", /*required=*/false);
    if (out.short_name.empty()) out.short_name = out.name;
    out.keywords = r.strings(c, path, "keywords");
    out.cell = r.string(c, path, "cell");
    if (!out.cell.empty() &&
        std::find(known_cells().begin(), known_cells().end(), out.cell) == known_cells().end())
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
          r.fail(hp, "must be an object");
          continue;
        }
        Helpline hl;
        hl.number = r.string(h[k], hp, "number");
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
    ref.categories.push_back(std::move(out));
  }
  if (ref.categories.empty()) r.fail("categories", "must list at least one category");
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

void build_match_keys(ReferenceData& ref) {
  for (auto& d : ref.districts) {
    d.keys.clear();
    add_keys(d.keys, d.code);
    for (auto& [lang, name] : d.name) add_keys(d.keys, name);
    for (auto& v : d.variants) add_keys(d.keys, v);
    for (auto& p : d.police_stations) {
      p.keys.clear();
      add_keys(p.keys, p.code);
      for (auto& [lang, name] : p.name) add_keys(p.keys, name);
      for (auto& v : p.variants) add_keys(p.keys, v);
    }
  }
  for (auto& c : ref.categories) {
    c.keyword_keys.clear();
    c.keys.clear();
    add_keys(c.keys, c.code);
    for (auto& [lang, name] : c.name) add_keys(c.keys, name);
    for (auto& [lang, name] : c.short_name) add_keys(c.keys, name);
    for (auto& k : c.keywords) add_keys(c.keyword_keys, k);
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
