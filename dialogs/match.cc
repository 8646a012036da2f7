#include "dialogs/match.h"

#include <algorithm>
#include <climits>

#include "dialogs/text.h"

namespace nivaran::dialogs {

namespace {

constexpr size_t kMaxRun = 6;  // names of up to six words

// A run of consecutive words of a key ("prem nagar"), also spelt joined ("premnagar").
struct WordRun {
  std::string spaced, joined;
  size_t start = 0, len = 0;  // which words
};

std::vector<WordRun> make_runs(const std::vector<std::string>& words) {
  std::vector<WordRun> out;
  for (size_t len = 1; len <= kMaxRun; ++len) {
    for (size_t i = 0; i + len <= words.size(); ++i) {
      WordRun w{words[i], words[i], i, len};
      for (size_t k = 1; k < len; ++k) {
        w.spaced += " " + words[i + k];
        w.joined += words[i + k];
      }
      out.push_back(std::move(w));
    }
  }
  return out;
}

// The phrase's words occur in `words` starting at position i.
bool words_at(const std::vector<std::string>& words, size_t i,
              const std::vector<std::string>& phrase) {
  if (phrase.empty() || i + phrase.size() > words.size()) return false;
  for (size_t k = 0; k < phrase.size(); ++k)
    if (words[i + k] != phrase[k]) return false;
  return true;
}

bool occurs(const std::vector<std::string>& words,
            const std::unordered_map<std::string, std::vector<size_t>>& by_first,
            const std::vector<std::vector<std::string>>& phrases) {
  for (size_t i = 0; i < words.size(); ++i) {
    auto it = by_first.find(words[i]);
    if (it == by_first.end()) continue;
    for (size_t p : it->second)
      if (words_at(words, i, phrases[p])) return true;
  }
  return false;
}

}  // namespace

Utterance Utterance::of(const std::string& text, const std::string& button) {
  Utterance u;
  u.raw = text;
  u.form = match_form(text);
  u.key = phonetic_key(u.form);
  u.button = button;
  u.words = split_words(u.key);
  u.form_words = split_words(u.form);
  return u;
}

Phrases Phrases::of(const std::vector<std::string>& phrases) {
  Phrases p;
  for (const auto& s : phrases) {
    std::string f = match_form(s);
    if (f.empty()) continue;
    const size_t at = p.forms.size();
    p.forms.push_back(f);
    p.keys.push_back(phonetic_key(f));
    p.form_words.push_back(split_words(p.forms.back()));
    p.key_words.push_back(split_words(p.keys.back()));
    p.by_first_form[p.form_words.back().front()].push_back(at);
    p.form_set.insert(p.forms.back());
    if (!p.keys.back().empty()) p.key_set.insert(p.keys.back());
    if (!p.key_words.back().empty()) p.by_first_key[p.key_words.back().front()].push_back(at);
  }
  return p;
}

bool Phrases::equals(const Utterance& u) const { return has_form(u.form) || has_key(u.key); }

size_t Phrases::key_words_at(const std::vector<std::string>& words, size_t i) const {
  if (i >= words.size()) return 0;
  auto it = by_first_key.find(words[i]);
  if (it == by_first_key.end()) return 0;
  size_t best = 0;
  for (size_t p : it->second)
    if (words_at(words, i, key_words[p])) best = std::max(best, key_words[p].size());
  return best;
}

bool Phrases::occurs_in(const Utterance& u) const {
  return occurs(u.form_words, by_first_form, form_words) ||
         occurs(u.words, by_first_key, key_words);
}

std::optional<int> match_number(const Utterance& u, const NumberWords& numbers) {
  const std::vector<std::string>& words = u.words;
  // Drop filler words in front ("option 2", "नंबर २", "no. 3").
  size_t start = 0;
  while (start + 1 < words.size()) {
    Utterance w{words[start], words[start], words[start], "", {words[start]}, {words[start]}};
    if (!numbers.fillers.equals(w)) break;
    ++start;
  }
  if (start >= words.size()) return std::nullopt;
  const std::string& w = words[start];
  if (words.size() == start + 1 && !w.empty() && w.size() <= 3 &&
      std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::stoi(w);
  // The rest is one number word, or a phrase such as "twenty one".
  std::string rest = w;
  for (size_t i = start + 1; i < words.size(); ++i) rest += " " + words[i];
  if (auto it = numbers.keys.find(rest); it != numbers.keys.end()) return it->second;
  return std::nullopt;
}

std::optional<size_t> match_choice(const Utterance& u, const std::vector<MenuItem>& items,
                                   const NumberWords& numbers, int* distance) {
  if (distance) *distance = 0;
  if (!u.button.empty()) {
    for (size_t i = 0; i < items.size(); ++i)
      if (items[i].id == u.button) return i;
  }
  if (u.key.empty()) return std::nullopt;
  if (auto n = match_number(u, numbers); n && *n >= 1 && static_cast<size_t>(*n) <= items.size())
    return static_cast<size_t>(*n - 1);
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].keys) continue;
    for (const auto& k : *items[i].keys)
      if (k == u.key) return i;
  }
  // Within the typo budget, or named inside a longer answer ("2 chori", "bareilly wala").
  std::optional<size_t> found;
  int best = INT_MAX;
  bool tie = false;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].keys) continue;
    for (const auto& k : *items[i].keys) {
      int budget = typo_budget(k.size());
      int d = edit_distance(u.key, k, budget);
      if (d > budget && k.size() >= 3 && contains_phrase(u.key, k)) d = budget;
      if (d > budget) continue;
      if (d < best) {
        best = d, found = i, tie = false;
      } else if (d == best && found != i) {
        tie = true;
      }
    }
  }
  if (tie) return std::nullopt;
  if (found && distance) *distance = best;
  return found;
}

