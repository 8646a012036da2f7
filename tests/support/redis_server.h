// A real redis-server for integration tests: private port on 127.0.0.1, private temp folder,
// AOF on, no RDB snapshots. It can be stopped and started again on the same port and folder
// (a Redis restart that keeps its data) or killed (a crash).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace nivaran::testing {

class RedisServer {
 public:
  // extra_args are appended to redis-server's command line and so override the defaults
  // (e.g. {"--appendfsync", "everysec"}). Nothing starts until start().
  explicit RedisServer(std::vector<std::string> extra_args = {});
  ~RedisServer();  // kills the server if running and removes its folder
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts redis-server and returns once it answers PING (at most ~10 s, else throws
  // std::runtime_error with the log's tail). The first start picks a free port and makes the
  // folder; later starts reuse both, so the AOF written before is loaded again.
  // The server is killed if the thread that called start() exits (PR_SET_PDEATHSIG).
  void start();

  // SIGTERM (Redis flushes the AOF and exits), waiting up to 10 s before SIGKILL.
  void stop();

  // SIGKILL: a crash. Only fsynced AOF survives (the default here is appendfsync always).
  void kill();

  bool running() const { return pid_ > 0; }
  int port() const { return port_; }               // 0 before the first start()
  const std::string& dir() const { return dir_; }  // the server's working folder

 private:
  bool spawn(std::string& error);  // one attempt on port_
  void reap(int first_signal, int seconds_before_kill);

  std::vector<std::string> extra_args_;
  std::string executable_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace nivaran::testing
