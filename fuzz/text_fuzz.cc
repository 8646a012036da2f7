// Fuzzes the text functions of dialogs/ on arbitrary bytes: normalisation and transliteration
// (text.h), the matchers (match.h) against the real reference data and flow vocabulary, and
// date parsing (datetime.h), checking the promises their headers make about their results.
// Edit distance is compared with a plain reference implementation. Seeds (Hindi, Hinglish,
// English, numbers, dates): fuzz/corpus/fuzz_text/.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "dialogs/datetime.h"
#include "dialogs/match.h"
#include "dialogs/text.h"
#include "fuzz/fuzz_support.h"

namespace nivaran::fuzz {
namespace {

using namespace dialogs;

// Single spaces between words, none at either end.
bool spaced_once(const std::string& s) {
  if (s.empty()) return true;
  return s.front() != ' ' && s.back() != ' ' && s.find("  ") == std::string::npos;
}

void check_key(const std::string& key, const char* what) {
  check(spaced_once(key), std::string(what) + ": badly spaced phonetic key");
  for (char c : key) {
    check((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ' ',
          std::string(what) + ": phonetic key is not [a-z0-9 ]");
  }
}

// Optimal string alignment distance, the textbook way.
int reference_distance(const std::string& a, const std::string& b) {
  const size_t la = a.size(), lb = b.size();
  std::vector<std::vector<int>> d(la + 1, std::vector<int>(lb + 1));
  for (size_t i = 0; i <= la; ++i) d[i][0] = static_cast<int>(i);
  for (size_t j = 0; j <= lb; ++j) d[0][j] = static_cast<int>(j);
  for (size_t i = 1; i <= la; ++i) {
    for (size_t j = 1; j <= lb; ++j) {
      int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[la][lb];
}

void check_time(const IncidentTime& t) {
  check(t.date.size() == 10 && t.date[4] == '-' && t.date[7] == '-', "date '" + t.date + "'");
  if (!t.time.empty()) {
    check(t.time.size() == 5 && t.time[2] == ':', "time '" + t.time + "'");
    int h = std::stoi(t.time.substr(0, 2)), m = std::stoi(t.time.substr(3));
    check(h >= 0 && h < 24 && m >= 0 && m < 60, "time '" + t.time + "'");
  }
  check(t.part.empty() || t.part == "morning" || t.part == "afternoon" || t.part == "evening" ||
            t.part == "night",
        "part '" + t.part + "'");
}

void check_names(const NameMatch& m, const std::vector<std::string>& known, const char* what) {
  for (const auto& code : m.codes) {
    check(std::find(known.begin(), known.end(), code) != known.end(),
          std::string(what) + ": unknown code '" + code + "'");
  }
}

}  // namespace
}  // namespace nivaran::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nivaran;
  using namespace nivaran::dialogs;
  using namespace nivaran::fuzz;
  const std::string s(reinterpret_cast<const char*>(data), size);
  const Flow& flow = grievance_flow();
  const ReferenceData& ref = real_reference_data();

  // text.h
  const std::string cleaned = clean_text(s);
  check(is_utf8(cleaned) && spaced_once(cleaned), "clean_text: not clean");
  const std::string form = match_form(s);
  check(is_utf8(form) && spaced_once(form), "match_form: not clean");
  const std::string key = phonetic_key(form);
  check_key(key, "phonetic_key(match_form)");
  check(key == phonetic_key_uncached(form), "phonetic_key: the per-word cache changed the key");
  check_key(phonetic_key(s), "phonetic_key(raw)");
  for (const auto& w : split_words(form)) check(!w.empty() && w.find(' ') == std::string::npos,
                                                "split_words: bad word");
  (void)has_devanagari(s);

  // Edit distance of the two halves of the key, against the reference.
  if (key.size() <= 128) {
    const std::string a = key.substr(0, key.size() / 2), b = key.substr(key.size() / 2);
    const int limit = typo_budget(a.size()) + (size % 3);
    const int d = edit_distance(a, b, limit);
    check(d == std::min(reference_distance(a, b), limit + 1), "edit_distance: wrong distance");
    check(edit_distance(b, a, limit) == d, "edit_distance: not symmetric");
    check(edit_distance(a, a, 0) == 0, "edit_distance: a string differs from itself");
  }
  std::vector<std::string> words = split_words(form);
  if (!words.empty()) check(contains_phrase(form, words.back()), "contains_phrase: missed a word");

  // match.h
  const Utterance u = Utterance::of(s);
  const Utterance pressed = Utterance::of("", std::string(s, 0, std::min<size_t>(s.size(), 80)));
  (void)match_number(u, flow.numbers);
  std::vector<MenuItem> items;
  for (const auto& c : ref.categories) items.push_back({"cat:" + c.code, &c.keys});
  for (const Utterance* x : {&u, &pressed}) {
    int distance = -1;
    if (auto i = match_choice(*x, items, flow.numbers, &distance)) {
      check(*i < items.size() && distance >= 0, "match_choice: bad index or distance");
    }
  }
  std::vector<std::string> district_codes, category_codes;
  for (const auto& d : ref.districts) district_codes.push_back(d.code);
  for (const auto& c : ref.categories) category_codes.push_back(c.code);
  check_names(match_district(u, ref), district_codes, "match_district");
  check_names(match_district(u, ref, /*exact_only=*/true), district_codes, "match_district");
  check_names(match_district(pressed, ref), district_codes, "match_district(button)");
  {  // one district per input: matching every station of every district is slow
    const District& d = ref.districts[size % ref.districts.size()];
    std::vector<std::string> stations;
    for (const auto& p : d.police_stations) stations.push_back(p.code);
    check_names(match_police_station(u, d), stations, "match_police_station");
  }
  for (const auto& c : guess_categories(u, ref)) {
    check(std::find(category_codes.begin(), category_codes.end(), c) != category_codes.end(),
          "guess_categories: unknown category");
  }
  if (auto mobile = match_mobile(s)) {
    check(mobile->size() == 10 && (*mobile)[0] >= '6' &&
              std::all_of(mobile->begin(), mobile->end(), [](char c) { return c >= '0' && c <= '9'; }),
          "match_mobile: '" + *mobile + "' is no mobile number");
  }
  if (auto name = match_name(s)) {
    check(name->size() <= 180 && *name == cleaned, "match_name: not the cleaned text");
  }
  Phrases phrases = Phrases::of({s, words.empty() ? "" : words.front()});
  if (!form.empty()) check(phrases.equals(u), "Phrases: the text does not equal itself");
  (void)phrases.occurs_in(u);

  // datetime.h: IST now, and one of a few other clocks and time zones.
  static const std::pair<int64_t, int> kClocks[] = {
      {1'795'840'200'000, 330},   // 2026-11-28 10:00 IST
      {1'798'741'799'000, 330},   // 2026-12-31 23:59:59 IST
      {1'709'164'800'000, -720},  // 2024-02-29 00:00 UTC, at UTC-12
      {1'709'164'800'000, 840}};  // and at UTC+14
  for (auto [now, offset] : {kClocks[0], kClocks[1 + size % 3]}) {
    if (auto t = parse_incident_time(u, flow.dates, flow.numbers, now, offset)) check_time(*t);
  }
  return 0;
}
