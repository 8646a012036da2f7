// Shared set-up for integration tests: a private redis-server and the repository's flow and
// reference data, loaded once per test binary.
#pragma once

#include <memory>
#include <string>

#include "bot/redis.h"
#include "dialogs/flow.h"
#include "dialogs/reference_data.h"
#include "tests/support/redis_server.h"

namespace nivaran::testing {

// The repository's flow and reference data, loaded once.
const dialogs::Flow& repo_flow();
const dialogs::ReferenceData& repo_reference();

// A running redis-server with a Redis client for it.
struct RedisFixture {
  RedisFixture() {
    server.start();
    redis = std::make_unique<Redis>(RedisEndpoint{"127.0.0.1", server.port(), 0, 300});
  }
  RedisServer server;
  std::unique_ptr<Redis> redis;

  // The command's reply, failing the test when Redis cannot be reached.
  RedisValue run(const std::vector<std::string>& args);
};

}  // namespace nivaran::testing
