#include "dialogs/datetime.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <regex>
#include <vector>

#include "dialogs/text.h"

namespace nivaran::dialogs {
namespace {

using namespace std::chrono;


// Devanagari digits as ASCII, everything else untouched.
std::string ascii_digits(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char a = s[i];
    if (a == 0xE0 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xA5) {
      unsigned char c = s[i + 2];
      if (c >= 0xA6 && c <= 0xAF) {
        out.push_back(static_cast<char>('0' + (c - 0xA6)));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// The number a token states: digits, or a number word ("do", "तीन" → "tin").
std::optional<int> number_of(const std::string& t, const NumberWords& numbers) {
  if (!t.empty() && t.size() <= 4 &&
      std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::stoi(t);
  if (auto it = numbers.keys.find(t); it != numbers.keys.end()) return it->second;
  return std::nullopt;
}

std::string format_date(const year_month_day& d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()),
                static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
  return buf;
}

}  // namespace

std::optional<IncidentTime> parse_incident_time(const Utterance& u, const DateWords& w,
                                                const NumberWords& numbers, int64_t now_ms,
                                                int utc_offset_minutes) {
  const std::vector<std::string>& t = u.words;
  if (t.empty()) return std::nullopt;
  const auto local_now = sys_time<milliseconds>(milliseconds(now_ms)) + minutes(utc_offset_minutes);
  const sys_days today = floor<days>(local_now);
  const int now_minute = static_cast<int>(duration_cast<minutes>(local_now - today).count());

  // Words that start no date phrase are not looked up again for every list of phrases.
  std::vector<bool> may_start(t.size());
  for (size_t i = 0; i < t.size(); ++i)
    may_start[i] = w.first_words.empty() || w.first_words.count(t[i]) > 0;
  auto phrase_at = [&](size_t i, const Phrases& p) -> size_t {
    return i < t.size() && may_start[i] ? p.key_words_at(t, i) : 0;
  };
  auto occurs = [&](const Phrases& p) {
    for (size_t i = 0; i < t.size(); ++i)
      if (phrase_at(i, p)) return true;
    return false;
  };

  std::optional<sys_days> date;
  std::optional<int> hour, minute;
  std::string part;
  bool said_now = false;

  for (const auto& [name, phrases] : w.parts)
    if (occurs(phrases)) part = name;
  if (occurs(w.now)) said_now = true;
  if (occurs(w.today)) date = today;
  if (occurs(w.day_before_yesterday))
    date = today - days(2);
  else if (occurs(w.yesterday))
    date = today - days(1);

  // Numeric dates and clock times keep their separators only in the raw text.
  const bool separated = u.raw.find_first_of("/.-:") != std::string::npos;
  const std::string raw = separated ? ascii_digits(u.raw) : std::string();
  std::smatch m;
  static const std::regex kDate(
      R"((^|[^0-9])([0-9]{1,2})[/.\-]([0-9]{1,2})(?:[/.\-]([0-9]{2,4}))?($|[^0-9:]))");
  static const std::regex kClock(R"((^|[^0-9])([0-9]{1,2}):([0-9]{2})($|[^0-9]))");
  if (separated && std::regex_search(raw, m, kDate)) {
    int d = std::stoi(m[2]), mo = std::stoi(m[3]);
    year y = year_month_day{today}.year();
    if (m[4].matched) y = year(m[4].length() == 2 ? 2000 + std::stoi(m[4]) : std::stoi(m[4]));
    year_month_day ymd{y, month(mo), day(d)};
    if (ymd.ok()) date = sys_days(ymd);
  }
  if (separated && std::regex_search(raw, m, kClock)) {
    int h = std::stoi(m[2]), mi = std::stoi(m[3]);
    if (h <= 24 && mi <= 59) hour = h, minute = mi;
  }
  auto is_pm = [&](size_t i) { return i < t.size() && phrase_at(i, w.pm); };
  auto is_am = [&](size_t i) { return i < t.size() && phrase_at(i, w.am); };

  for (size_t i = 0; i < t.size(); ++i) {
    auto n = number_of(t[i], numbers);
    if (!n) {
      if (!may_start[i]) continue;
      // "नवंबर 12", and "9:30 pm" after the clock matched above.
      if (hour && *hour < 12 && is_pm(i)) *hour += 12;
      for (const auto& [mo, names] : w.months) {
        size_t len = phrase_at(i, names);
        if (len && i + len < t.size()) {
          auto d = number_of(t[i + len], numbers);
          if (d && *d >= 1 && *d <= 31) {
            year_month_day ymd{year_month_day{today}.year(), month(mo), day(*d)};
            if (ymd.ok()) date = sys_days(ymd);
          }
        }
      }
      continue;
    }
    // 9 बजे, 7 pm, 9 baje
    if (*n <= 24 && i + 1 < t.size() &&
        (phrase_at(i + 1, w.hour_marker) || is_am(i + 1) || is_pm(i + 1))) {
      if (!hour || minute.value_or(0) == 0) {
        hour = *n;
        minute = 0;
      }
      if (is_pm(i + 1) && *hour < 12) *hour += 12;
      if (is_am(i + 1) && *hour == 12) *hour = 0;
      continue;
    }
    // 3 दिन पहले
    if (i + 1 < t.size() && phrase_at(i + 1, w.days_ago) && *n <= 366) {
      date = today - days(*n);
      continue;
    }
    // 12 नवंबर, 12 nov 2026
    for (const auto& [mo, names] : w.months) {
      size_t len = i + 1 < t.size() ? phrase_at(i + 1, names) : 0;
      if (!len || *n < 1 || *n > 31) continue;
      year y = year_month_day{today}.year();
      if (i + 1 + len < t.size()) {
        auto yy = number_of(t[i + 1 + len], numbers);
        if (yy && *yy >= 2000 && *yy <= 2100) y = year(*yy);
      }
      year_month_day ymd{y, month(mo), day(*n)};
      if (ymd.ok()) date = sys_days(ymd);
    }
  }

  if (hour && !part.empty() && *hour < 12) {
    // "शाम 7 बजे" is 19:00; "रात 9 बजे" is 21:00, "रात 2 बजे" stays 02:00.
    if (part == "afternoon" && *hour <= 6) *hour += 12;
    if (part == "evening" && *hour <= 11) *hour += 12;
    if (part == "night" && *hour >= 6) *hour += 12;
  }
  if (said_now && !date && !hour) {
    date = today;
    hour = now_minute / 60;
    minute = now_minute % 60;
  }
  if (!date && !hour && part.empty()) return std::nullopt;

  IncidentTime out;
  out.part = part;
  if (!date) {
    date = today;
    // A time of day alone means its last occurrence.
    int said_minute = hour ? *hour * 60 + minute.value_or(0) : -1;
    if (said_minute > now_minute + 10) date = today - days(1);
  }
  out.date = format_date(year_month_day{*date});
  if (hour) {
    if (*hour >= 24 || *hour < 0) *hour = 0;
    char buf[16];
    std::snprintf(buf, sizeof buf, "%02d:%02d", *hour % 24, minute.value_or(0) % 60);
    out.time = buf;
  }
  int said_minute = hour ? *hour * 60 + minute.value_or(0) : 0;
  out.future = *date > today || (*date == today && hour && said_minute > now_minute + 10);
  return out;
}

}  // namespace nivaran::dialogs
