#include "dialogs/match.h"

#include <algorithm>
#include <climits>
#include <map>

#include "dialogs/text.h"

namespace nivaran::dialogs {

Utterance Utterance::of(const std::string& text, const std::string& button) {
  Utterance u;
  u.raw = text;
  u.form = match_form(text);
  u.key = phonetic_key(u.form);
  u.button = button;
  return u;
}

Phrases Phrases::of(const std::vector<std::string>& phrases) {
  Phrases p;
  for (const auto& s : phrases) {
    std::string f = match_form(s);
    if (f.empty()) continue;
    p.forms.push_back(f);
    p.keys.push_back(phonetic_key(f));
  }
  return p;
}

bool Phrases::equals(const Utterance& u) const {
  for (size_t i = 0; i < forms.size(); ++i)
    if (u.form == forms[i] || (!keys[i].empty() && u.key == keys[i])) return true;
  return false;
}

bool Phrases::occurs_in(const Utterance& u) const {
  for (size_t i = 0; i < forms.size(); ++i)
    if (contains_phrase(u.form, forms[i]) || (!keys[i].empty() && contains_phrase(u.key, keys[i])))
      return true;
  return false;
}

std::optional<int> match_number(const Utterance& u, const NumberWords& numbers) {
  std::vector<std::string> words = split_words(u.key);
  // Drop filler words in front ("option 2", "नंबर २", "no. 3").
  size_t start = 0;
  while (start + 1 < words.size()) {
    Utterance w = Utterance{words[start], words[start], words[start], ""};
    if (!numbers.fillers.equals(w)) break;
    ++start;
  }
  if (words.size() != start + 1) return std::nullopt;
  const std::string& w = words[start];
  if (!w.empty() && w.size() <= 3 &&
      std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::stoi(w);
  for (const auto& [key, n] : numbers.keys)
    if (key == w) return n;
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
  for (size_t i = 0; i < items.size(); ++i)
    for (const auto& k : items[i].keys)
      if (k == u.key) return i;
  // Within the typo budget, or named inside a longer answer ("2 chori", "bareilly wala").
  std::optional<size_t> found;
  int best = INT_MAX;
  bool tie = false;
  for (size_t i = 0; i < items.size(); ++i) {
    for (const auto& k : items[i].keys) {
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

// The utterance's runs of 1..kMaxWindow consecutive words, each spelt with spaces and joined
// ("prem nagar" / "premnagar"), built once per utterance rather than once per name compared.
constexpr size_t kMaxWindow = 6;
struct Windows {
  std::vector<std::pair<std::string, std::string>> by_length[kMaxWindow + 1];
};

Windows make_windows(const std::vector<std::string>& words) {
  Windows w;
  for (size_t len = 1; len <= kMaxWindow; ++len) {
    for (size_t i = 0; i + len <= words.size(); ++i) {
      std::string spaced = words[i], joined = words[i];
      for (size_t k = 1; k < len; ++k) {
        spaced += " " + words[i + k];
        joined += words[i + k];
      }
      w.by_length[len].emplace_back(std::move(spaced), std::move(joined));
    }
  }
  return w;
}

// Best distance of `key` to any window of the utterance's words a word shorter to a word longer
// than the key, within the typo budget; INT_MAX when none is close enough.
int best_window_distance(const Windows& windows, const std::string& key, bool exact_only) {
  int best = INT_MAX;
  size_t key_words = static_cast<size_t>(std::count(key.begin(), key.end(), ' ')) + 1;
  int budget = exact_only ? 0 : typo_budget(key.size());
  for (size_t len = std::max<size_t>(1, key_words > 1 ? key_words - 1 : 1);
       len <= std::min(key_words + 1, kMaxWindow); ++len) {
    for (const auto& [spaced, joined] : windows.by_length[len]) {
      int d = std::min(edit_distance(spaced, key, budget), edit_distance(joined, key, budget));
      if (d <= budget) best = std::min(best, d);
    }
  }
  return best;
}

template <typename T>
NameMatch best_names(const Utterance& u, const std::vector<T>& things, bool exact_only) {
  NameMatch m;
  std::vector<std::string> words = split_words(u.key);
  if (words.empty()) return m;
  const Windows windows = make_windows(words);
  int best = INT_MAX;
  for (const auto& t : things) {
    int d = INT_MAX;
    for (const auto& k : t.keys) d = std::min(d, best_window_distance(windows, k, exact_only));
    if (d == INT_MAX) continue;
    if (d < best) {
      best = d;
      m.codes = {t.code};
    } else if (d == best) {
      m.codes.push_back(t.code);
    }
  }
  m.exact = best == 0;
  m.distance = m.codes.empty() ? 0 : best;
  return m;
}

}  // namespace

NameMatch match_district(const Utterance& u, const ReferenceData& ref, bool exact_only) {
  if (u.button.rfind("dist:", 0) == 0 && ref.find_district(u.button.substr(5)))
    return NameMatch{{u.button.substr(5)}, true};
  return best_names(u, ref.districts, exact_only);
}

NameMatch match_police_station(const Utterance& u, const District& district, bool exact_only) {
  if (u.button.rfind("ps:", 0) == 0) {
    for (const auto& p : district.police_stations)
      if (p.code == u.button.substr(3)) return NameMatch{{p.code}, true};
  }
  NameMatch m = best_names(u, district.police_stations, exact_only);
  // Several "kotwali" stations exist across the range, but only one per district.
  return m;
}

namespace {

bool is_vowel(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }

// Two words are the same keyword: equal; the same stem with another Hindi ending ("lauta" /
// "laute", "chhedta" / "chhedti"); or, for long words, one typo apart.
bool same_word(const std::string& said, const std::string& keyword) {
  if (said == keyword) return true;
  const size_t n = said.size();
  if (n >= 4 && n == keyword.size() && is_vowel(said.back()) && is_vowel(keyword.back()) &&
      said.compare(0, n - 1, keyword, 0, n - 1) == 0)
    return true;
  return keyword.size() >= 6 && edit_distance(said, keyword, 1) <= 1;
}

// The keyword's words occur one after another in the utterance's words.
bool keyword_occurs(const std::vector<std::string>& words, const std::vector<std::string>& kw) {
  if (kw.empty() || kw.size() > words.size()) return false;
  for (size_t i = 0; i + kw.size() <= words.size(); ++i) {
    bool all = true;
    for (size_t k = 0; k < kw.size() && all; ++k) all = same_word(words[i + k], kw[k]);
    if (all) return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> guess_categories(const Utterance& u, const ReferenceData& ref) {
  const std::vector<std::string> words = split_words(u.key);
  std::map<std::string, int> score;
  for (const auto& c : ref.categories) {
    for (const auto& k : c.keyword_keys) {
      std::vector<std::string> kw = split_words(k);
      // Longer phrases say more: "paise kat" outweighs "bank".
      if (keyword_occurs(words, kw)) score[c.code] += static_cast<int>(kw.size());
    }
  }
  int best = 0;
  for (auto& [code, s] : score) best = std::max(best, s);
  std::vector<std::string> out;
  if (best == 0) return out;
  for (const auto& c : ref.categories)  // in reference order
    if (score[c.code] == best) out.push_back(c.code);
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
