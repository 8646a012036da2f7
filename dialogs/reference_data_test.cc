#include "dialogs/reference_data.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "dialogs/test_fixtures.h"

namespace nivaran::dialogs {
namespace {

using nlohmann::json;

// A directory of its own for this test process's files, removed at exit.
const std::string& temp_dir() {
  static const std::string dir = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "nivaran_ref_XXXXXX").string();
    if (!mkdtemp(tmpl.data())) FAIL("mkdtemp failed");
    return tmpl;
  }();
  static const struct Cleanup {
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup;
  return dir;
}

std::string write_temp(const std::string& name, const std::string& content) {
  std::string path = temp_dir() + "/" + name;
  std::ofstream(path) << content;
  return path;
}

json real_json(const std::string& relative) {
  std::ifstream in(testing::source_path(relative));
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

// The real files with one change, and the error loading them gives ("" when they load).
struct Bad {
  json districts = real_json("config/districts.json");
  json categories = real_json("config/categories.json");
  const std::string districts_path = temp_dir() + "/districts.json";
  const std::string categories_path = temp_dir() + "/categories.json";

  json& district(const std::string& code) {
    for (auto& d : districts["districts"])
      if (d["code"] == code) return d;
    FAIL("no district " << code);
    throw;
  }
  json& station(const std::string& district_code, const std::string& code) {
    for (auto& p : district(district_code)["police_stations"])
      if (p["code"] == code) return p;
    FAIL("no police station " << code);
    throw;
  }
  json& category(const std::string& code) {
    for (auto& c : categories["categories"])
      if (c["code"] == code) return c;
    FAIL("no category " << code);
    throw;
  }
  std::string error() {
    write_temp("districts.json", districts.dump(2));
    write_temp("categories.json", categories.dump(2));
    auto r = load_reference_data(districts_path, categories_path);
    return r.ok() ? "" : r.status().message();
  }
};

// "<file>: <field>: " starts the message.
#define CHECK_ERROR_AT(message, file, field) \
  CHECK_THAT(message, Catch::StartsWith((file) + ": " + (field) + ": "))

}  // namespace

TEST_CASE("the real reference data loads with four districts and ten categories", "[reference]") {
  const ReferenceData& ref = testing::real_reference_data();
  REQUIRE(ref.districts.size() == 4);
  for (const char* code : {"bareilly", "badaun", "pilibhit", "shahjahanpur"}) {
    INFO(code);
    const District* d = ref.find_district(code);
    REQUIRE(d != nullptr);
    CHECK(d->ticket_prefix.size() == 3);
    CHECK(d->police_stations.size() >= 3);
    CHECK(d->cells.size() == 4);
  }
  REQUIRE(ref.categories.size() == 10);
  for (const char* code :
       {"theft", "cyber_fraud", "women_safety", "assault", "land_dispute", "missing_person",
        "traffic", "police_conduct", "objectionable_post", "other"}) {
    INFO(code);
    CHECK(ref.find_category(code) != nullptr);
  }
  CHECK(ref.find_category("cyber_fraud")->cell == "cyber");
  CHECK(ref.find_category("cyber_fraud")->helplines.front().number == "1930");
  CHECK(ref.find_category("women_safety")->cell == "women");
  CHECK(ref.find_category("women_safety")->helplines.front().number == "1090");
  CHECK(ref.find_category("police_conduct")->cell == "nodal");
  CHECK(ref.find_category("missing_person")->priority == "high");
}

TEST_CASE("short category names fit a WhatsApp button", "[reference]") {
  for (const auto& c : testing::real_reference_data().categories)
    for (const auto& [lang, t] : c.short_name) {
      size_t chars = 0;
      for (unsigned char ch : t) chars += (ch & 0xC0) != 0x80;
      INFO(c.code << " " << lang);
      CHECK(chars <= 24);
    }
}

TEST_CASE("reference data errors name the file and the field", "[reference]") {
  const std::string cats = testing::source_path("config/categories.json");
  const std::string dists = testing::source_path("config/districts.json");

  SECTION("a missing file") {
    auto r = load_reference_data("/nonexistent/districts.json", cats);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == "/nonexistent/districts.json: cannot open file");
  }
  SECTION("not JSON") {
    std::string p = write_temp("bad.json", "{districts: ");
    auto r = load_reference_data(p, cats);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == p + ": not valid JSON");
  }
  SECTION("a district without its English name") {
    std::string p = write_temp("d1.json", R"({"districts": [{"code": "bareilly",
      "name": {"hi": "बरेली"}, "ticket_prefix": "BLY", "cells": {}}]})");
    auto r = load_reference_data(p, cats);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == p + ": districts.bareilly.name.en: missing translation");
  }
  SECTION("a category routed to an unknown cell") {
    std::string p = write_temp("c1.json", R"({"categories": [{"code": "theft",
      "name": {"hi": "चोरी", "en": "Theft"}, "cell": "flying_squad", "priority": "normal"}]})");
    auto r = load_reference_data(dists, p);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().rfind(p + ": categories.theft.cell: unknown cell", 0) == 0);
  }
  SECTION("a bad priority") {
    std::string p = write_temp("c2.json", R"({"categories": [{"code": "theft",
      "name": {"hi": "चोरी", "en": "Theft"}, "cell": "cyber", "priority": "asap"}]})");
    auto r = load_reference_data(dists, p);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() ==
          p + ": categories.theft.priority: must be \"normal\" or \"high\"");
  }
}

