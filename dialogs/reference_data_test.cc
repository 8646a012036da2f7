#include "dialogs/reference_data.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>

#include "dialogs/test_fixtures.h"

namespace nivaran::dialogs {
namespace {

std::string write_temp(const std::string& name, const std::string& content) {
  std::string path = "/tmp/nivaran_dialogs_test_" + name;
  std::ofstream(path) << content;
  return path;
}

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

}  // namespace nivaran::dialogs
