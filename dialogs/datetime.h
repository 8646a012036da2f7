// When did it happen? Parses what citizens say about the time of an incident — "आज सुबह",
// "कल रात 9 बजे", "परसों", "दो दिन पहले", "aaj subah", "12/11/2026", "12 नवंबर", "yesterday
// 7 pm" — into a local date and, when said, a time or part of the day. Pure: "now" and the
// UTC offset come from the caller; the words come from the flow's vocabulary.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_set>

#include "dialogs/match.h"

namespace nivaran::dialogs {

// The words a date may be said with, each list in any script.
struct DateWords {
  Phrases now, today, yesterday, day_before_yesterday, days_ago, hour_marker, am, pm;
  std::map<std::string, Phrases> parts;  // morning, afternoon, evening, night → words
  std::map<int, Phrases> months;         // 1..12 → names
  // The first words (keys) of all the above, so that words that start none are skipped.
  // Built by the flow loader; when empty every word is looked at.
  std::unordered_set<std::string> first_words;
};

struct IncidentTime {
  std::string date;     // YYYY-MM-DD, local
  std::string time;     // HH:MM local, or empty when only a part of the day was said
  std::string part;     // morning, afternoon, evening, night, or empty
  bool future = false;  // later than now: the citizen is asked again
};

// The time the utterance states, or nullopt when it states none.
std::optional<IncidentTime> parse_incident_time(const Utterance& u, const DateWords& words,
                                                const NumberWords& numbers, int64_t now_ms,
                                                int utc_offset_minutes);

}  // namespace nivaran::dialogs
