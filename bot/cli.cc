#include "bot/cli.h"

#include <set>

namespace nivaran {

namespace {

struct CommandSpec {
  std::set<std::string> required;
  std::set<std::string> optional;
};

const std::map<std::string, CommandSpec>& specs() {
  static const std::map<std::string, CommandSpec> kSpecs = {
      {"serve", {{"--config"}, {}}},
      {"chat", {{"--config"}, {"--user"}}},
      {"check-config", {{"--config"}, {}}},
      {"user add", {{"--config", "--login", "--role"}, {"--district"}}},
      {"report", {{"--config", "--date"}, {"--district", "--format"}}},
  };
  return kSpecs;
}

}  // namespace

const char* usage() {
  return "usage: nivaran <command> [options]\n"
         "\n"
         "commands:\n"
         "  serve --config FILE                 run the HTTP server and outbox workers\n"
         "  chat --config FILE [--user ID]      a citizen's conversation in the terminal\n"
         "  check-config --config FILE          validate configuration, flows, reference data\n"
         "  user add --config FILE --login L --role R [--district D]\n"
         "                                      create a staff account (password on stdin)\n"
         "  report --config FILE --date YYYY-MM-DD [--district D] [--format csv|json]\n"
         "                                      the daily performance report\n";
}

Result<CommandLine> parse_command_line(const std::vector<std::string>& args) {
  CommandLine cl;
  size_t i = 0;
  if (args.empty()) return Status::invalid("no command given");
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    cl.help = true;
    return cl;
  }
  cl.command = args[i++];
  if (cl.command == "user") {
    if (i >= args.size() || args[i] != "add") return Status::invalid("'user' takes 'add'");
    cl.command = "user add";
    ++i;
  }
  auto spec = specs().find(cl.command);
  if (spec == specs().end()) return Status::invalid("unknown command '" + cl.command + "'");
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      cl.help = true;
      return cl;
    }
    if (!spec->second.required.count(a) && !spec->second.optional.count(a)) {
      return Status::invalid("unknown option '" + a + "' for " + cl.command);
    }
    if (i + 1 >= args.size() || args[i + 1].rfind("--", 0) == 0) {
      return Status::invalid("option " + a + " needs a value");
    }
    cl.options[a] = args[++i];
  }
  for (const auto& req : spec->second.required) {
    if (!cl.options.count(req)) return Status::invalid(cl.command + " needs " + req);
  }
  if (cl.command == "report") {
    const std::string& f = cl.options.count("--format") ? cl.options["--format"] : "csv";
    if (f != "csv" && f != "json") return Status::invalid("--format must be csv or json");
  }
  return cl;
}

}  // namespace nivaran