namespace {

// Where a name was found: its edit distance and the runs of words it was found in.
struct Found {
  int distance = INT_MAX;
  std::vector<std::pair<size_t, size_t>> spans;  // (start, len) of each run at that distance

  void offer(int d, size_t start, size_t len) {
    if (d > distance) return;
    if (d < distance) distance = d, spans.clear();
    spans.emplace_back(start, len);
  }
  // Every run this name was found in lies inside a longer run where `o` was found.
  bool inside(const Found& o) const {
    for (const auto& [start, len] : spans) {
      bool covered = false;
      for (const auto& [os, ol] : o.spans)
        covered = covered || (ol > len && os <= start && start + len <= os + ol);
      if (!covered) return false;
    }
    return !spans.empty();
  }
};

// Offers every run within the typo budget of `key`, a word shorter to a word longer.
void offer_close_runs(const std::vector<WordRun>& runs, const std::string& key, Found& f) {
  const size_t key_words = static_cast<size_t>(std::count(key.begin(), key.end(), ' ')) + 1;
  const size_t lo = key_words > 1 ? key_words - 1 : 1, hi = std::min(key_words + 1, kMaxRun);
  const int budget = typo_budget(key.size());
  for (const auto& w : runs) {
    if (w.len < lo || w.len > hi) continue;
    int d = std::min(edit_distance(w.spaced, key, budget), edit_distance(w.joined, key, budget));
    if (d <= budget) f.offer(d, w.start, w.len);
  }
}

// The things named in the utterance, closest first: exact spellings are looked up (one hash
// lookup per run of words); only when none is found, and typos are allowed, is every name
// (keys_of(i)) compared with every run. A name inside a longer name found in the same words
// yields to it. `distance` receives the best distance.
template <typename KeysOf>
std::vector<size_t> best_things(const Utterance& u, size_t count, const NameIndex& index,
                                bool exact_only, KeysOf keys_of, int& distance) {
  std::vector<size_t> out;
  if (u.words.empty()) return out;
  std::vector<Found> found(count);
  bool any_exact = false;
  std::string joined;  // the run's words without spaces, grown one word at a time
  for (size_t start = 0; start < u.words.size(); ++start) {
    joined.clear();
    for (size_t len = 1; len <= kMaxRun && start + len <= u.words.size(); ++len) {
      joined += u.words[start + len - 1];
      if (joined.size() > index.longest) break;
      if (joined.size() >= 2 && !index.starts.test(NameIndex::start_of(joined))) break;
      auto it = index.things.find(joined);
      if (it == index.things.end()) continue;
      for (size_t i : it->second) found[i].offer(0, start, len);
      any_exact = true;
    }
  }
  if (!any_exact && !exact_only) {
    const std::vector<WordRun> runs = make_runs(u.words);
    for (size_t i = 0; i < count; ++i)
      for (const auto& k : keys_of(i)) offer_close_runs(runs, k, found[i]);
  }
  int best = INT_MAX;
  for (const auto& f : found) best = std::min(best, f.distance);
  if (best == INT_MAX) return out;
  for (size_t i = 0; i < count; ++i) {
    if (found[i].distance != best) continue;
    bool covered = false;  // by a longer name found at the same distance
    for (size_t j = 0; j < count && !covered; ++j)
      covered = j != i && found[j].distance == best && found[i].inside(found[j]);
    if (!covered) out.push_back(i);
  }
  distance = best;
  return out;
}

template <typename T>
NameMatch best_names(const Utterance& u, const std::vector<T>& things, const NameIndex& index,
                     bool exact_only) {
  NameMatch m;
  for (size_t i : best_things(
           u, things.size(), index, exact_only,
           [&](size_t k) -> const std::vector<std::string>& { return things[k].keys; },
           m.distance))
    m.codes.push_back(things[i].code);
  m.exact = !m.codes.empty() && m.distance == 0;
  if (m.codes.empty()) m.distance = 0;
  return m;
}

}  // namespace

NameMatch match_district(const Utterance& u, const ReferenceData& ref, bool exact_only) {
  if (u.button.rfind("dist:", 0) == 0 && ref.find_district(u.button.substr(5)))
    return NameMatch{{u.button.substr(5)}, true};
  return best_names(u, ref.districts, ref.district_index, exact_only);
}

