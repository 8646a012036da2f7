#include "bot/redis.h"

#include <charconv>
#include <functional>
#include <initializer_list>

#include <hiredis.h>
#include <openssl/sha.h>

#include <cstdio>
#include <memory>
#include <unordered_map>

namespace nivaran {

std::atomic<uint64_t> Redis::next_id_{1};

namespace {

struct ReplyDeleter {
  void operator()(redisReply* r) const {
    if (r) freeReplyObject(r);
  }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

RedisValue convert(const redisReply* r) {
  RedisValue v;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      v.type = RedisValue::Type::kInteger;
      v.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
      v.type = RedisValue::Type::kString;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      v.type = RedisValue::Type::kStatus;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      v.type = RedisValue::Type::kError;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      v.type = RedisValue::Type::kArray;
      v.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) v.elements.push_back(convert(r->element[i]));
      break;
    default:
      v.type = RedisValue::Type::kNil;
  }
  return v;
}

std::string hex_sha1(const std::string& s) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), digest);
  char out[2 * SHA_DIGEST_LENGTH + 1];
  for (int i = 0; i < SHA_DIGEST_LENGTH; ++i) std::snprintf(out + 2 * i, 3, "%02x", digest[i]);
  return std::string(out, 2 * SHA_DIGEST_LENGTH);
}

// Appends one command made of the strings (std::string or std::string_view) of `parts`, in
// order. The command is written in Redis's protocol into a buffer each thread keeps, so a large
// command (a commit is several KB) costs no allocation of its own before hiredis takes it.
template <typename... Lists>
void append(redisContext* ctx, const Lists&... parts) {
  thread_local std::string buf;
  buf.clear();
  auto add_count = [](std::string& out, char kind, size_t n) {
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
    out += kind;
    out.append(digits, end);
    out += "\r\n";
  };
  add_count(buf, '*', (parts.size() + ...));
  auto add = [&](const auto& list) {
    for (const auto& a : list) {
      add_count(buf, '$', a.size());
      buf.append(a.data(), a.size());
      buf += "\r\n";
    }
  };
  (add(parts), ...);
  redisAppendFormattedCommand(ctx, buf.data(), buf.size());
  if (buf.capacity() > (1u << 20)) std::string().swap(buf);  // keep no huge buffer for good
}

}  // namespace

RedisScript::RedisScript(std::string src) : source(std::move(src)), sha1(hex_sha1(source)) {}

struct Redis::Connection {
  redisContext* ctx = nullptr;
  ~Connection() {
    if (ctx) redisFree(ctx);
  }
};

namespace {
// Per-thread connections, keyed by Redis instance id.
std::unordered_map<uint64_t, std::unique_ptr<Redis::Connection>>& connections() {
  thread_local std::unordered_map<uint64_t, std::unique_ptr<Redis::Connection>> table;
  return table;
}
}  // namespace

Redis::Redis(RedisEndpoint endpoint) : endpoint_(std::move(endpoint)), id_(next_id_++) {}

Redis::~Redis() { connections().erase(id_); }

Redis::Connection* Redis::connection(bool* reused) {
  auto& table = connections();
  auto it = table.find(id_);
  if (it != table.end() && it->second->ctx && !it->second->ctx->err) {
    *reused = true;
    return it->second.get();
  }
  if (it != table.end()) table.erase(it);

  timeval tv{endpoint_.timeout_ms / 1000, (endpoint_.timeout_ms % 1000) * 1000};
  redisContext* ctx = redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, tv);
  if (!ctx) return nullptr;
  auto conn = std::make_unique<Connection>();
  conn->ctx = ctx;
  if (ctx->err || redisSetTimeout(ctx, tv) != REDIS_OK) return nullptr;
  if (endpoint_.db != 0) {
    ReplyPtr r(static_cast<redisReply*>(
        redisCommand(ctx, "SELECT %d", endpoint_.db)));
    if (!r || r->type == REDIS_REPLY_ERROR) return nullptr;
  }
  auto* raw = conn.get();
  table[id_] = std::move(conn);
  return raw;
}

void Redis::drop(Connection*) { connections().erase(id_); }

Result<RedisValue> Redis::command(const std::vector<std::string>& args) {
  auto replies = exchange([&args](redisContext* ctx) { append(ctx, args); }, 1);
  if (!replies.ok()) return replies.status();
  return std::move(replies.value().front());
}

Result<std::vector<RedisValue>> Redis::pipeline(
    const std::vector<std::vector<std::string>>& cmds) {
  return exchange(
      [&cmds](redisContext* ctx) {
        for (const auto& cmd : cmds) append(ctx, cmd);
      },
      cmds.size());
}

Result<std::vector<RedisValue>> Redis::exchange(const std::function<void(redisContext*)>& write,
                                                size_t replies) {
  // A connection kept from earlier may have died meanwhile (Redis restarted): such a failure
  // is retried once on a new connection. Nivaran's writes are safe to repeat (dedupe keys,
  // compare-and-set), so a command that did run before the failure does no harm.
  for (int attempt = 0;; ++attempt) {
    bool reused = false;
    Connection* c = connection(&reused);
    if (!c) {
      return Status::unavailable("cannot connect to Redis at " + endpoint_.host + ":" +
                                 std::to_string(endpoint_.port));
    }
    write(c->ctx);
    std::vector<RedisValue> out;
    out.reserve(replies);
    std::string failure;
    for (size_t i = 0; i < replies && failure.empty(); ++i) {
      void* raw = nullptr;
      if (redisGetReply(c->ctx, &raw) != REDIS_OK || !raw) {
        failure = c->ctx->errstr[0] ? c->ctx->errstr : "connection lost";
        break;
      }
      ReplyPtr r(static_cast<redisReply*>(raw));
      out.push_back(convert(r.get()));
    }
    if (failure.empty()) return out;
    drop(c);
    if (!reused || attempt > 0) return Status::unavailable("Redis: " + failure);
  }
}

Result<RedisValue> Redis::eval(const RedisScript& script, const std::vector<std::string>& keys,
                               const std::vector<std::string>& args) {
  return eval_impl(script, keys, args);
}

Result<RedisValue> Redis::eval_views(const RedisScript& script,
                                     const std::vector<std::string>& keys,
                                     const std::vector<std::string_view>& args) {
  return eval_impl(script, keys, args);
}

template <typename Args>
Result<RedisValue> Redis::eval_impl(const RedisScript& script, const std::vector<std::string>& keys,
                                    const Args& args) {
  const std::vector<std::string> evalsha = {"EVALSHA", script.sha1, std::to_string(keys.size())};
  auto r = exchange([&](redisContext* ctx) { append(ctx, evalsha, keys, args); }, 1);
  if (!r.ok()) return r.status();
  RedisValue v = std::move(r.value().front());
  if (v.is_error() && v.str.rfind("NOSCRIPT", 0) == 0) {
    // EVAL also caches the script for the next EVALSHA.
    const std::vector<std::string> eval = {"EVAL", script.source, std::to_string(keys.size())};
    r = exchange([&](redisContext* ctx) { append(ctx, eval, keys, args); }, 1);
    if (!r.ok()) return r.status();
    return std::move(r.value().front());
  }
  return v;
}

}  // namespace nivaran
