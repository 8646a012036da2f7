// The service configuration: one JSON file, validated as a whole at start.
//
// "${NAME}" in any string is replaced by that environment variable, so secrets stay out of the
// file. Relative paths resolve against the file's own folder. Every error names the field.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bot/redis.h"
#include "core/status.h"

namespace nivaran {

struct Config {
  std::string file;  // the file it was read from
  std::string dir;   // its folder, against which relative paths were resolved

  struct Http {
    std::string host = "127.0.0.1";
    int port = 8080;
    int threads = 6;                    // cpprestsdk pool size (STACK-NOTES: 4-8 on 2 cores)
    size_t max_body_bytes = 1 << 20;    // larger bodies get 413 before they are read
  } http;

  RedisEndpoint redis;

  // Platform name → its configuration block; a platform absent here is off.
  std::map<std::string, nlohmann::json> platforms;

  std::string flow_file;        // dialogs.flow
  std::string districts_file;   // reference.districts
  std::string categories_file;  // reference.categories

  struct Sessions {
    int64_t ttl_seconds = 30 * 24 * 3600;        // an idle conversation is forgotten after this
    int64_t dedupe_ttl_seconds = 7 * 24 * 3600;  // how long a platform message id is remembered
    int64_t draft_transcript_ttl_seconds = 30 * 24 * 3600;  // transcript without a ticket
    // Sessions this process keeps in memory to skip a read (0: none); a read cache that every
    // commit checks against Redis (bot/session_cache.h).
    int64_t cache_entries = 20000;
  } sessions;

  struct Outbox {
    int workers = 2;               // sender threads per process
    int batch_size = 128;          // most entries a worker reads and sends at once
    int max_attempts = 8;          // then the message is dead-lettered
    int64_t reclaim_idle_ms = 30000;  // entries pending this long on a dead worker are taken over
    int64_t max_backoff_ms = 300000;
    int64_t request_timeout_ms = 10000;
    int64_t pause_unreachable_ms = 30000;  // 0: never pause a platform that does not answer
    // Replies begun per second per platform, across all processes (their API limits).
    std::map<std::string, int64_t> sends_per_second = {
        {"telegram", 30}, {"whatsapp", 80}, {"messenger", 40}, {"x", 5}};
  } outbox;

  struct Auth {
    int64_t token_ttl_seconds = 12 * 3600;  // a console session ends this long after login
    int64_t scrypt_n = 1 << 15;             // password hash cost: a power of two, 2^10..2^18
  } auth;

  // SLA targets per priority (bot/sla.h sla_policy reads it); null keeps the defaults.
  nlohmann::json sla;

  struct Intake {
    int64_t max_per_mobile = 10;  // tickets per mobile number within window_days; 0: no limit
    int64_t window_days = 30;
    int64_t link_hours = 24;      // same mobile + category on another platform: linked
  } intake;
};

// Reads and validates the file. The error names the file and the field, e.g.
// "config/demo.json: http.port: expected an integer from 1 to 65535".
Result<Config> load_config(const std::string& path);

// Replaces "${NAME}" in every string of `doc` with the environment variable NAME. Returns
// invalid() naming the field when a variable is not set.
Status substitute_env(nlohmann::json& doc);

}  // namespace nivaran