TEST_CASE(
    "every police station of the real data has a unique code, both names and spellings "
    "no other station of its district shares",
    "[reference]") {
  const ReferenceData& ref = testing::real_reference_data();
  for (const auto& d : ref.districts) {
    INFO(d.code);
    CHECK(d.police_stations.size() >= 10);
    std::set<std::string> codes, keys;
    for (const auto& p : d.police_stations) {
      INFO(p.code);
      CHECK(codes.insert(p.code).second);
      CHECK_FALSE(text_in(p.name, "hi").empty());
      CHECK_FALSE(text_in(p.name, "en").empty());
      for (const auto& k : p.keys) CHECK(keys.insert(k).second);
    }
    for (const char* cell : {"social_media", "cyber", "women", "nodal"}) {
      INFO(cell);
      REQUIRE(d.cells.count(cell));
      CHECK_FALSE(text_in(d.cells.at(cell), "hi").empty());
      CHECK_FALSE(text_in(d.cells.at(cell), "en").empty());
    }
  }
  // The first station of each district is its Kotwali: the flow gives it as the example.
  for (const auto& d : ref.districts) CHECK(d.police_stations.front().code == "kotwali_" + d.code);
}

TEST_CASE("the categories route as DESIGN.md says", "[reference]") {
  const ReferenceData& ref = testing::real_reference_data();
  const std::map<std::string, std::pair<std::string, std::string>> design = {
      {"theft", {"चोरी / लूट", "social_media"}},
      {"cyber_fraud", {"साइबर अपराध / ऑनलाइन धोखाधड़ी", "cyber"}},
      {"women_safety", {"महिलाओं से जुड़ा अपराध / छेड़छाड़", "women"}},
      {"assault", {"मारपीट / धमकी", "social_media"}},
      {"land_dispute", {"ज़मीन / संपत्ति विवाद", "social_media"}},
      {"missing_person", {"गुमशुदा व्यक्ति", "social_media"}},
      {"traffic", {"यातायात / सड़क", "social_media"}},
      {"police_conduct", {"पुलिसकर्मी के व्यवहार की शिकायत", "nodal"}},
      {"objectionable_post", {"सोशल मीडिया पर आपत्तिजनक पोस्ट", "social_media"}},
      {"other", {"अन्य", "social_media"}},
  };
  for (const auto& [code, want] : design) {
    INFO(code);
    const Category* c = ref.find_category(code);
    REQUIRE(c != nullptr);
    CHECK(text_in(c->name, "hi") == want.first);
    CHECK(c->cell == want.second);
  }
  CHECK(ref.find_category("women_safety")->mask_personal_data);
  CHECK(ref.find_category("missing_person")->priority == "high");
}

