// bench_baseline: the least any Telegram bot must do per message, as the yardstick that
// bench/run measures nivaran against in the same run.
//
//   bench_baseline --port N --api-base URL [--threads N] [--redis-port N] [--redis-host H]
//                  [--token T] [--secret S] [--reply-first] [--reply-bytes N]
//
// For each POST /webhook/telegram: check the secret header and Content-Length; parse the
// Update; ONE EVALSHA (GET + SET of the chat's session key, XADD to a capped stream); ONE POST
// of a reply to {api-base}/bot{token}/sendMessage through http_client; then 200. With
// --reply-first the 200 goes out right after the EVALSHA and the POST completes afterwards
// (what a bot with an outbox does). The reply is a short fixed text (~100 bytes of JSON); with
// --reply-bytes N the text is repeated to a body of about N bytes, the size of a real dialog's
// replies (a menu with its keyboard is ~1.4 KB), to see what the reply's size costs.
// Nothing blocks on a task: every step is a continuation.
// Redis is one synchronous hiredis context per pool thread (STACK-NOTES.md).
#include <cpprest/http_client.h>
#include <cpprest/http_listener.h>
#include <hiredis.h>
#include <pplx/threadpool.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

namespace {

namespace http = web::http;
using nlohmann::json;

constexpr std::size_t kMaxBody = 1 << 20;

// KEYS[1] session of the chat, KEYS[2] capped inbound log; ARGV session, chat id, text.
constexpr const char* kCommitScript = R"lua(
local previous = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1], 'EX', 86400)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', 100000, '*', 'chat', ARGV[2], 'text', ARGV[3])
return previous
)lua";

constexpr const char* kUsage =
    "usage: bench_baseline --port N --api-base URL [--threads N] [--redis-host H]\n"
    "                      [--redis-port N] [--token T] [--secret S] [--reply-first]\n"
    "                      [--reply-bytes N]\n";

struct Options {
  int port = -1;
  int threads = 4;
  std::string redis_host = "127.0.0.1";
  int redis_port = 6379;
  std::string api_base;
  std::string token = "bench";
  std::string secret = "bench-secret";
  bool reply_first = false;
  int reply_bytes = 0;  // 0: the short text as it is
};

Options g_options;
std::unique_ptr<http::client::http_client> g_api;
std::string g_reply_text;  // set once in main()

// The reply's text: a short acknowledgement, repeated until the body is about `bytes` long.
std::string reply_text(int bytes) {
  const std::string unit = "आपका संदेश मिल गया है। धन्यवाद।";
  std::string text = unit;
  while (json{{"chat_id", "700000000"}, {"text", text}}.dump().size() <
         static_cast<size_t>(bytes)) {
    text += " " + unit;
  }
  return text;
}
std::atomic<long> g_handled{0}, g_send_failures{0}, g_redis_failures{0};

bool parse_args(int argc, char** argv, Options& o) {
  auto number = [](const char* s, int& out) {
    char* end = nullptr;
    long v = std::strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < 0 || v > 65535) return false;
    out = static_cast<int>(v);
    return true;
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool has_value = i + 1 < argc;
    if (a == "--port" && has_value) {
      if (!number(argv[++i], o.port)) return false;
    } else if (a == "--threads" && has_value) {
      if (!number(argv[++i], o.threads) || o.threads < 1 || o.threads > 256) return false;
    } else if (a == "--redis-port" && has_value) {
      if (!number(argv[++i], o.redis_port)) return false;
    } else if (a == "--redis-host" && has_value) {
      o.redis_host = argv[++i];
    } else if (a == "--api-base" && has_value) {
      o.api_base = argv[++i];
    } else if (a == "--token" && has_value) {
      o.token = argv[++i];
    } else if (a == "--secret" && has_value) {
      o.secret = argv[++i];
    } else if (a == "--reply-first") {
      o.reply_first = true;
    } else if (a == "--reply-bytes" && has_value) {
      if (!number(argv[++i], o.reply_bytes)) return false;
    } else {
      return false;
    }
  }
  return o.port >= 0 && !o.api_base.empty();
}

// One synchronous connection per pool thread, reconnected after any error.
class ThreadRedis {
 public:
  ~ThreadRedis() { reset(); }

  // Runs the commit script; false when Redis is unreachable or answers an error.
  bool commit(const std::string& chat_id, const std::string& session, const std::string& text) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!connected() && !connect()) return false;
      std::string session_key = "bl:session:telegram:" + chat_id;
      const char* argv[] = {"EVALSHA",           sha_.c_str(), "2",
                            session_key.c_str(), "bl:inbound", session.c_str(),
                            chat_id.c_str(),     text.c_str()};
      size_t lens[] = {
          7, sha_.size(), 1, session_key.size(), 10, session.size(), chat_id.size(), text.size()};
      auto* reply = static_cast<redisReply*>(redisCommandArgv(c_, 8, argv, lens));
      if (reply == nullptr) {  // connection broken
        reset();
        continue;
      }
      bool noscript = reply->type == REDIS_REPLY_ERROR &&
                      std::string(reply->str, reply->len).rfind("NOSCRIPT", 0) == 0;
      bool ok = reply->type != REDIS_REPLY_ERROR;
      freeReplyObject(reply);
      if (ok) return true;
      if (!noscript) return false;
      reset();  // Redis restarted and lost its script cache: reconnecting loads it again
    }
    return false;
  }

 private:
  bool connected() const { return c_ != nullptr && !c_->err; }

  bool connect() {
    reset();
    timeval timeout{0, 500 * 1000};
    c_ = redisConnectWithTimeout(g_options.redis_host.c_str(), g_options.redis_port, timeout);
    if (c_ == nullptr || c_->err) return false;
    redisSetTimeout(c_, timeout);
    auto* reply = static_cast<redisReply*>(redisCommand(c_, "SCRIPT LOAD %s", kCommitScript));
    bool ok = reply && reply->type == REDIS_REPLY_STRING;
    if (ok) sha_.assign(reply->str, reply->len);
    if (reply) freeReplyObject(reply);
    if (!ok) reset();
    return ok;
  }

  void reset() {
    if (c_) redisFree(c_);
    c_ = nullptr;
  }

  redisContext* c_ = nullptr;
  std::string sha_;
};

