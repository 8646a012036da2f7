#include "dialogs/datetime.h"

#include <catch2/catch.hpp>

#include "dialogs/test_fixtures.h"

namespace nivaran::dialogs {
namespace {

constexpr int64_t kNow = 1'795'840'200'000;  // Saturday 2026-11-28 10:00 IST

std::string parsed(const std::string& said) {
  const Flow& f = testing::grievance_flow();
  auto t = parse_incident_time(Utterance::of(said), f.dates, f.numbers, kNow, 330);
  if (!t) return "none";
  std::string out = t->date;
  if (!t->time.empty()) out += " " + t->time;
  if (!t->part.empty()) out += " " + t->part;
  if (t->future) out += " future";
  return out;
}

}  // namespace

TEST_CASE("incident times in Hindi, Hinglish and English", "[datetime]") {
  struct Case {
    const char* said;
    const char* expected;
  };
  const Case cases[] = {
      {"आज", "2026-11-28"},
      {"aaj", "2026-11-28"},
      {"today", "2026-11-28"},
      {"कल", "2026-11-27"},
      {"kal", "2026-11-27"},
      {"yesterday", "2026-11-27"},
      {"परसों", "2026-11-26"},
      {"parson", "2026-11-26"},
      {"day before yesterday", "2026-11-26"},
      {"आज सुबह", "2026-11-28 morning"},
      {"aaj subah", "2026-11-28 morning"},
      {"सुबह", "2026-11-28 morning"},
      {"कल शाम", "2026-11-27 evening"},
      {"kal shaam", "2026-11-27 evening"},
      {"कल रात", "2026-11-27 night"},
      {"last night", "2026-11-27 night"},
      {"कल रात 9 बजे", "2026-11-27 21:00 night"},
      {"कल रात ९ बजे", "2026-11-27 21:00 night"},
      {"kal raat 9 baje", "2026-11-27 21:00 night"},
      {"रात 2 बजे", "2026-11-28 02:00 night"},
      {"कल शाम 7 बजे", "2026-11-27 19:00 evening"},
      {"दोपहर 2 बजे", "2026-11-27 14:00 afternoon"},
      {"सुबह 8 बजे", "2026-11-28 08:00 morning"},
      {"yesterday 7 pm", "2026-11-27 19:00"},
      {"yesterday 9:30 pm", "2026-11-27 21:30"},
      {"kal 10:15 baje", "2026-11-27 10:15"},
      {"कल रात ग्यारह बजे", "2026-11-27 23:00 night"},
      {"kal raat gyarah baje", "2026-11-27 23:00 night"},
      {"बारह नवंबर", "2026-11-12"},
      {"इक्कीस नवंबर को", "2026-11-21"},
      {"pachchis november", "2026-11-25"},
      {"12/11/2026", "2026-11-12"},
      {"१२/११/२०२६", "2026-11-12"},
      {"12-11-2026", "2026-11-12"},
      {"12.11.26", "2026-11-12"},
      {"12/11", "2026-11-12"},
      {"12 नवंबर", "2026-11-12"},
      {"12 नवम्बर 2026", "2026-11-12"},
      {"12 nov", "2026-11-12"},
      {"november 12", "2026-11-12"},
      {"3 दिन पहले", "2026-11-25"},
      {"तीन दिन पहले", "2026-11-25"},
      {"do din pehle", "2026-11-26"},
      {"2 days ago", "2026-11-26"},
      {"अभी", "2026-11-28 10:00"},
      {"abhi abhi", "2026-11-28 10:00"},
      {"15/12/2026", "2026-12-15 future"},
      {"5 दिसंबर", "2026-12-05 future"},
      {"मेरा फोन चोरी हो गया", "none"},
      {"pata nahi", "none"},
      {"9876543210", "none"},
      {"", "none"},
  };
  for (const auto& c : cases) {
    INFO(c.said);
    CHECK(parsed(c.said) == c.expected);
  }
}

}  // namespace nivaran::dialogs
