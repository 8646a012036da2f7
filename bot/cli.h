// Command-line parsing for build/nivaran. Pure: tested without running anything.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace nivaran {

struct CommandLine {
  std::string command;  // "serve", "chat", "check-config", "user add", "report"
  std::map<std::string, std::string> options;  // "--config" → "FILE"
  bool help = false;
};

// Parses argv[1..]. invalid() says what is wrong; the caller prints usage() and exits 2.
Result<CommandLine> parse_command_line(const std::vector<std::string>& args);

// The usage text.
const char* usage();

}  // namespace nivaran