ThreadRedis& thread_redis() {
  thread_local ThreadRedis redis;
  return redis;
}

void observe(pplx::task<void> t) {
  t.then([](pplx::task<void> done) {
    try {
      done.get();
    } catch (...) {  // the client went away; nothing to do
    }
  });
}

void reply(const http::http_request& request, int status, const std::string& body) {
  http::http_response response(static_cast<http::status_code>(status));
  response.set_body(body, "application/json");
  auto connection = request.headers().find(http::header_names::connection);
  if (connection != request.headers().end() &&
      connection->second.find("close") != std::string::npos) {
    response.headers().add(http::header_names::connection, "close");
  }
  observe(request.reply(response));
}

// Sends the reply to the fake API; `done` gets true when it answered 200.
template <typename Done>
void send_reply(const std::string& chat_id, Done done) {
  json message = {{"chat_id", chat_id}, {"text", g_reply_text}};
  g_api
      ->request(http::methods::POST, "/bot" + g_options.token + "/sendMessage", message.dump(),
                "application/json")
      .then([](http::http_response response) {
        return response.extract_utf8string(true).then(
            [status = response.status_code()](std::string) {
              return status == http::status_codes::OK;
            });
      })
      .then([done](pplx::task<bool> sent) {
        bool ok = false;
        try {
          ok = sent.get();
        } catch (...) {
        }
        if (!ok) ++g_send_failures;
        done(ok);
      });
}

void on_update(const http::http_request& request, const std::string& body) {
  json update = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (update.is_discarded() || !update.is_object()) {
    return reply(request, 400, R"({"error":"body is not a JSON object"})");
  }
  auto message = update.find("message");
  if (message == update.end() || !message->is_object()) {
    return reply(request, 200, R"({"ok":true})");  // not a message: nothing to do
  }
  const json& chat = message->value("chat", json::object());
  if (!chat.is_object() || !chat.contains("id") || !chat["id"].is_number_integer()) {
    return reply(request, 400, R"({"error":"message.chat.id is missing or not an integer"})");
  }
  std::string chat_id = std::to_string(chat["id"].get<long long>());
  std::string text = message->value("text", "");
  json session = {{"update_id", update.value("update_id", 0LL)}, {"last_text", text}};

  if (!thread_redis().commit(chat_id, session.dump(), text)) {
    ++g_redis_failures;
    return reply(request, 503, R"({"error":"store unavailable"})");
  }
  ++g_handled;
  if (g_options.reply_first) {
    reply(request, 200, R"({"ok":true})");
    send_reply(chat_id, [](bool) {});
  } else {
    send_reply(chat_id, [request](bool ok) {
      reply(request, ok ? 200 : 502, ok ? R"({"ok":true})" : R"({"error":"send failed"})");
    });
  }
}

void handle(http::http_request request) {
  if (request.request_uri().path() != "/webhook/telegram") {
    return reply(request, 404, R"({"error":"not found"})");
  }
  if (request.method() != http::methods::POST) {
    return reply(request, 405, R"({"error":"method not allowed"})");
  }
  auto secret = request.headers().find("X-Telegram-Bot-Api-Secret-Token");
  if (secret == request.headers().end() || secret->second != g_options.secret) {
    return reply(request, 401, R"({"error":"bad secret token"})");
  }
  if (request.headers().content_length() > kMaxBody) {
    return reply(request, 413, R"({"error":"body over 1 MiB"})");
  }
  request.extract_utf8string(true).then([request](pplx::task<std::string> body) {
    try {
      on_update(request, body.get());  // body is complete: a task-based continuation
    } catch (const std::exception&) {
      reply(request, 400, R"({"error":"unreadable request"})");
    }
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (!parse_args(argc, argv, g_options)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  sigset_t stop_signals;  // blocked before the pool's threads exist; sigwait below takes them
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  crossplat::threadpool::initialize_with_threads(static_cast<size_t>(g_options.threads));
  g_reply_text = reply_text(g_options.reply_bytes);

  http::client::http_client_config client_config;
  client_config.set_timeout(std::chrono::seconds(5));
  g_api = std::make_unique<http::client::http_client>(g_options.api_base, client_config);

  http::experimental::listener::http_listener listener("http://127.0.0.1:" +
                                                       std::to_string(g_options.port));
  listener.support(handle);
  try {
    listener.open().wait();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_baseline: cannot listen on 127.0.0.1:%d: %s\n", g_options.port,
                 e.what());
    return 1;
  }
  std::printf(
      "bench_baseline listening on http://127.0.0.1:%d (%d threads, %s, replies of %zu bytes)\n",
      g_options.port, g_options.threads, g_options.reply_first ? "reply first" : "reply after send",
      json{{"chat_id", "700000000"}, {"text", g_reply_text}}.dump().size());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::thread([] {
    std::this_thread::sleep_for(std::chrono::seconds(5));
    std::fputs("bench_baseline: shutdown timed out\n", stderr);
    std::_Exit(1);
  }).detach();
  listener.close().wait();
  std::fprintf(stderr, "bench_baseline: %ld messages, %ld failed sends, %ld store failures\n",
               g_handled.load(), g_send_failures.load(), g_redis_failures.load());
  std::_Exit(0);  // skip destructors of the client and pool threads still finishing sends
}
