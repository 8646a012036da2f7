#include "bot/cli.h"

#include <catch2/catch.hpp>

using nivaran::parse_command_line;

TEST_CASE("serve needs --config and takes nothing else", "[cli]") {
  auto ok = parse_command_line({"serve", "--config", "config/demo.json"});
  REQUIRE(ok.ok());
  CHECK(ok->command == "serve");
  CHECK(ok->options.at("--config") == "config/demo.json");

  auto missing = parse_command_line({"serve"});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message() == "serve needs --config");

  auto extra = parse_command_line({"serve", "--config", "x.json", "--user", "u"});
  REQUIRE_FALSE(extra.ok());
  CHECK(extra.status().message() == "unknown option '--user' for serve");
}

TEST_CASE("bad command lines are refused with a reason", "[cli]") {
  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  const std::vector<Case> cases = {
      {{}, "no command given"},
      {{"launch"}, "unknown command 'launch'"},
      {{"chat", "--config"}, "option --config needs a value"},
      {{"chat", "--config", "--user", "u"}, "option --config needs a value"},
      {{"user"}, "'user' takes 'add'"},
      {{"user", "add", "--config", "c.json", "--login", "a"}, "user add needs --role"},
      {{"report", "--config", "c", "--date", "2026-11-28", "--format", "xml"},
       "--format must be csv or json"},
  };
  for (const auto& c : cases) {
    INFO("args: " << c.args.size());
    auto r = parse_command_line(c.args);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == c.error);
  }
}

TEST_CASE("chat takes an optional --user and help is recognised anywhere", "[cli]") {
  auto chat = parse_command_line({"chat", "--config", "c.json", "--user", "ram"});
  REQUIRE(chat.ok());
  CHECK(chat->options.at("--user") == "ram");
  CHECK(parse_command_line({"--help"})->help);
  CHECK(parse_command_line({"serve", "--help"})->help);
}

TEST_CASE("user add needs a login and a role, and the district is optional", "[cli]") {
  auto ig = parse_command_line(
      {"user", "add", "--config", "c.json", "--login", "ig.range", "--role", "ig"});
  REQUIRE(ig.ok());
  CHECK(ig->command == "user add");
  CHECK(ig->options.at("--login") == "ig.range");
  CHECK(ig->options.count("--district") == 0);
  auto staff = parse_command_line({"user", "add", "--config", "c.json", "--login", "ram", "--role",
                                   "staff", "--district", "pilibhit"});
  REQUIRE(staff.ok());
  CHECK(staff->options.at("--district") == "pilibhit");
  CHECK(parse_command_line({"user", "add", "--config", "c.json", "--role", "ig"})
            .status()
            .message() == "user add needs --login");
}
