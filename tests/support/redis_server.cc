// Spawns redis-server with fork/exec. The child unblocks every signal (the test process may
// have blocked SIGTERM for sigwait) and dies with the thread that started it, so a crashed
// test leaves no server behind.
#include "tests/support/redis_server.h"

#include <fcntl.h>
#include <hiredis.h>
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
#include <system_error>
#include <thread>

#include "tests/support/free_port.h"

namespace nivaran::testing {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string find_redis_server() {
  std::vector<std::string> candidates;
  if (const char* path = std::getenv("PATH")) {
    std::stringstream entries(path);
    std::string entry;
    while (std::getline(entries, entry, ':')) {
      if (!entry.empty()) candidates.push_back(entry + "/redis-server");
    }
  }
  candidates.push_back("/usr/bin/redis-server");
  candidates.push_back("/usr/local/bin/redis-server");
  for (const auto& candidate : candidates) {
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  throw std::runtime_error("RedisServer: redis-server not found on PATH or in /usr/bin");
}

std::string make_temp_dir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/nivaran-redis-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("RedisServer: mkdtemp " + pattern + " failed");
  }
  return pattern;
}

std::string tail_of(const std::string& path, std::size_t max_chars = 800) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text.size() > max_chars ? text.substr(text.size() - max_chars) : text;
}

// True when the server on `port` is ready (PING answers PONG, not LOADING) and is process `pid`.
bool answers_as(int port, pid_t pid) {
  timeval timeout{0, 200 * 1000};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, timeout);
  if (c == nullptr) return false;
  bool ready = false;
  if (!c->err) {
    redisSetTimeout(c, timeout);
    auto* pong = static_cast<redisReply*>(redisCommand(c, "PING"));
    if (pong && pong->type == REDIS_REPLY_STATUS && std::string(pong->str) == "PONG") {
      auto* info = static_cast<redisReply*>(redisCommand(c, "INFO server"));
      ready = info && info->type == REDIS_REPLY_STRING &&
              std::string(info->str, info->len).find("process_id:" + std::to_string(pid) + "\r") !=
                  std::string::npos;
      if (info) freeReplyObject(info);
    }
    if (pong) freeReplyObject(pong);
  }
  redisFree(c);
  return ready;
}

}  // namespace

RedisServer::RedisServer(std::vector<std::string> extra_args)
    : extra_args_(std::move(extra_args)) {}

RedisServer::~RedisServer() {
  if (running()) kill();
  if (!dir_.empty()) {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
}

void RedisServer::start() {
  if (running()) return;
  if (executable_.empty()) executable_ = find_redis_server();
  if (dir_.empty()) dir_ = make_temp_dir();
  std::string error;
  if (port_ != 0) {  // a restart keeps its port, or the tests' clients would lose it
    if (spawn(error)) return;
  } else {
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = pick_free_loopback_port();
      if (spawn(error)) return;
    }
  }
  throw std::runtime_error("RedisServer: cannot start redis-server on 127.0.0.1:" +
                           std::to_string(port_) + ": " + error);
}

bool RedisServer::spawn(std::string& error) {
  std::vector<std::string> args = {executable_,
                                   "--port",
                                   std::to_string(port_),
                                   "--bind",
                                   "127.0.0.1",
                                   "--dir",
                                   dir_,
                                   "--appendonly",
                                   "yes",
                                   "--appendfsync",
                                   "always",
                                   "--save",
                                   "",
                                   "--daemonize",
                                   "no",
                                   "--logfile",
                                   dir_ + "/redis.log"};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::string out_path = dir_ + "/redis.out";

  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    error = "fork failed";
    return false;
  }
  if (pid == 0) {  // child: async-signal-safe calls only
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = pid;

  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error = "redis-server exited at start: " + tail_of(dir_ + "/redis.log") + tail_of(out_path);
      return false;
    }
    if (answers_as(port_, pid_)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  reap(SIGKILL, 0);
  error = "no answer to PING within 10 s: " + tail_of(dir_ + "/redis.log");
  return false;
}

void RedisServer::stop() { reap(SIGTERM, 10); }

void RedisServer::kill() { reap(SIGKILL, 0); }

void RedisServer::reap(int first_signal, int seconds_before_kill) {
  if (!running()) return;
  ::kill(pid_, first_signal);
  auto deadline = Clock::now() + std::chrono::seconds(seconds_before_kill);
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (Clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);  // SIGKILL cannot be ignored: this returns promptly
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
}

}  // namespace nivaran::testing