TEST_CASE("bad districts are refused with the file and the field named", "[reference]") {
  Bad b;
  REQUIRE(b.error() == "");
  const std::string& f = b.districts_path;

  SECTION("a duplicate district code") {
    b.districts["districts"][1]["code"] = "bareilly";
    CHECK(b.error() == f + ": districts[1].code: duplicate district \"bareilly\"");
  }
  SECTION("a district code with capitals") {
    b.districts["districts"][0]["code"] = "Bareilly";
    CHECK_ERROR_AT(b.error(), f, "districts[0].code");
  }
  SECTION("one of the range's four districts missing") {
    b.districts["districts"].erase(2);
    std::string e = b.error();
    CHECK_ERROR_AT(e, f, "districts");
    CHECK_THAT(e, Catch::Contains("missing district \"pilibhit\""));
  }
  SECTION("a ticket prefix that is not 3 capital letters") {
    b.district("badaun")["ticket_prefix"] = "Bdn";
    CHECK_ERROR_AT(b.error(), f, "districts.badaun.ticket_prefix");
    b.district("badaun")["ticket_prefix"] = "BDNX";
    CHECK_ERROR_AT(b.error(), f, "districts.badaun.ticket_prefix");
  }
  SECTION("two districts with one ticket prefix") {
    b.district("badaun")["ticket_prefix"] = "BLY";
    CHECK(b.error() == f + ": districts.badaun.ticket_prefix: \"BLY\" is already "
                           "district \"bareilly\"'s ticket prefix");
  }
  SECTION("the triage queue's ticket prefix") {
    b.district("pilibhit")["ticket_prefix"] = "BRG";
    CHECK_ERROR_AT(b.error(), f, "districts.pilibhit.ticket_prefix");
  }
  SECTION("a district without its Hindi name") {
    b.district("badaun")["name"].erase("hi");
    CHECK(b.error() == f + ": districts.badaun.name.hi: missing translation");
  }
  SECTION("a Hindi name in Latin letters, an English name in Devanagari") {
    b.district("badaun")["name"]["hi"] = "Badaun";
    CHECK_ERROR_AT(b.error(), f, "districts.badaun.name.hi");
    b.district("badaun")["name"] = {{"hi", "बदायूं"}, {"en", "बदायूं"}};
    CHECK_ERROR_AT(b.error(), f, "districts.badaun.name.en");
  }
  SECTION("a cell missing") {
    b.district("pilibhit")["cells"].erase("women");
    CHECK(b.error() == f + ": districts.pilibhit.cells.women: missing");
  }
  SECTION("no cells at all") {
    b.district("pilibhit").erase("cells");
    CHECK_ERROR_AT(b.error(), f, "districts.pilibhit.cells");
  }
  SECTION("an unknown cell") {
    b.district("bareilly")["cells"]["traffic"] = {{"hi", "यातायात सेल"}, {"en", "Traffic cell"}};
    CHECK_ERROR_AT(b.error(), f, "districts.bareilly.cells.traffic");
  }
  SECTION("a cell without its English name") {
    b.district("shahjahanpur")["cells"]["nodal"].erase("en");
    CHECK(b.error() == f + ": districts.shahjahanpur.cells.nodal.en: missing translation");
  }
  SECTION("a district variant that is not a string") {
    b.district("bareilly")["variants"][1] = 7;
    CHECK(b.error() == f + ": districts.bareilly.variants[1]: must be a non-empty string");
  }
  SECTION("variants that are not an array") {
    b.district("bareilly")["variants"] = "bareli";
    CHECK_ERROR_AT(b.error(), f, "districts.bareilly.variants");
  }
  SECTION("a district spelt like another district") {
    b.district("badaun")["variants"].push_back("bareli");
    std::string e = b.error();
    CHECK_ERROR_AT(e, f, "districts.badaun.variants[7]");
    CHECK_THAT(e, Catch::Contains("district bareilly"));
  }
  SECTION("a misspelt field") {
    b.district("bareilly")["varients"] = json::array({"bareli"});
    CHECK_ERROR_AT(b.error(), f, "districts.bareilly.varients");
  }
  SECTION("notes in fields starting with _ are allowed") {
    b.district("bareilly")["_note"] = "SP office updated this list in 2025";
    b.station("bareilly", "baradari")["_note"] = "new building";
    CHECK(b.error() == "");
  }
  SECTION("no police stations") {
    b.district("badaun")["police_stations"] = json::array();
    CHECK_ERROR_AT(b.error(), f, "districts.badaun.police_stations");
    b.district("badaun").erase("police_stations");
    CHECK_ERROR_AT(b.error(), f, "districts.badaun.police_stations");
  }
}

