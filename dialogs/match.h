// Matchers: what did the citizen mean? Each takes an Utterance (the message in its raw, matching
// and phonetic forms, computed once per step) and answers from the flow's word lists or the
// reference data. All are pure and tolerant of script, case, digits and small typos.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "dialogs/reference_data.h"

namespace nivaran::dialogs {

// One message, prepared for matching.
struct Utterance {
  std::string raw;                      // as typed
  std::string form;                     // match_form(raw)
  std::string key;                      // phonetic_key(form)
  std::string button;                   // pressed option id, if any
  std::vector<std::string> words;       // the words of `key`
  std::vector<std::string> form_words;  // the words of `form`

  static Utterance of(const std::string& text, const std::string& button = "");
  bool empty() const { return form.empty() && button.empty(); }
};

// A list of words or phrases in any script, with their forms precomputed.
struct Phrases {
  std::vector<std::string> forms;
  std::vector<std::string> keys;
  std::vector<std::vector<std::string>> form_words, key_words;  // the words of each
  // First word → the phrases starting with it, in either form: occurs_in looks up each word
  // of the utterance instead of searching it for every phrase.
  std::unordered_map<std::string, std::vector<size_t>> by_first_form, by_first_key;
  std::unordered_set<std::string> form_set, key_set;  // every form and every non-empty key

  static Phrases of(const std::vector<std::string>& phrases);
  // Number of words of the longest phrase whose key starts at words[i] (words of a key), or 0.
  size_t key_words_at(const std::vector<std::string>& words, size_t i) const;
  // The whole utterance is one of the phrases (in either form).
  bool equals(const Utterance& u) const;
  bool has_form(const std::string& form) const { return form_set.count(form) > 0; }
  bool has_key(const std::string& key) const { return key_set.count(key) > 0; }
  // One of the phrases occurs in the utterance on word boundaries.
  bool occurs_in(const Utterance& u) const;
  bool empty() const { return forms.empty(); }
};

// An option the citizen can choose: by its id (button), its number (1-based position), or any
// of its names (keys are phonetic keys of the names).
struct MenuItem {
  std::string id;
  // The phonetic keys that choose it (none when null). Not owned: they belong to the flow or
  // the reference data, which outlive every menu; a menu lives for one dialog step, and copying
  // every option's keys into it was most of what building a menu allocated.
  const std::vector<std::string>* keys = nullptr;
};

// Number words ("एक", "ek", "one" → 1) and the filler words that may precede a number
// ("option 2", "नंबर २").
struct NumberWords {
  std::unordered_map<std::string, int> keys;  // phonetic key → number
  Phrases fillers;
};

// The number the utterance states on its own ("2", "२", "दो", "do", "option 2"), if any.
std::optional<int> match_number(const Utterance& u, const NumberWords& numbers);

// Index of the chosen item, or nullopt. Buttons first, then numbers, then names (exact, then
// within the typo budget when exactly one item is that close).
// When `distance` is given it receives the typo distance of a match by name (0 otherwise).
std::optional<size_t> match_choice(const Utterance& u, const std::vector<MenuItem>& items,
                                   const NumberWords& numbers, int* distance = nullptr);

// Result of looking for a named thing (district, police station) in free text.
// A name that is part of a longer name found in the same words yields to it: "chowk kotwali"
// is Chowk Kotwali, not Kotwali.
struct NameMatch {
  std::vector<std::string> codes;  // one: a match; several: ask "did you mean"; none: no match
  bool exact = false;              // spelled as in the reference data (no typo allowed for)
  int distance = 0;                // edit distance of the best match
};

// Finds a district named anywhere in the utterance ("मैं पीलीभीत जिले से हूँ", "bareli").
NameMatch match_district(const Utterance& u, const ReferenceData& ref, bool exact_only = false);

// Finds one of the district's police stations named in the utterance.
NameMatch match_police_station(const Utterance& u, const District& district,
                               bool exact_only = false);

// Police stations of any district spelt exactly in the utterance, as (district, station)
// codes; for a story that names no district.
std::vector<std::pair<std::string, std::string>> find_police_stations(const Utterance& u,
                                                                      const ReferenceData& ref);

// Categories suggested by keywords in free text, best first (ties all listed); empty when
// nothing suggests any.
std::vector<std::string> guess_categories(const Utterance& u, const ReferenceData& ref);

// The 10-digit Indian mobile number in the text (+91 / 91 / 0 prefixes, spaces, dashes,
// Devanagari digits allowed), or nullopt when there is none or more than one.
std::optional<std::string> match_mobile(const std::string& raw);

// A person's name: 2-60 characters with at least two letters and no digits; cleaned.
std::optional<std::string> match_name(const std::string& raw);

}  // namespace nivaran::dialogs
