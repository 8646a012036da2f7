#include "bot/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace nivaran {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

Status substitute(json& node, const std::string& where) {
  if (node.is_string()) {
    std::string s = node.get<std::string>();
    std::string out;
    size_t pos = 0;
    while (true) {
      size_t open = s.find("${", pos);
      if (open == std::string::npos) break;
      size_t close = s.find('}', open);
      if (close == std::string::npos) break;
      std::string name = s.substr(open + 2, close - open - 2);
      const char* value = std::getenv(name.c_str());
      if (!value) {
        return Status::invalid(where + ": environment variable " + name + " is not set");
      }
      out += s.substr(pos, open - pos);
      out += value;
      pos = close + 1;
    }
    out += s.substr(pos);
    node = out;
  } else if (node.is_object()) {
    for (auto& [k, v] : node.items()) {
      Status st = substitute(v, where.empty() ? k : where + "." + k);
      if (!st.is_ok()) return st;
    }
  } else if (node.is_array()) {
    for (size_t i = 0; i < node.size(); ++i) {
      Status st = substitute(node[i], where + "[" + std::to_string(i) + "]");
      if (!st.is_ok()) return st;
    }
  }
  return Status::ok();
}

// Reads typed fields out of a JSON object, collecting the first error with its field path.
class Reader {
 public:
  explicit Reader(const json& root) : root_(root) {}

  const json* find(const std::string& path) const {
    const json* node = &root_;
    size_t start = 0;
    while (start <= path.size()) {
      size_t dot = path.find('.', start);
      std::string key = path.substr(start, dot == std::string::npos ? std::string::npos
                                                                     : dot - start);
      if (!node->is_object() || !node->contains(key)) return nullptr;
      node = &(*node)[key];
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    return node;
  }

  void string(const std::string& path, std::string& out, bool required = false) {
    const json* n = find(path);
    if (!n) {
      if (required) fail(path + ": required, expected a string");
      return;
    }
    if (!n->is_string()) return fail(path + ": expected a string");
    out = n->get<std::string>();
  }

  template <typename Int>
  void integer(const std::string& path, Int& out, long long lo, long long hi) {
    const json* n = find(path);
    if (!n) return;
    if (!n->is_number_integer() || n->get<long long>() < lo || n->get<long long>() > hi) {
      return fail(path + ": expected an integer from " + std::to_string(lo) + " to " +
                  std::to_string(hi));
    }
    out = static_cast<Int>(n->get<long long>());
  }

  void object(const std::string& path, bool required) {
    const json* n = find(path);
    if (!n) {
      if (required) fail(path + ": required, expected an object");
      return;
    }
    if (!n->is_object()) fail(path + ": expected an object");
  }

  void fail(const std::string& message) {
    if (error_.empty()) error_ = message;
  }
  const std::string& error() const { return error_; }

 private:
  const json& root_;
  std::string error_;
};

std::string resolve(const std::string& dir, const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  return (fs::path(dir) / p).lexically_normal().string();
}

}  // namespace

Status substitute_env(json& doc) { return substitute(doc, ""); }