TEST_CASE("bad police stations are refused with the field named", "[reference]") {
  Bad b;
  const std::string& f = b.districts_path;
  json& bareilly = b.district("bareilly");

  SECTION("a duplicate station code in one district") {
    bareilly["police_stations"][2]["code"] = "kotwali_bareilly";
    CHECK(b.error() == f + ": districts.bareilly.police_stations[2].code: duplicate police "
                           "station \"kotwali_bareilly\"");
  }
  SECTION("the same station code in two districts is fine") {
    b.station("badaun", "ujhani")["code"] = "baradari";
    CHECK(b.error() == "");
  }
  SECTION("a station code that is not lower_snake") {
    bareilly["police_stations"][1]["code"] = "Prem Nagar";
    CHECK_ERROR_AT(b.error(), f, "districts.bareilly.police_stations[1].code");
  }
  SECTION("a station without a code") {
    bareilly["police_stations"][1].erase("code");
    CHECK(b.error() == f + ": districts.bareilly.police_stations[1].code: missing");
  }
  SECTION("a station without its English name") {
    b.station("bareilly", "baradari")["name"].erase("en");
    CHECK(b.error() ==
          f + ": districts.bareilly.police_stations.baradari.name.en: missing translation");
  }
  SECTION("a station with an empty Hindi name") {
    b.station("pilibhit", "puranpur")["name"]["hi"] = "";
    CHECK(b.error() ==
          f + ": districts.pilibhit.police_stations.puranpur.name.hi: missing translation");
  }
  SECTION("a station's Hindi name in Latin letters") {
    b.station("pilibhit", "puranpur")["name"]["hi"] = "Puranpur";
    CHECK_ERROR_AT(b.error(), f, "districts.pilibhit.police_stations.puranpur.name.hi");
  }
  SECTION("a station name too long for a list row") {
    b.station("shahjahanpur", "tilhar")["name"]["en"] = "Tilhar Kotwali of the Tilhar tehsil";
    CHECK_ERROR_AT(b.error(), f, "districts.shahjahanpur.police_stations.tilhar.name.en");
  }
  SECTION("a station that is not an object") {
    bareilly["police_stations"][3] = "Kila";
    CHECK_ERROR_AT(b.error(), f, "districts.bareilly.police_stations[3]");
  }
  SECTION("a variant that is not a string") {
    b.station("bareilly", "baradari")["variants"] = json::array({"bardari", nullptr});
    CHECK(b.error() == f + ": districts.bareilly.police_stations.baradari.variants[1]: must be a "
                           "non-empty string");
  }
  SECTION("a variant with nothing to match") {
    b.station("bareilly", "baradari")["variants"] = json::array({"--"});
    CHECK_ERROR_AT(b.error(), f, "districts.bareilly.police_stations.baradari.variants[0]");
  }
  SECTION("variants that are not an array") {
    b.station("bareilly", "baradari")["variants"] = "bardari";
    CHECK_ERROR_AT(b.error(), f, "districts.bareilly.police_stations.baradari.variants");
  }
  SECTION("a misspelt station field") {
    b.station("bareilly", "baradari")["varients"] = json::array({"bardari"});
    CHECK_ERROR_AT(b.error(), f, "districts.bareilly.police_stations.baradari.varients");
  }
}

TEST_CASE("two police stations of one district may not share a spelling", "[reference]") {
  Bad b;
  const std::string& f = b.districts_path;

  SECTION("a variant equal to another station's name") {
    b.station("bareilly", "kila")["variants"].push_back("Baradari");
    std::string e = b.error();
    CHECK_ERROR_AT(e, f, "districts.bareilly.police_stations.kila.variants[3]");
    CHECK_THAT(e, Catch::Contains("police station baradari"));
  }
  SECTION("the same name in the other script") {
    b.station("bareilly", "kila")["variants"].push_back("बारादरी");
    CHECK_ERROR_AT(b.error(), f, "districts.bareilly.police_stations.kila.variants[3]");
  }
  SECTION("the same name spelt with or without a space, in another case") {
    b.station("bareilly", "kila")["variants"].push_back("PREMNAGAR");
    std::string e = b.error();
    CHECK_ERROR_AT(e, f, "districts.bareilly.police_stations.kila.variants[3]");
    CHECK_THAT(e, Catch::Contains("police station prem_nagar"));
  }
  SECTION("a romanisation that reads the same (ee / i, z / j)") {
    b.station("badaun", "kadar_chowk")["variants"] = json::array({"jareef nagar"});
    std::string e = b.error();
    CHECK_ERROR_AT(e, f, "districts.badaun.police_stations.kadar_chowk.variants[0]");
    CHECK_THAT(e, Catch::Contains("police station zarifnagar"));
  }
  SECTION("a new station named like an existing one") {
    b.district("pilibhit")["police_stations"].push_back(
        {{"code", "puranpur_new"}, {"name", {{"hi", "पूरनपुर"}, {"en", "Puranpur New"}}}});
    std::string e = b.error();
    CHECK_ERROR_AT(e, f, "districts.pilibhit.police_stations.puranpur_new.name.hi");
    CHECK_THAT(e, Catch::Contains("police station puranpur"));
  }
  SECTION("a station spelt like a district") {
    b.station("bareilly", "kila")["variants"].push_back("Pilibhit");
    std::string e = b.error();
    CHECK_ERROR_AT(e, f, "districts.bareilly.police_stations.kila.variants[3]");
    CHECK_THAT(e, Catch::Contains("district pilibhit"));
  }
  SECTION("one name in two districts is fine (every district has a Kotwali)") {
    b.station("badaun", "ujhani")["variants"] = json::array({"Baradari"});
    CHECK(b.error() == "");
  }
}