NameMatch match_police_station(const Utterance& u, const District& district, bool exact_only) {
  if (u.button.rfind("ps:", 0) == 0) {
    for (const auto& p : district.police_stations)
      if (p.code == u.button.substr(3)) return NameMatch{{p.code}, true};
  }
  // Several "kotwali" stations exist across the range, but only one per district.
  return best_names(u, district.police_stations, district.station_index, exact_only);
}

std::vector<std::pair<std::string, std::string>> find_police_stations(const Utterance& u,
                                                                      const ReferenceData& ref) {
  std::vector<std::pair<std::string, std::string>> out;
  int distance = 0;
  auto keys_of = [&](size_t i) -> const std::vector<std::string>& {
    return ref.districts[ref.stations[i].first].police_stations[ref.stations[i].second].keys;
  };
  for (size_t i : best_things(u, ref.stations.size(), ref.station_index, /*exact_only=*/true,
                              keys_of, distance)) {
    const District& d = ref.districts[ref.stations[i].first];
    out.emplace_back(d.code, d.police_stations[ref.stations[i].second].code);
  }
  return out;
}

namespace {

bool is_vowel(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }

// Two words are the same keyword: equal; the same stem with another Hindi ending ("lauta" /
// "laute", "chhedta" / "chhedti"); or, for long words, one typo apart. Such a pair shares its
// first three letters, or (one typo near the start of a long word) its last two: the index
// of keywords (keyword_index_keys) relies on this.
bool same_word(const std::string& said, const std::string& keyword) {
  if (said == keyword) return true;
  const size_t n = said.size();
  if (n >= 4 && n == keyword.size() && is_vowel(said.back()) && is_vowel(keyword.back()) &&
      said.compare(0, n - 1, keyword, 0, n - 1) == 0)
    return true;
  return keyword.size() >= 6 && edit_distance(said, keyword, 1) <= 1;
}

}  // namespace

std::vector<std::string> guess_categories(const Utterance& u, const ReferenceData& ref) {
  // Only keywords whose first word could be the same word as one of the utterance's are
  // compared: the index holds them by the start (and, for long words, the end) a matching
  // word must share with them (keyword_index_keys).
  std::vector<bool> counted(ref.keywords.size(), false);
  std::vector<int> score(ref.categories.size(), 0);
  std::vector<std::string> lookups;
  for (size_t i = 0; i < u.words.size(); ++i) {
    keyword_index_keys(u.words[i], /*said=*/true, lookups);
    for (const auto& lookup : lookups) {
      auto it = ref.keyword_index.find(lookup);
      if (it == ref.keyword_index.end()) continue;
      for (size_t k : it->second) {
        const auto& kw = ref.keywords[k];
        if (counted[k] || i + kw.words.size() > u.words.size()) continue;
        bool all = true;
        for (size_t w = 0; w < kw.words.size() && all; ++w)
          all = same_word(u.words[i + w], kw.words[w]);
        if (!all) continue;
        counted[k] = true;
        // Longer phrases say more: "paise kat" outweighs "bank".
        score[kw.category] += static_cast<int>(kw.words.size());
      }
    }
  }
  const int best = score.empty() ? 0 : *std::max_element(score.begin(), score.end());
  std::vector<std::string> out;
  if (best == 0) return out;
  for (size_t c = 0; c < ref.categories.size(); ++c)  // in reference order
    if (score[c] == best) out.push_back(ref.categories[c].code);
  return out;
}

std::optional<std::string> match_mobile(const std::string& raw) {
  std::string form = match_form(raw);  // ASCII digits; '+', '-' and brackets become spaces
  // Collect runs of digits joined by single separators into candidate numbers.
  std::vector<std::string> numbers;
  std::string cur;
  size_t gap = 0;
  for (char c : form) {
    if (c >= '0' && c <= '9') {
      cur.push_back(c);
      gap = 0;
    } else if (c == ' ' && !cur.empty() && gap == 0) {
      gap = 1;
    } else {
      if (!cur.empty()) numbers.push_back(cur);
      cur.clear();
      gap = 0;
    }
  }
  if (!cur.empty()) numbers.push_back(cur);
  std::optional<std::string> found;
  for (std::string n : numbers) {
    if (n.size() == 12 && n.rfind("91", 0) == 0)
      n = n.substr(2);
    else if (n.size() == 13 && n.rfind("091", 0) == 0)
      n = n.substr(3);
    else if (n.size() == 11 && n[0] == '0')
      n = n.substr(1);
    if (n.size() != 10 || n[0] < '6') return std::nullopt;  // a number, but not a mobile
    if (found && *found != n) return std::nullopt;          // two different numbers
    found = n;
  }
  return found;
}

std::optional<std::string> match_name(const std::string& raw) {
  std::string name = clean_text(raw);
  std::string form = match_form(name);  // Devanagari digits become ASCII here
  size_t letters = 0;
  for (unsigned char c : form) {
    if (c >= '0' && c <= '9') return std::nullopt;
    if (c != ' ' && (c & 0xC0) != 0x80) ++letters;  // count code points
  }
  if (letters < 2 || name.size() > 180) return std::nullopt;
  return name;
}

}  // namespace nivaran::dialogs
