// A small synchronous Redis client over hiredis: one connection per thread, reconnecting.
//
// Each thread that calls a Redis object gets its own lazily opened connection (no locks, no
// pool). Every call is bounded by the configured timeout; a connection that failed is dropped
// and reopened on the next call, so the service recovers by itself when Redis returns.
// Failures to reach Redis come back as Status::unavailable, never as exceptions.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

struct redisContext;

namespace nivaran {

struct RedisEndpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  int timeout_ms = 500;  // connect and per-command timeout
};

// An owned copy of one Redis reply.
struct RedisValue {
  enum class Type { kNil, kInteger, kString, kArray, kStatus, kError };
  Type type = Type::kNil;
  long long integer = 0;
  std::string str;  // string, status or error text
  std::vector<RedisValue> elements;

  bool is_nil() const { return type == Type::kNil; }
  bool is_error() const { return type == Type::kError; }
};

// A Lua script run by EVALSHA, loaded again transparently after NOSCRIPT (e.g. Redis restart).
struct RedisScript {
  explicit RedisScript(std::string source);
  std::string source;
  std::string sha1;  // hex SHA-1 of source, as Redis computes it
};

class Redis {
 public:
  explicit Redis(RedisEndpoint endpoint);
  ~Redis();
  Redis(const Redis&) = delete;
  Redis& operator=(const Redis&) = delete;

  // Runs one command. A Redis error reply is returned as a value of Type::kError; only
  // connection trouble yields a non-ok Status (unavailable).
  Result<RedisValue> command(const std::vector<std::string>& args);

  // Sends several commands in one round trip and returns their replies in order.
  Result<std::vector<RedisValue>> pipeline(const std::vector<std::vector<std::string>>& cmds);

  // EVALSHA with the script's keys and arguments, loading the script on NOSCRIPT.
  Result<RedisValue> eval(const RedisScript& script, const std::vector<std::string>& keys,
                          const std::vector<std::string>& args);
  // The same, with arguments that stay owned by the caller (no copy of large values).
  Result<RedisValue> eval_views(const RedisScript& script, const std::vector<std::string>& keys,
                                const std::vector<std::string_view>& args);

  const RedisEndpoint& endpoint() const { return endpoint_; }

  struct Connection;  // one thread's hiredis context; defined in redis.cc

 private:
  // This thread's connection, opened if needed; null on failure. `reused` tells whether it
  // was opened before this call.
  Connection* connection(bool* reused);
  void drop(Connection* c);  // forget a connection that failed
  // Writes commands with `write` and reads `replies` replies, on this thread's connection.
  Result<std::vector<RedisValue>> exchange(const std::function<void(redisContext*)>& write,
                                           size_t replies);

  template <typename Args>
  Result<RedisValue> eval_impl(const RedisScript& script, const std::vector<std::string>& keys,
                               const Args& args);

  RedisEndpoint endpoint_;
  uint64_t id_;  // distinguishes instances in the per-thread connection table
  static std::atomic<uint64_t> next_id_;
};

}  // namespace nivaran