TEST_CASE("bad categories are refused with the file and the field named", "[reference]") {
  Bad b;
  const std::string& f = b.categories_path;

  SECTION("a duplicate category code") {
    b.categories["categories"][1]["code"] = "theft";
    CHECK(b.error() == f + ": categories[1].code: duplicate category \"theft\"");
  }
  SECTION("one of DESIGN.md's categories missing") {
    b.categories["categories"].erase(9);
    std::string e = b.error();
    CHECK_ERROR_AT(e, f, "categories");
    CHECK_THAT(e, Catch::Contains("missing category \"other\""));
  }
  SECTION("an unknown cell") {
    b.category("traffic")["cell"] = "traffic_police";
    CHECK_ERROR_AT(b.error(), f, "categories.traffic.cell");
  }
  SECTION("an unknown priority") {
    b.category("traffic")["priority"] = "urgent";
    CHECK(b.error() == f + ": categories.traffic.priority: must be \"normal\" or \"high\"");
  }
  SECTION("police conduct routed anywhere but the nodal officer") {
    b.category("police_conduct")["cell"] = "social_media";
    CHECK_ERROR_AT(b.error(), f, "categories.police_conduct.cell");
  }
  SECTION("crimes against women without masking") {
    b.category("women_safety")["mask_personal_data"] = false;
    CHECK_ERROR_AT(b.error(), f, "categories.women_safety.mask_personal_data");
    b.category("women_safety").erase("mask_personal_data");
    CHECK_ERROR_AT(b.error(), f, "categories.women_safety.mask_personal_data");
  }
  SECTION("mask_personal_data that is not true or false") {
    b.category("theft")["mask_personal_data"] = "yes";
    CHECK(b.error() == f + ": categories.theft.mask_personal_data: must be true or false");
  }
  SECTION("a category without its English name") {
    b.category("assault")["name"].erase("en");
    CHECK(b.error() == f + ": categories.assault.name.en: missing translation");
  }
  SECTION("a short name too long for a button or list row") {
    b.category("assault")["short_name"]["hi"] = "मारपीट / धमकी / गाली-गलौज / झगड़ा";
    CHECK_ERROR_AT(b.error(), f, "categories.assault.short_name.hi");
  }
  SECTION("a long name and no short name") {
    b.category("police_conduct").erase("short_name");
    CHECK_ERROR_AT(b.error(), f, "categories.police_conduct.short_name");
  }
  SECTION("a keyword that is not a string") {
    b.category("theft")["keywords"][0] = 1;
    CHECK(b.error() == f + ": categories.theft.keywords[0]: must be a non-empty string");
  }
  SECTION("a helpline number with letters") {
    b.category("cyber_fraud")["helplines"][0]["number"] = "19-30";
    CHECK_ERROR_AT(b.error(), f, "categories.cyber_fraud.helplines[0].number");
  }
  SECTION("a helpline without a name") {
    b.category("cyber_fraud")["helplines"][0].erase("name");
    CHECK_ERROR_AT(b.error(), f, "categories.cyber_fraud.helplines[0].name");
  }
  SECTION("a misspelt category field") {
    b.category("theft")["keyword"] = json::array({"chori"});
    CHECK_ERROR_AT(b.error(), f, "categories.theft.keyword");
  }
}

}  // namespace nivaran::dialogs
