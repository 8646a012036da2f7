// A fake messaging-platform API (Telegram-like) on loopback, for end-to-end tests and benchmarks.
//
// It records what the bot sends and answers like Telegram's Bot API: 200
// {"ok":true,"result":{"message_id":N}} unless a test programmed another answer (429 with
// Retry-After, 403 "bot was blocked by the user", 500, ...) for requests whose path matches.
// Only std types here; cpprestsdk stays inside fake_platform.cc. Every method is thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace nivaran::testing {

namespace detail {
struct FakePlatformState;     // requests, counters and programs; outlives in-flight handlers
struct FakePlatformListener;  // the cpprestsdk listener
}  // namespace detail

// One request the fake received.
struct RecordedRequest {
  std::string method;                          // "POST", "GET", ...
  std::string path;                            // path and query as sent, e.g. "/botT/sendMessage"
  std::string body;                            // raw body
  std::map<std::string, std::string> headers;  // names lower-cased

  // The header's value, or "" when absent. `name` must be lower-case.
  std::string header(const std::string& name) const;
};

class FakePlatform {
 public:
  // record_bodies = false keeps only a count of requests (for benchmarks): requests() is then
  // empty while wait_for_requests() and GET /_stats still see every request.
  explicit FakePlatform(bool record_bodies = true);
  ~FakePlatform();  // stops the listener
  FakePlatform(const FakePlatform&) = delete;
  FakePlatform& operator=(const FakePlatform&) = delete;

  // Listens on 127.0.0.1:port; port 0 picks a free port (retrying on a collision).
  // Throws std::runtime_error when it cannot listen.
  void start(int port = 0);

  // Closes the listener and waits for it; requests in flight are answered first. Idempotent.
  void stop();

  int port() const;              // 0 before start()
  std::string base_url() const;  // "http://127.0.0.1:PORT", the bot's api_base

  // Requests received since start() or the last clear(), oldest first. GET /_stats, which
  // answers {"requests": N}, is neither recorded nor counted.
  std::vector<RecordedRequest> requests() const;
  std::size_t request_count() const;

  // True once at least n requests arrived since start() or clear(); false after `timeout`.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout);

  // Forgets recorded requests and resets the count; programmed answers stay.
  void clear();

  // The next `times` requests whose path contains `path_contains` get this answer instead of
  // the default one. Programs are consumed in the order given; the first that matches wins.
  void program(std::string path_contains, int status, std::string body,
               std::map<std::string, std::string> headers = {}, int times = 1);

  // Answers each request `delay` after it arrived (0, the default: at once), as a slow platform
  // would, so that a test can find calls in flight. A request is recorded when it arrives.
  void set_delay(std::chrono::milliseconds delay);

 private:
  std::shared_ptr<detail::FakePlatformState> state_;  // shared with in-flight handlers
  std::unique_ptr<detail::FakePlatformListener> listener_;
};

}  // namespace nivaran::testing
