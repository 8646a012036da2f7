#include "tests/e2e/bot_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/e2e/http_probe.h"
#include "tests/support/free_port.h"

namespace nivaran::testing {

namespace fs = std::filesystem;

std::string source_dir() { return NIVARAN_SOURCE_DIR; }

nlohmann::json test_config(int redis_port, const std::string& api_base, const std::string& secret) {
  const std::string src = source_dir();
  return {
      {"http", {{"host", "127.0.0.1"}, {"port", 8080}, {"threads", 4}}},
      {"redis", {{"host", "127.0.0.1"}, {"port", redis_port}, {"timeout_ms", 300}}},
      {"platforms",
       {{"telegram", {{"token", "TESTTOKEN"}, {"secret_token", secret}, {"api_base", api_base}}}}},
      {"dialogs", {{"flow", src + "/dialogs/flows/grievance.json"}}},
      {"reference",
       {{"districts", src + "/config/districts.json"},
        {"categories", src + "/config/categories.json"}}},
      {"outbox",
       {{"workers", 2},
        {"reclaim_idle_ms", 2000},
        {"request_timeout_ms", 1000},
        {"sends_per_second", {{"telegram", 1000}}}}},
  };
}

namespace {

std::string make_temp_dir() {
  std::string tmpl = (fs::temp_directory_path() / "nivaran-e2e-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

pid_t spawn(const std::vector<std::string>& args, const std::string& out_path,
            const std::string& err_path, const std::string& in_path) {
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int in = open(in_path.empty() ? "/dev/null" : in_path.c_str(), O_RDONLY);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    std::vector<char*> argv;
    static std::string binary = NIVARAN_BINARY;
    argv.push_back(binary.data());
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

int wait_bounded(pid_t pid, int timeout_s) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return 128 + SIGKILL;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

}  // namespace

BotProcess::BotProcess(nlohmann::json config) : config_(std::move(config)), dir_(make_temp_dir()) {}

BotProcess::~BotProcess() {
  if (pid_ > 0) stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string BotProcess::output() const {
  return read_file(dir_ + "/stdout") + read_file(dir_ + "/stderr");
}

void BotProcess::start() {
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = pick_free_loopback_port();
    config_["http"]["port"] = port_;
    config_path_ = dir_ + "/config.json";
    std::ofstream(config_path_) << config_.dump(2);
    pid_ = spawn({"serve", "--config", config_path_}, dir_ + "/stdout", dir_ + "/stderr", "");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;  // exited: maybe the port was taken; try another
      }
      if (get(port_, "/healthz").status != 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (pid_ > 0) {
      stop();
      break;
    }
  }
  throw std::runtime_error("nivaran serve did not start:\n" + output());
}

int BotProcess::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int code = wait_bounded(pid_, 15);
  pid_ = -1;
  return code;
}

void BotProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

int run_nivaran(const std::vector<std::string>& args, const std::string& input, std::string& out,
                std::string& err, int timeout_s) {
  std::string dir = make_temp_dir();
  std::ofstream(dir + "/stdin") << input;
  pid_t pid = spawn(args, dir + "/stdout", dir + "/stderr", dir + "/stdin");
  int code = wait_bounded(pid, timeout_s);
  out = read_file(dir + "/stdout");
  err = read_file(dir + "/stderr");
  std::error_code ec;
  fs::remove_all(dir, ec);
  return code;
}

}  // namespace nivaran::testing
