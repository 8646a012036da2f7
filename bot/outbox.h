// The outbox: replies committed by the pipeline (or staff) are sent to platforms by workers.
//
// Entries live in a Redis stream read through a consumer group, so any number of processes
// share the work, and an entry left pending by a crashed process is taken over after
// `reclaim_idle_ms`. Transient failures are retried with exponential backoff (or the platform's
// Retry-After) through a delay set; permanent failures go to the dead-letter stream.
//
// Delivery is at most once per reply: before each reply is handed to the network its index is
// recorded, so a worker taking over a crashed worker's entry never sends that reply again; it
// records it as a dead letter "delivery uncertain" for staff to see instead.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bot/api_transport.h"
#include "bot/redis.h"
#include "core/status.h"
#include "handlers/handler.h"

namespace nivaran {

struct OutboxOptions {
  int max_attempts = 8;
  int64_t reclaim_idle_ms = 30000;
  int64_t base_backoff_ms = 1000;
  int64_t max_backoff_ms = 300000;
  int block_ms = 500;  // how long one read waits for new entries
  int housekeeping_ms = 250;  // how often a worker promotes due retries and reclaims entries
  // Platform → most replies begun per second across all processes (platforms' own limits:
  // Telegram about 30/s, WhatsApp Cloud API 80/s by default). A reply over the rate waits for
  // the next second; absent platforms are not limited.
  std::map<std::string, int64_t> sends_per_second;
};

class OutboxSender {
 public:
  using Clock = std::function<int64_t()>;

  OutboxSender(Redis& redis, std::map<std::string, std::shared_ptr<Handler>> handlers,
               ApiTransport& transport, OutboxOptions options, Clock clock);
  ~OutboxSender();

  // Creates the consumer group if missing (idempotent).
  Status ensure_group();

  // Starts `workers` threads that loop until stop(); consumer names are `<name>-<i>`.
  void start(int workers, const std::string& name);
  void stop();

  // One turn of a worker: with `housekeeping`, moves due retries into the stream and takes over
  // stale entries; then reads new ones (waiting up to `block_ms`) and sends them. Returns how
  // many entries it handled.
  Result<int> run_once(const std::string& consumer, int block_ms, bool housekeeping = true);

 private:
  struct Pending {
    std::string id;
    std::string payload;
    bool reclaimed;  // taken over from another consumer
  };
  struct Job;
  // Sends a batch of entries, different conversations in parallel, then finishes them.
  Status send_batch(const std::string& consumer, const std::vector<Pending>& batch);
  // Acknowledges and deletes a batch of handled entries, scheduling their retries: one script.
  Status finish(const std::vector<std::string>& batch);
  Status promote_due();
  Result<int> reclaim(const std::string& consumer);
  Status dead_letter(const nlohmann::json& entry, const nlohmann::json& reply,
                     const std::string& reason);

  Redis& redis_;
  std::map<std::string, std::shared_ptr<Handler>> handlers_;
  ApiTransport& transport_;
  OutboxOptions options_;
  Clock clock_;
  std::atomic<bool> running_{false};
  std::vector<std::thread> threads_;
};

}  // namespace nivaran
