// A process-local read cache of conversation sessions, so that a message in a conversation this
// process served last can skip the read round trip to Redis.
//
// It is only ever a guess. Redis holds the truth, and every commit checks the guess against it:
// the commit script refuses (CONFLICT) when the session's version and token are not the ones
// the entry was taken at, or when the open ticket's status is not the one the entry remembers;
// the pipeline then drops the entry, reads Redis and steps again. The commit writes a fresh
// random token with each version, and anything else that writes a session hash bumps its
// version and deletes its token (a staff action asking for feedback), so a hash that expired and
// was created again up to the same version is not mistaken for the one cached: an entry can be
// stale but never wrongly trusted. Several processes sharing one Redis stay correct; a
// conversation whose messages alternate between processes just misses more often.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "dialogs/engine.h"

namespace nivaran {

struct CachedSession {
  int64_t version = 0;          // the session hash's version this snapshot was taken at
  std::string token;            // and its token (versions repeat after expiry, tokens do not)
  dialogs::Session session;     // parsed, as committed at `version`
  std::string feedback_for;     // the hash's "fb" at `version`
  std::string open_ticket;      // the hash's "ot" at `version`
  std::string open_ticket_status;  // that ticket's status when last read or written
};

class SessionCache {
 public:
  // Holds at most `capacity` sessions (0: caches nothing), least recently used dropped first.
  explicit SessionCache(size_t capacity);

  // Entries are shared and immutable: a get() costs no copy of the session.
  std::shared_ptr<const CachedSession> get(const std::string& key);
  void put(const std::string& key, std::shared_ptr<const CachedSession> entry);
  void erase(const std::string& key);
  size_t size();

 private:
  struct Shard {
    std::mutex mu;
    using Entry = std::pair<std::string, std::shared_ptr<const CachedSession>>;
    std::list<Entry> lru;  // most recent first
    std::unordered_map<std::string, std::list<Entry>::iterator> index;
  };
  Shard& shard_for(const std::string& key);

  size_t per_shard_;
  std::vector<Shard> shards_;
};

}  // namespace nivaran