Result<Config> load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::invalid(path + ": cannot read the file");
  std::stringstream buf;
  buf << in.rdbuf();
  json doc = json::parse(buf.str(), nullptr, /*allow_exceptions=*/false, /*comments=*/true);
  if (doc.is_discarded()) return Status::invalid(path + ": not valid JSON");
  if (!doc.is_object()) return Status::invalid(path + ": expected a JSON object at the top");
  if (Status st = substitute_env(doc); !st.is_ok()) {
    return Status::invalid(path + ": " + st.message());
  }

  Config c;
  c.file = path;
  c.dir = fs::absolute(path).parent_path().string();
  Reader r(doc);
  r.object("http", true);
  r.string("http.host", c.http.host);
  r.integer("http.port", c.http.port, 1, 65535);
  r.integer("http.threads", c.http.threads, 1, 256);
  r.integer("http.max_body_bytes", c.http.max_body_bytes, 1024, 64LL << 20);
  r.object("redis", true);
  r.string("redis.host", c.redis.host);
  r.integer("redis.port", c.redis.port, 1, 65535);
  r.integer("redis.db", c.redis.db, 0, 15);
  r.integer("redis.timeout_ms", c.redis.timeout_ms, 10, 60000);
  r.object("platforms", true);
  r.object("dialogs", true);
  r.string("dialogs.flow", c.flow_file, true);
  r.object("reference", true);
  r.string("reference.districts", c.districts_file, true);
  r.string("reference.categories", c.categories_file, true);
  r.integer("sessions.ttl_seconds", c.sessions.ttl_seconds, 60, 365LL * 24 * 3600);
  r.integer("sessions.dedupe_ttl_seconds", c.sessions.dedupe_ttl_seconds, 60,
            365LL * 24 * 3600);
  r.integer("sessions.draft_transcript_ttl_seconds", c.sessions.draft_transcript_ttl_seconds, 60,
            3650LL * 24 * 3600);
  r.integer("sessions.cache_entries", c.sessions.cache_entries, 0, 10000000);
  r.integer("outbox.workers", c.outbox.workers, 0, 64);
  r.integer("outbox.batch_size", c.outbox.batch_size, 1, 1000);
  r.integer("outbox.max_attempts", c.outbox.max_attempts, 1, 100);
  r.integer("outbox.reclaim_idle_ms", c.outbox.reclaim_idle_ms, 100, 3600000);
  r.integer("outbox.max_backoff_ms", c.outbox.max_backoff_ms, 10, 86400000);
  r.integer("outbox.request_timeout_ms", c.outbox.request_timeout_ms, 100, 120000);
  r.integer("outbox.pause_unreachable_ms", c.outbox.pause_unreachable_ms, 0, 3600000);
  // A worker resets its entries' idle time between calls, at most a third of reclaim_idle_ms
  // apart; a single call must end well within the rest, or a live worker's entry could be
  // taken over by another while the call is out, and sent twice.
  if (c.outbox.reclaim_idle_ms < 2 * c.outbox.request_timeout_ms) {
    r.fail("outbox.reclaim_idle_ms: must be at least twice outbox.request_timeout_ms (" +
           std::to_string(c.outbox.request_timeout_ms) + " ms)");
  }
  r.object("auth", false);
  r.integer("auth.token_ttl_seconds", c.auth.token_ttl_seconds, 300, 30LL * 24 * 3600);
  r.integer("auth.scrypt_n", c.auth.scrypt_n, 1024, 1 << 18);
  if ((c.auth.scrypt_n & (c.auth.scrypt_n - 1)) != 0) {
    r.fail("auth.scrypt_n: expected a power of two from 1024 to 262144");
  }
  if (const json* rates = r.find("outbox.sends_per_second")) {
    if (!rates->is_object()) {
      r.fail("outbox.sends_per_second: expected an object of platform: replies per second");
    } else {
      for (auto& [platform, n] : rates->items()) {
        if (!n.is_number_integer() || n.get<int64_t>() < 1 || n.get<int64_t>() > 100000) {
          r.fail("outbox.sends_per_second." + platform + ": expected an integer from 1 to 100000");
        } else {
          c.outbox.sends_per_second[platform] = n.get<int64_t>();
        }
      }
    }
  }
  r.integer("intake.max_per_mobile", c.intake.max_per_mobile, 0, 100000);
  r.integer("intake.window_days", c.intake.window_days, 1, 3650);
  r.integer("intake.link_hours", c.intake.link_hours, 0, 24 * 365);
  if (const json* p = r.find("sla")) c.sla = *p;
  if (const json* p = r.find("platforms"); p && p->is_object()) {
    for (auto& [name, block] : p->items()) {
      if (!block.is_object()) {
        r.fail("platforms." + name + ": expected an object");
        continue;
      }
      c.platforms[name] = block;
    }
  }
  if (!r.error().empty()) return Status::invalid(path + ": " + r.error());

  c.flow_file = resolve(c.dir, c.flow_file);
  c.districts_file = resolve(c.dir, c.districts_file);
  c.categories_file = resolve(c.dir, c.categories_file);
  return c;
}

}  // namespace nivaran
