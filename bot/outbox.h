// The outbox: replies committed by the pipeline (or staff) are sent to platforms by workers.
//
// Entries live in a Redis stream read through a consumer group, so any number of processes
// share the work, and an entry left pending by a crashed process is taken over after
// `reclaim_idle_ms`. Transient failures are retried with exponential backoff (or the platform's
// Retry-After) through a delay set; permanent failures go to the dead-letter stream.
//
// No reply is sent twice because a worker crashed or was slow: before each reply is handed to
// the network its index is recorded, so a worker taking over a crashed worker's entry never
// sends that reply again (it records it as a dead letter "delivery uncertain" for staff to see
// instead), and a live worker keeps its batch's entries from being taken over (keep()). A call
// that timed out is retried, though, and the platform may have delivered it all the same.
//
// One conversation's replies leave in the order they were committed, across the workers of a
// process: workers read the stream one at a time, each batch queues up behind the batches read
// before it for every conversation it holds, and sends a conversation's entries only when it is
// first in that queue; a conversation's new entries wait behind one it held back (paused
// platform, send rate) until that one is back. (Across processes, and for a reply retried after a
// failure, which a later one may overtake, the order is not guaranteed.)
//
// A platform that does not answer at all is paused for a while (OutboxOptions::
// pause_unreachable_ms), so that its timeouts do not hold up the replies to every other platform.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

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
  // Most entries one read takes, all sent at once (one conversation's in order). The read takes
  // what is there, so batches are small while the outbox keeps up; when a backlog forms they
  // grow, and the outbox gets a larger share of the HTTP threads it shares with the webhooks.
  // At 32, under a load that kept the two cores busy, the webhooks took 2,100 messages/s
  // while the replies left at 1,500/s, and the backlog grew without bound.
  int batch_size = 128;
  int housekeeping_ms = 250;  // how often a worker promotes due retries and reclaims entries
  // Platform → most replies begun per second across all processes (platforms' own limits:
  // Telegram about 30/s, WhatsApp Cloud API 80/s by default). A reply over the rate waits for
  // the next second; absent platforms are not limited.
  std::map<std::string, int64_t> sends_per_second;
  // A platform that did not answer a call at all (timeout, refused connection) is paused for
  // this long: its replies are held back in the delay set (not counted as attempts), so that a
  // platform that hangs does not hold every other platform's replies up behind its timeouts.
  // When the pause ends, one reply goes out as a probe; an answer of any kind ends the pause,
  // no answer starts another. A reply held longer than max_attempts × max_backoff_ms (40 min
  // by default), about as long as its retries could have taken, becomes a dead letter.
  // 0: never pause.
  int64_t pause_unreachable_ms = 30000;
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
    Pending(std::string id, std::string payload, bool reclaimed)
        : id(std::move(id)), payload(std::move(payload)), reclaimed(reclaimed) {}
    std::string id;
    std::string payload;
    bool reclaimed;  // taken over from another consumer
    nlohmann::json entry;  // the payload parsed (discarded when it is not JSON)
    std::string chat;      // platform:chat_id, "" for a malformed entry
  };
  struct Job;
  // The message reply `job.k` of the job's entry renders.
  static OutboundMessage outbound(const Job& job);
  // How many of reply `job.k`'s message calls have gone out (a long reply is several),
  // counting those a retry skipped already: what its next retry skips.
  static size_t sent_parts(const Job& job);
  // Sends a batch of entries, different conversations in parallel, then finishes them.
  Status send_batch(const std::string& consumer, std::vector<Pending>& batch, uint64_t turn);
  // Parses the batch's entries and queues the batch up for each conversation in it; returns the
  // batch's number. Called in stream order (under read_mu_).
  uint64_t queue_up(std::vector<Pending>& batch);
  // Whether batch `turn` is first for `chat`; leave() takes the batch out of every queue.
  bool first_for(const std::string& chat, uint64_t turn);
  void leave(const std::vector<Pending>& batch, uint64_t turn);
  // Acknowledges and deletes a batch of handled entries, scheduling their retries: one script.
  Status finish(const std::vector<std::string>& batch);
  Status promote_due();
  // Resets the idle time of the entries `ids` this consumer still owns; returns those another
  // consumer has taken over meanwhile.
  Result<std::vector<std::string>> keep(const std::string& consumer,
                                        const std::vector<std::string>& ids);
  Result<std::vector<Pending>> reclaim(const std::string& consumer);
  Status dead_letter(const nlohmann::json& entry, const nlohmann::json& reply,
                     const std::string& reason);

  // Platform pauses (this process's view; see pause_unreachable_ms).
  // Whether a reply to `platform` may begin now; when held, `until` is when to try again.
  enum class Gate { kOpen, kProbe, kHeld };
  Gate pause_gate(const std::string& platform, int64_t now, int64_t* until);
  // What a call to `platform` came to: an answer of any kind, or none.
  void heard_from(const std::string& platform, bool answered, int64_t now);
  bool paused(const std::string& platform);
  // A probe granted by pause_gate() that was not sent after all: the next reply probes.
  void unprobe(const std::string& platform);
  // Order behind held-back entries: when this process holds an entry of a conversation back
  // (paused platform, send rate), that conversation's new entries wait behind it until it has
  // come back and been dealt with (an entry whose retry_of is its id), or at most a little
  // past its due time (it may come back to another process).
  void remember_held(const std::string& chat, const std::string& id, int64_t due);
  void returned_held(const std::string& chat, const std::string& retry_of);
  bool waits_behind_held(const std::string& chat, int64_t now, int64_t* until);
  // The due time for a reply held back until `earliest`: after every reply this process held
  // for the platform before, so that the delay set gives them back in the order they were held.
  int64_t hold_until(const std::string& platform, int64_t earliest);

  Redis& redis_;
  std::map<std::string, std::shared_ptr<Handler>> handlers_;
  ApiTransport& transport_;
  OutboxOptions options_;
  Clock clock_;
  std::atomic<bool> running_{false};
  std::vector<std::thread> threads_;

  std::mutex read_mu_;  // one worker at a time reads the stream and queues its batch up
  std::mutex turns_mu_;
  std::condition_variable turns_cv_;
  std::map<std::string, std::deque<uint64_t>> turns_;  // conversation → batches, in read order
  std::map<std::string, std::string> reclaim_cursor_;  // consumer → where XAUTOCLAIM goes on
  uint64_t next_turn_ = 0;

  struct Pause {
    bool paused = false;
    int64_t until = 0;     // no reply goes out before this
    bool probing = false;  // a probe is out; the rest wait for its answer
    int64_t probe_at = 0;  // when it went (a probe never answered is given up after a pause)
  };
  std::mutex pause_mu_;
  std::map<std::string, Pause> pauses_;         // platform → its pause
  std::map<std::string, int64_t> last_hold_;    // platform → the latest due time it was given
  struct HeldChat {
    std::string id;  // the entry held back last (coming back, it carries this as retry_of)
    int64_t due = 0;
  };
  std::map<std::string, HeldChat> held_chats_;  // conversation → its latest held-back entry
};

}  // namespace nivaran
