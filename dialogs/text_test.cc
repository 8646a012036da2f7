#include "dialogs/text.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "dialogs/test_fixtures.h"

namespace nivaran::dialogs {

TEST_CASE("clean_text keeps case and punctuation, collapses white space", "[text]") {
  CHECK(clean_text("  मेरा   फ़ोन\tचोरी हो गया!  ") == "मेरा फ़ोन चोरी हो गया!");
  CHECK(clean_text("Ram  Kumar") == "Ram Kumar");
  CHECK(clean_text("") == "");
}

TEST_CASE("clean_text turns invalid UTF-8 into a replacement character", "[text]") {
  CHECK(clean_text(std::string("ab\xff"
                               "cd")) ==
        "ab\xEF\xBF\xBD"
        "cd");
}

TEST_CASE("match_form folds case, digits, punctuation and chandrabindu", "[text]") {
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      {"BAREILLY", "bareilly"},
      {"  Bareilly!!  ", "bareilly"},
      {"१२३", "123"},
      {"९८७६५-४३२१०", "98765 43210"},
      {"बदायूँ", "बदायूं"},
      {"हाँ।", "हां"},
      {"Option #2", "option 2"},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    CHECK(match_form(c.in) == c.out);
  }
}

TEST_CASE("phonetic_key spells Devanagari and Hinglish alike", "[text]") {
  struct Case {
    const char* a;
    const char* b;
  };
  const Case same[] = {
      {"बरेली", "bareli"},
      {"पीलीभीत", "pilibhit"},
      {"पीलीभीत", "Pilibheet"},
      {"चोरी", "chori"},
      {"शाहजहांपुर", "shahjahanpur"},
      {"कोतवाली", "kotwali"},
      {"फरीदपुर", "faridpur"},
      {"हाँ", "haan"},
      {"जमीन", "ज़मीन"},
      {"किडनैप", "kidnaip"},
      {"बिथरी", "bithri"},
      {"तीन", "teen"},
  };
  for (const auto& c : same) {
    INFO(c.a << " vs " << c.b);
    CHECK(phonetic_key(match_form(c.a)) == phonetic_key(match_form(c.b)));
  }
}

TEST_CASE("edit_distance counts single-letter edits and stops at the limit", "[text]") {
  CHECK(edit_distance("bareli", "bareli", 2) == 0);
  CHECK(edit_distance("bareli", "bareily", 2) == 2);
  CHECK(edit_distance("bareli", "barelli", 2) == 1);
  CHECK(edit_distance("pilibit", "bareli", 2) == 3);
  CHECK(edit_distance("", "abc", 5) == 3);
  CHECK(edit_distance("baduan", "badaun", 2) == 1);  // swapped neighbours count once
}

TEST_CASE("contains_phrase matches whole words only", "[text]") {
  CHECK(contains_phrase("mera phone chori ho gaya", "chori"));
  CHECK(contains_phrase("mera phone chori ho gaya", "ho gaya"));
  CHECK_FALSE(contains_phrase("chorni", "chor"));
  CHECK_FALSE(contains_phrase("abc", ""));
}

TEST_CASE("phonetic_key word by word (cached) equals the whole text transliterated", "[text]") {
  // Every string of the flow and the reference data, and sentences mixing scripts: the
  // per-word cache must not change a single key.
  std::vector<std::string> corpus = {
      "मेरा नाम राम है, कल रात पीलीभीत में बस अड्डे के पास मेरा मोबाइल फ़ोन चोरी हो गया",
      "mera phone chori ho gaya बरेली में", "कोई लड़का रोज़ परेशान करता है", "UPI se paise kat gaye",
      "१२ नवंबर रात ९ बजे", "शाहजहाँपुर के चौक कोतवाली में", "क्षत्रिय ज्ञान श्रृंगार", "ॐ", ""};
  std::function<void(const nlohmann::json&)> collect = [&](const nlohmann::json& j) {
    if (j.is_string()) corpus.push_back(j.get<std::string>());
    for (const auto& v : j) if (j.is_structured()) collect(v);
  };
  for (const char* file : {"dialogs/flows/grievance.json", "config/districts.json",
                           "config/categories.json"}) {
    std::ifstream in(testing::source_path(file));
    collect(nlohmann::json::parse(in));
  }
  REQUIRE(corpus.size() > 1000);
  for (int pass = 0; pass < 2; ++pass) {  // the second pass reads the cache
    for (const auto& text : corpus) {
      const std::string form = match_form(text);
      INFO(form);
      CHECK(phonetic_key(form) == phonetic_key_uncached(form));
    }
  }
}

}  // namespace nivaran::dialogs
