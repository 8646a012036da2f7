// BotProcess: the real build/nivaran binary as a child process, for end-to-end tests.
//
// It writes a configuration into a private folder (Redis and the platform API on loopback
// ports the test owns), starts `nivaran serve`, waits until it answers HTTP, and stops it with
// SIGTERM, reporting the exit code.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <sys/types.h>

namespace nivaran::testing {

class BotProcess {
 public:
  // `config` is the whole configuration; http.port is filled in with a free port.
  explicit BotProcess(nlohmann::json config);
  ~BotProcess();

  // Starts the server; throws std::runtime_error with its output when it does not come up.
  void start();
  // SIGTERM and wait (at most 15 s, then SIGKILL); returns the exit status (128+signal if killed).
  int stop();
  // SIGKILL, as a crash or an out-of-memory kill would end it: no shutdown at all.
  void kill();

  int port() const { return port_; }
  const std::string& config_path() const { return config_path_; }
  std::string output() const;  // what the process printed so far

 private:
  nlohmann::json config_;
  std::string dir_;
  std::string config_path_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// A configuration for tests: Redis and the Telegram API on the given loopback ports, the
// repository's flow and reference data.
nlohmann::json test_config(int redis_port, const std::string& telegram_api_base,
                           const std::string& secret = "test-secret");

// Runs build/nivaran with `args`, feeding `input` on stdin; returns the exit code and fills
// stdout/stderr. Bounded: killed after `timeout_s`.
int run_nivaran(const std::vector<std::string>& args, const std::string& input,
                std::string& out, std::string& err, int timeout_s = 20);

// The repository's source folder (for flows and reference data).
std::string source_dir();

}  // namespace nivaran::testing
