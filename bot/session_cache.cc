#include "bot/session_cache.h"

#include <functional>

namespace nivaran {

namespace {
constexpr size_t kShards = 16;  // pool threads rarely wait on one another's lock
}

SessionCache::SessionCache(size_t capacity)
    : per_shard_(capacity == 0 ? 0 : (capacity + kShards - 1) / kShards), shards_(kShards) {}

SessionCache::Shard& SessionCache::shard_for(const std::string& key) {
  return shards_[std::hash<std::string>{}(key) % kShards];
}

std::shared_ptr<const CachedSession> SessionCache::get(const std::string& key) {
  if (per_shard_ == 0) return nullptr;
  Shard& s = shard_for(key);
  std::lock_guard lock(s.mu);
  auto it = s.index.find(key);
  if (it == s.index.end()) return nullptr;
  s.lru.splice(s.lru.begin(), s.lru, it->second);
  return it->second->second;
}

void SessionCache::put(const std::string& key, std::shared_ptr<const CachedSession> entry) {
  if (per_shard_ == 0) return;
  Shard& s = shard_for(key);
  std::lock_guard lock(s.mu);
  auto it = s.index.find(key);
  if (it != s.index.end()) {
    it->second->second = std::move(entry);
    s.lru.splice(s.lru.begin(), s.lru, it->second);
    return;
  }
  s.lru.emplace_front(key, std::move(entry));
  s.index.emplace(key, s.lru.begin());
  if (s.lru.size() > per_shard_) {
    s.index.erase(s.lru.back().first);
    s.lru.pop_back();
  }
}

void SessionCache::erase(const std::string& key) {
  if (per_shard_ == 0) return;
  Shard& s = shard_for(key);
  std::lock_guard lock(s.mu);
  auto it = s.index.find(key);
  if (it == s.index.end()) return;
  s.lru.erase(it->second);
  s.index.erase(it);
}

size_t SessionCache::size() {
  size_t n = 0;
  for (Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.lru.size();
  }
  return n;
}

}  // namespace nivaran
