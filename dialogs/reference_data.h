// Reference data the dialog needs: districts with their police stations and cells, and the
// grievance categories with their routing. Loaded from config/districts.json and
// config/categories.json, which the range office edits; every error names file and field.
#pragma once

#include <bitset>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"

namespace nivaran::dialogs {

// A text in several languages, keyed by language code ("hi", "en").
using LocalText = std::map<std::string, std::string>;

// The text in `lang`, else Hindi, else any; empty when there is none.
const std::string& text_in(const LocalText& t, const std::string& lang);

// Names spelt exactly: each phonetic key without its spaces → the things it names (indexes
// into a list). Built by the loader; a name is then found with a lookup per run of words.
struct NameIndex {
  std::unordered_map<std::string, std::vector<size_t>> things;
  size_t longest = 0;  // the longest key in bytes: longer runs of words need no lookup
  // The first two letters of every key: a run of words starting otherwise names nothing.
  std::bitset<65536> starts;
  static size_t start_of(const std::string& key) {
    return key.size() < 2 ? 0 : static_cast<unsigned char>(key[0]) << 8 | static_cast<unsigned char>(key[1]);
  }

  void add(const std::vector<std::string>& keys, size_t thing);
};

struct PoliceStation {
  std::string code;
  LocalText name;
  std::vector<std::string> variants;  // other spellings, any script
  std::vector<std::string> keys;      // phonetic keys of name and variants (built by the loader)
};

struct District {
  std::string code;  // bareilly, badaun, pilibhit, shahjahanpur
  LocalText name;
  std::vector<std::string> variants;
  std::string ticket_prefix;  // "BLY": the start of this district's ticket references
  std::vector<PoliceStation> police_stations;
  std::map<std::string, LocalText> cells;  // social_media, cyber, women, nodal → desk name
  std::vector<std::string> keys;           // phonetic keys of names and variants
  NameIndex station_index;  // → police_stations
};

struct Helpline {
  std::string number;  // "1930"
  LocalText name;
};

struct Category {
  std::string code;                   // theft, cyber_fraud, ... (DESIGN.md)
  LocalText name;                     // full name
  LocalText short_name;               // ≤ 20 characters, for buttons and list rows
  std::vector<std::string> keywords;  // words that suggest this category, any script
  std::vector<std::string> keyword_keys;
  std::vector<std::string> keys;  // phonetic keys of code and names, for menu choice by text
  std::string cell;               // social_media, cyber, women, nodal
  std::string priority;           // normal, high
  std::vector<Helpline> helplines;
  bool mask_personal_data = false;
};

struct ReferenceData {
  std::vector<District> districts;
  std::vector<Category> categories;
  NameIndex district_index;                         // → districts
  std::vector<std::pair<size_t, size_t>> stations;  // every (district, police station)
  NameIndex station_index;                          // → stations, the whole range at once
  // Every category's keywords as words, and the index guess_categories looks them up in
  // (keyword_index_keys of each keyword's first word → indexes into keywords).
  struct Keyword {
    size_t category = 0;  // index into categories
    std::vector<std::string> words;
  };
  std::vector<Keyword> keywords;
  std::unordered_map<std::string, std::vector<size_t>> keyword_index;

  // nullptr when the code is unknown.
  const District* find_district(const std::string& code) const;
  const Category* find_category(const std::string& code) const;
  const PoliceStation* find_police_station(const std::string& district,
                                           const std::string& code) const;
};

// The cells a category may route to.
const std::vector<std::string>& known_cells();

// Reads both files; Status::invalid("<file>: <field path>: <problem>") on the first error.
Result<ReferenceData> load_reference_data(const std::string& districts_path,
                                          const std::string& categories_path);

// The keys under which a keyword starting with `word` is indexed (said=false), or under which
// keywords that a said `word` may match are looked up (said=true): "^" and the first three
// letters, and "$" and the last two for words long enough to be one typo from a long keyword.
void keyword_index_keys(const std::string& word, bool said, std::vector<std::string>& keys);

// Builds the phonetic keys of names, variants and keywords; the loader calls it, tests that
// build ReferenceData by hand call it too.
void build_match_keys(ReferenceData& ref);

}  // namespace nivaran::dialogs
