// The session cache's own bookkeeping; whether the pipeline may trust an entry is tested against
// Redis in tests/integration/pipeline_test.cc.
#include "bot/session_cache.h"

#include <catch2/catch.hpp>
#include <string>

using nivaran::CachedSession;
using nivaran::SessionCache;

namespace {
std::shared_ptr<const CachedSession> at_version(int64_t v) {
  auto e = std::make_shared<CachedSession>();
  e->version = v;
  e->session.node = "node" + std::to_string(v);
  return e;
}
}  // namespace

TEST_CASE("the session cache returns what was put, replaces it, and forgets it on erase",
          "[cache]") {
  SessionCache cache(100);
  CHECK(cache.get("telegram\n1") == nullptr);
  cache.put("telegram\n1", at_version(1));
  REQUIRE(cache.get("telegram\n1") != nullptr);
  CHECK(cache.get("telegram\n1")->version == 1);
  cache.put("telegram\n1", at_version(2));
  CHECK(cache.get("telegram\n1")->session.node == "node2");
  CHECK(cache.size() == 1);
  cache.erase("telegram\n1");
  CHECK(cache.get("telegram\n1") == nullptr);
  cache.erase("telegram\n1");  // erasing what is not there is fine
  CHECK(cache.size() == 0);
}

TEST_CASE("the session cache holds no more than its capacity and drops the least recently used",
          "[cache]") {
  SessionCache cache(160);  // 16 shards of 10
  for (int i = 0; i < 5000; ++i) {
    cache.put("k" + std::to_string(i), at_version(i));
    cache.get("k0");  // used all along: never the least recent
  }
  CHECK(cache.size() <= 160);
  CHECK(cache.size() >= 100);  // every shard got its share of 5000 keys
  CHECK(cache.get("k0") != nullptr);
  CHECK(cache.get("k4999") != nullptr);
  CHECK(cache.get("k1") == nullptr);
}

TEST_CASE("a session cache of capacity 0 caches nothing", "[cache]") {
  SessionCache cache(0);
  cache.put("k", at_version(1));
  CHECK(cache.get("k") == nullptr);
  CHECK(cache.size() == 0);
}
