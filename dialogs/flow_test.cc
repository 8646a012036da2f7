#include "dialogs/flow.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "dialogs/test_fixtures.h"

namespace nivaran::dialogs {
namespace {

using nlohmann::json;

// The real flow file as JSON, to break in one place per test.
json real_flow_json() {
  std::ifstream in(testing::source_path("dialogs/flows/grievance.json"));
  return json::parse(in);
}

std::string write_flow(const std::string& name, const json& j) {
  std::string path = "/tmp/nivaran_flow_test_" + name + ".json";
  std::ofstream(path) << j.dump(2);
  return path;
}

std::vector<std::string> errors_of(const std::string& name, const json& j) {
  std::string path = write_flow(name, j);
  auto f = load_flow(path);
  if (!f.ok()) return {f.status().message()};
  return validate_flow(f.value(), testing::real_reference_data(), path);
}

bool has_error(const std::vector<std::string>& errors, const std::string& text) {
  for (const auto& e : errors)
    if (e.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("the grievance flow is valid against the real reference data", "[flow]") {
  const std::string file = testing::source_path("dialogs/flows/grievance.json");
  auto errors = validate_flow(testing::grievance_flow(), testing::real_reference_data(), file);
  for (const auto& e : errors) UNSCOPED_INFO(e);
  CHECK(errors.empty());
}

TEST_CASE("load_flow names the file and field of a structural error", "[flow]") {
  SECTION("not JSON") {
    std::string path = "/tmp/nivaran_flow_test_garbage.json";
    std::ofstream(path) << "{\"nodes\": ";
    auto f = load_flow(path);
    REQUIRE_FALSE(f.ok());
    CHECK(f.status().message() == path + ": not valid JSON");
  }
  SECTION("a node without a type") {
    json j = real_flow_json();
    j["nodes"]["name"].erase("type");
    std::string path = write_flow("notype", j);
    auto f = load_flow(path);
    REQUIRE_FALSE(f.ok());
    CHECK(f.status().message() == path + ": nodes.name.type: missing");
  }
  SECTION("a text that is not an object of languages") {
    json j = real_flow_json();
    j["nodes"]["mobile"]["text"] = "मोबाइल नंबर?";
    std::string path = write_flow("textstring", j);
    auto f = load_flow(path);
    REQUIRE_FALSE(f.ok());
    CHECK(f.status().message().rfind(path + ": nodes.mobile.text: must be an object", 0) == 0);
  }
  SECTION("a missing file") {
    auto f = load_flow("/nonexistent/flow.json");
    REQUIRE_FALSE(f.ok());
    CHECK(f.status().message() == "/nonexistent/flow.json: cannot open file");
  }
}

TEST_CASE("validate_flow finds dangling and unreachable nodes", "[flow]") {
  SECTION("dangling next") {
    json j = real_flow_json();
    j["nodes"]["name"]["next"] = "phone";
    auto errors = errors_of("dangling", j);
    CHECK(has_error(errors, ": nodes.name.next: points to unknown node 'phone'"));
  }
  SECTION("unreachable node") {
    json j = real_flow_json();
    j["nodes"]["orphan"] = {{"type", "end"}, {"text", {{"hi", "अलविदा"}, {"en", "Bye"}}}};
    auto errors = errors_of("orphan", j);
    CHECK(has_error(errors, ": nodes.orphan: unreachable from start node 'category'"));
  }
  SECTION("unknown start") {
    json j = real_flow_json();
    j["start"] = "welcome";
    auto errors = errors_of("start", j);
    CHECK(has_error(errors, ": start: unknown node 'welcome'"));
  }
}

TEST_CASE("validate_flow finds missing translations and unknown validators", "[flow]") {
  SECTION("missing English text") {
    json j = real_flow_json();
    j["nodes"]["name"]["text"].erase("en");
    auto errors = errors_of("noen", j);
    CHECK(has_error(errors, "nodes.name.text.en: missing translation"));
  }
  SECTION("missing message translation") {
    json j = real_flow_json();
    j["messages"]["help"].erase("hi");
    auto errors = errors_of("nohelp", j);
    CHECK(has_error(errors, "messages.help.hi: missing translation"));
  }
  SECTION("unknown validator") {
    json j = real_flow_json();
    j["nodes"]["mobile"]["input"] = "aadhaar";
    auto errors = errors_of("aadhaar", j);
    CHECK(has_error(errors, "nodes.mobile.input: unknown validator 'aadhaar'"));
  }
  SECTION("unknown action") {
    json j = real_flow_json();
    j["nodes"]["file"]["action"] = "send_fax";
    auto errors = errors_of("fax", j);
    CHECK(has_error(errors, "nodes.file.action: unknown action 'send_fax'"));
  }
  SECTION("ticket text without the reference placeholder") {
    json j = real_flow_json();
    j["nodes"]["done"]["text"]["en"] = "Thank you.";
    auto errors = errors_of("noref", j);
    CHECK(has_error(errors, "nodes.done.text: must contain {ticket_ref}"));
  }
  SECTION("an option id too long for a Telegram button") {
    json j = real_flow_json();
    j["nodes"]["confirm"]["options"][0]["id"] = std::string(65, 'y');
    auto errors = errors_of("longid", j);
    CHECK(has_error(errors, ".id: must be 1-64 printable ASCII characters"));
  }
  SECTION("an option title too long for a WhatsApp list row") {
    json j = real_flow_json();
    j["nodes"]["confirm"]["options"][0]["title"]["hi"] = "हाँ, मेरी शिकायत अभी दर्ज कर दीजिए";
    auto errors = errors_of("longtitle", j);
    CHECK(has_error(errors,
                    "nodes.confirm.options.yes.title.hi: option title longer than 24 characters"));
  }
  SECTION("every error names the file") {
    json j = real_flow_json();
    j["nodes"]["mobile"]["input"] = "aadhaar";
    std::string path = write_flow("names_file", j);
    auto f = load_flow(path);
    REQUIRE(f.ok());
    for (const auto& e : validate_flow(f.value(), testing::real_reference_data(), path))
      CHECK(e.rfind(path + ": ", 0) == 0);
  }
}

}  // namespace nivaran::dialogs
