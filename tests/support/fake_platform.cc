// The fake platform API. Handlers never block: the body is read with extract_utf8string(true)
// and the reply sent from its continuation, exactly once, also when reading fails. A delayed
// answer (set_delay) is sent by a thread of its own, which stop() joins.
#include "tests/support/fake_platform.h"

#include <cpprest/http_listener.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

#include "tests/support/free_port.h"

namespace nivaran::testing {

namespace http = web::http;
using http::experimental::listener::http_listener;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

struct Answer {
  int status = 200;
  std::string body;
  std::map<std::string, std::string> headers;
};

struct Program {
  std::string path_contains;
  Answer answer;
  int remaining = 0;
};

}  // namespace

std::string RecordedRequest::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

struct detail::FakePlatformState {
  explicit FakePlatformState(bool record) : record_bodies(record) {}

  const bool record_bodies;
  mutable std::mutex mu;
  std::condition_variable arrived;
  std::vector<RecordedRequest> recorded;
  std::size_t count = 0;
  long long next_message_id = 1;
  std::deque<Program> programs;
  std::chrono::milliseconds delay{0};  // set_delay()
  bool stopping = false;               // stop() began: no more delayed answers
  std::vector<std::thread> held;       // delayed answers, joined by stop()

  // Records the request and chooses its answer, atomically.
  Answer receive(RecordedRequest request) {
    Answer answer;
    {
      std::lock_guard lock(mu);
      ++count;
      auto it = std::find_if(programs.begin(), programs.end(), [&](const Program& p) {
        return request.path.find(p.path_contains) != std::string::npos;
      });
      if (it != programs.end()) {
        answer = it->answer;
        if (--it->remaining <= 0) programs.erase(it);
      } else {
        answer.body =
            "{\"ok\":true,\"result\":{\"message_id\":" + std::to_string(next_message_id++) + "}}";
      }
      if (record_bodies) recorded.push_back(std::move(request));
    }
    arrived.notify_all();
    return answer;
  }

  std::size_t current_count() const {
    std::lock_guard lock(mu);
    return count;
  }
};

struct detail::FakePlatformListener {
  std::unique_ptr<http_listener> listener;
  int port = 0;
};

namespace {

void send(const http::http_request& request, const Answer& answer, bool close_connection) {
  http::http_response response(static_cast<http::status_code>(answer.status));
  std::string content_type = "application/json";
  for (const auto& [name, value] : answer.headers) {
    if (lower(name) == "content-type") {
      content_type = value;
    } else {
      response.headers().add(name, value);
    }
  }
  response.set_body(answer.body, content_type);
  if (close_connection) response.headers().add(http::header_names::connection, "close");
  // A failed reply (client gone) must be observed, or pplx terminates the process.
  request.reply(response).then([](pplx::task<void> sent) {
    try {
      sent.get();
    } catch (...) {
    }
  });
}

void handle(const std::shared_ptr<detail::FakePlatformState>& state, http::http_request request) {
  bool close_connection = false;
  auto connection = request.headers().find(http::header_names::connection);
  if (connection != request.headers().end()) {
    close_connection = lower(connection->second).find("close") != std::string::npos;
  }
  std::string path = request.request_uri().resource().to_string();

  if (request.method() == http::methods::GET && path == "/_stats") {
    Answer stats;
    stats.body = "{\"requests\":" + std::to_string(state->current_count()) + "}";
    send(request, stats, close_connection);
    return;
  }

  RecordedRequest recorded;
  recorded.method = request.method();
  recorded.path = std::move(path);
  if (state->record_bodies) {
    for (const auto& [name, value] : request.headers()) recorded.headers[lower(name)] = value;
  }
  request.extract_utf8string(true).then(
      [state, request, close_connection,
       recorded = std::move(recorded)](pplx::task<std::string> body) mutable {
        Answer answer;
        try {
          recorded.body = body.get();  // already complete: this is a task-based continuation
          answer = state->receive(std::move(recorded));
        } catch (const std::exception&) {
          answer.status = 400;
          answer.body = std::string("{\"ok\":false,\"description\":\"unreadable body\"}");
        }
        {
          std::lock_guard lock(state->mu);
          if (state->delay.count() > 0 && !state->stopping) {
            state->held.emplace_back([request, answer, close_connection, delay = state->delay] {
              std::this_thread::sleep_for(delay);
              send(request, answer, close_connection);
            });
            return;
          }
        }
        send(request, answer, close_connection);
      });
}

}  // namespace

FakePlatform::FakePlatform(bool record_bodies)
    : state_(std::make_shared<detail::FakePlatformState>(record_bodies)),
      listener_(std::make_unique<detail::FakePlatformListener>()) {}

FakePlatform::~FakePlatform() {
  try {
    stop();
  } catch (...) {
  }
}

void FakePlatform::start(int port) {
  if (listener_->listener) throw std::runtime_error("FakePlatform: already started");
  {
    std::lock_guard lock(state_->mu);
    state_->stopping = false;
  }
  std::string last_error;
  for (int attempt = 0; attempt < 20; ++attempt) {
    int p = port != 0 ? port : pick_free_loopback_port();
    auto listener = std::make_unique<http_listener>("http://127.0.0.1:" + std::to_string(p));
    auto state = state_;
    listener->support([state](http::http_request request) { handle(state, std::move(request)); });
    try {
      listener->open().wait();
      listener_->listener = std::move(listener);
      listener_->port = p;
      return;
    } catch (const std::exception& e) {
      last_error = e.what();
      if (port != 0) break;  // the caller asked for this port: do not pick another
    }
  }
  throw std::runtime_error("FakePlatform: cannot listen on 127.0.0.1: " + last_error);
}

void FakePlatform::stop() {
  std::vector<std::thread> held;
  {
    std::lock_guard lock(state_->mu);
    state_->stopping = true;
    held.swap(state_->held);
  }
  for (auto& t : held) t.join();
  if (!listener_->listener) return;
  listener_->listener->close().wait();
  listener_->listener.reset();
}

int FakePlatform::port() const { return listener_->port; }

std::string FakePlatform::base_url() const {
  return "http://127.0.0.1:" + std::to_string(listener_->port);
}

std::vector<RecordedRequest> FakePlatform::requests() const {
  std::lock_guard lock(state_->mu);
  return state_->recorded;
}

std::size_t FakePlatform::request_count() const { return state_->current_count(); }

bool FakePlatform::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mu);
  return state_->arrived.wait_for(lock, timeout, [&] { return state_->count >= n; });
}

void FakePlatform::clear() {
  std::lock_guard lock(state_->mu);
  state_->recorded.clear();
  state_->count = 0;
}

void FakePlatform::program(std::string path_contains, int status, std::string body,
                           std::map<std::string, std::string> headers, int times) {
  if (times <= 0) return;
  std::lock_guard lock(state_->mu);
  state_->programs.push_back(Program{std::move(path_contains),
                                     Answer{status, std::move(body), std::move(headers)}, times});
}

void FakePlatform::set_delay(std::chrono::milliseconds delay) {
  std::lock_guard lock(state_->mu);
  state_->delay = delay;
}

}  // namespace nivaran::testing
