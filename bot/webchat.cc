#include "bot/webchat.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include <openssl/rand.h>

#include "bot/keys.h"
#include "bot/metrics.h"
#include "core/message.h"

namespace nivaran {

using nlohmann::json;

namespace {

const std::string kPrefix = "/webchat/";
const std::string kApi = "/webchat/api/";

HttpResponse method_not_allowed(const std::string& allow) {
  HttpResponse r = HttpResponse::json_error(405, "method not allowed; use " + allow);
  r.headers.emplace_back("Allow", allow);
  return r;
}

HttpResponse from_status(const Status& st) {
  return HttpResponse::json_error(st.http_status(), st.message());
}

// A session id: 128 random bits, hex.
std::string new_session_id() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return "";
  static const char* kHex = "0123456789abcdef";
  std::string id;
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return id;
}

bool is_session_id(const std::string& s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool is_client_id(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool is_stream_id(const std::string& s) {
  static const std::regex kId("[0-9]{1,20}(-[0-9]{1,20})?");
  return std::regex_match(s, kId);
}

int64_t positive_int(const json& block, const char* key, int64_t fallback, Status& error) {
  auto it = block.find(key);
  if (it == block.end()) return fallback;
  if (!it->is_number_integer() || it->get<int64_t>() < 0) {
    error = Status::invalid(std::string("platforms.webchat.") + key +
                            ": expected a whole number, 0 or more");
    return fallback;
  }
  return it->get<int64_t>();
}

std::string content_type_for(const std::string& name) {
  auto ends = [&](const char* ext) {
    std::string e(ext);
    return name.size() >= e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  if (ends(".json")) return "application/json";
  return "";
}

}  // namespace

Result<WebChatOptions> webchat_options(const json& block, const std::string& config_dir) {
  if (!block.is_object()) return Status::invalid("platforms.webchat: expected an object");
  WebChatOptions o;
  auto dir = block.find("static_dir");
  if (dir == block.end() || !dir->is_string() || dir->get<std::string>().empty()) {
    return Status::invalid(
        "platforms.webchat.static_dir: expected the folder of the web chat page (web/webchat)");
  }
  std::filesystem::path p(dir->get<std::string>());
  if (p.is_relative()) p = std::filesystem::path(config_dir) / p;
  o.static_dir = p.lexically_normal().string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(std::filesystem::path(o.static_dir) / "index.html", ec)) {
    return Status::invalid("platforms.webchat.static_dir: no index.html in " + o.static_dir);
  }
  Status error;
  o.session_ttl_ms = positive_int(block, "session_ttl_seconds", o.session_ttl_ms / 1000, error) * 1000;
  o.sessions_per_addr.limit =
      positive_int(block, "sessions_per_address_per_hour", o.sessions_per_addr.limit, error);
  o.messages_per_session.limit =
      positive_int(block, "messages_per_session_per_minute", o.messages_per_session.limit, error);
  o.messages_per_addr.limit =
      positive_int(block, "messages_per_address_per_minute", o.messages_per_addr.limit, error);
  if (!error.is_ok()) return error;
  if (o.session_ttl_ms <= 0) {
    return Status::invalid("platforms.webchat.session_ttl_seconds: must be more than 0");
  }
  return o;
}

WebChat::WebChat(Redis& redis, Pipeline& pipeline, WebChatOptions options, Clock clock)
    : redis_(redis), pipeline_(pipeline), options_(std::move(options)), clock_(std::move(clock)) {}

HttpResponse WebChat::handle(const HttpRequest& req) {
  if (req.path == "/webchat") {
    HttpResponse r;
    r.status = 301;
    r.content_type = "text/plain";
    r.headers.emplace_back("Location", "/webchat/");
    return r;
  }
  if (req.path == kApi + "session") {
    if (req.method != "POST") return method_not_allowed("POST");
    return create_session(req);
  }
  if (req.path == kApi + "messages") {
    if (req.method == "POST") return post_message(req);
    if (req.method == "GET") return get_messages(req);
    return method_not_allowed("GET, POST");
  }
  if (req.path.rfind(kApi, 0) == 0) return HttpResponse::json_error(404, "no such path: " + req.path);
  if (req.method != "GET" && req.method != "HEAD") return method_not_allowed("GET");
  std::string name = req.path.substr(kPrefix.size());
  return static_file(name.empty() ? "index.html" : name);
}

HttpResponse WebChat::static_file(const std::string& name) const {
  static const std::regex kName("[A-Za-z0-9_-]{1,64}\\.[a-z]{2,4}");
  std::string type = content_type_for(name);
  if (!std::regex_match(name, kName) || type.empty()) {
    return HttpResponse::json_error(404, "no such file: " + name);
  }
  std::ifstream in(std::filesystem::path(options_.static_dir) / name, std::ios::binary);
  if (!in) return HttpResponse::json_error(404, "no such file: " + name);
  std::ostringstream body;
  body << in.rdbuf();
  HttpResponse r;
  r.content_type = type;
  r.body = body.str();
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  return r;
}

HttpResponse WebChat::create_session(const HttpRequest& req) {
  const int64_t now = clock_();
  auto allowed = rate_allow(redis_, "webchat:session:" + req.remote_addr,
                            options_.sessions_per_addr, now);
  if (!allowed.ok()) return from_status(allowed.status());
  if (!allowed.value()) {
    return HttpResponse::json_error(429, "too many new chats from this address; try again later");
  }
  std::string id = new_session_id();
  if (id.empty()) return HttpResponse::json_error(503, "no randomness available; retry");
  auto r = redis_.command(
      {"SET", keys::webchat_session(id), "1", "PX", std::to_string(options_.session_ttl_ms)});
  if (!r.ok() || r->is_error()) return HttpResponse::json_error(503, "store unavailable; retry");
  HttpResponse resp = HttpResponse::json_ok(json_text({{"session", id}}));
  resp.status = 201;
  return resp;
}

HttpResponse WebChat::post_message(const HttpRequest& req) {
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) return HttpResponse::json_error(400, "body is not valid JSON");
  if (!body.is_object()) return HttpResponse::json_error(400, "body must be a JSON object");
  auto str = [&](const char* key) -> const std::string* {
    auto it = body.find(key);
    if (it == body.end() || !it->is_string()) return nullptr;
    return it->get_ptr<const std::string*>();
  };
  const std::string* session = str("session");
  const std::string* id = str("id");
  if (!session || !is_session_id(*session)) {
    return HttpResponse::json_error(400, "\"session\" must be the id from POST /webchat/api/session");
  }
  if (!id || !is_client_id(*id)) {
    return HttpResponse::json_error(400, "\"id\" must be 1-64 letters, digits, '-' or '_'");
  }
  const std::string* text = str("text");
  const std::string* button = str("button");
  if (body.contains("text") && !text) return HttpResponse::json_error(400, "\"text\" must be a string");
  if (body.contains("button") && !button) {
    return HttpResponse::json_error(400, "\"button\" must be a string");
  }
  if ((!text || text->empty()) && (!button || button->empty())) {
    return HttpResponse::json_error(400, "send a non-empty \"text\" or \"button\"");
  }
  if (text && text->size() > options_.max_text_bytes) {
    return HttpResponse::json_error(
        400, "\"text\" is longer than " + std::to_string(options_.max_text_bytes) + " bytes");
  }
  if (button && button->size() > 64) return HttpResponse::json_error(400, "\"button\" is too long");

  const int64_t now = clock_();
  const std::string skey = keys::webchat_session(*session);
  auto live = redis_.pipeline({{"PEXPIRE", skey, std::to_string(options_.session_ttl_ms)}});
  if (!live.ok() || live->at(0).is_error()) {
    return HttpResponse::json_error(503, "store unavailable; retry");
  }
  if (live->at(0).integer != 1) {
    return HttpResponse::json_error(404, "unknown or expired session; start a new one");
  }
  for (auto [what, rule] : {std::pair{"webchat:msg:" + *session, options_.messages_per_session},
                            std::pair{"webchat:addr:" + req.remote_addr, options_.messages_per_addr}}) {
    auto allowed = rate_allow(redis_, what, rule, now);
    if (!allowed.ok()) return from_status(allowed.status());
    if (!allowed.value()) {
      HttpResponse r = HttpResponse::json_error(429, "too many messages; please wait a minute");
      r.headers.emplace_back("Retry-After", std::to_string(rule.window_ms / 1000));
      return r;
    }
  }

  InboundMessage msg;
  msg.platform = "webchat";
  msg.message_id = *session + ":" + *id;
  msg.user_id = *session;
  msg.chat_id = *session;
  if (text) msg.text = *text;
  if (button) msg.button = *button;
  msg.sent_at_ms = now;
  auto processed = pipeline_.process(msg);
  if (!processed.ok()) {
    metrics::counters().webhook_unavailable++;
    std::cerr << "nivaran: webchat message not committed: " << processed.status().message() << "\n";
    return HttpResponse::json_error(503, "temporarily unavailable, retry later");
  }
  if (processed->duplicate) {
    metrics::counters().messages_duplicate++;
  } else {
    metrics::counters().messages_processed++;
    if (!processed->ticket_ref.empty()) metrics::counters().tickets_created++;
  }
  return HttpResponse::json_ok();
}

HttpResponse WebChat::get_messages(const HttpRequest& req) {
  auto s = req.query.find("session");
  if (s == req.query.end() || !is_session_id(s->second)) {
    return HttpResponse::json_error(400, "query parameter \"session\" is missing or malformed");
  }
  std::string after = "0";
  if (auto a = req.query.find("after"); a != req.query.end()) after = a->second;
  if (!is_stream_id(after)) {
    return HttpResponse::json_error(400, "query parameter \"after\" must be a cursor from a reply");
  }
  auto r = redis_.pipeline({{"EXISTS", keys::webchat_session(s->second)},
                            {"XRANGE", keys::local_inbox("webchat", s->second),
                             after == "0" ? "-" : "(" + after, "+", "COUNT", "100"}});
  if (!r.ok() || r->at(0).is_error() || r->at(1).is_error()) {
    return HttpResponse::json_error(503, "store unavailable; retry");
  }
  if (r->at(0).integer != 1) {
    return HttpResponse::json_error(404, "unknown or expired session; start a new one");
  }
  json out = json::array();
  std::string cursor = after;
  for (const RedisValue& entry : r->at(1).elements) {
    if (entry.elements.size() != 2) continue;
    cursor = entry.elements[0].str;
    const auto& fields = entry.elements[1].elements;
    for (size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (fields[i].str != "r") continue;
      json reply = json::parse(fields[i + 1].str, nullptr, false);
      if (reply.is_discarded()) continue;
      out.push_back({{"id", cursor},
                     {"text", reply.value("text", "")},
                     {"options", reply.value("options", json::array())}});
    }
  }
  HttpResponse resp = HttpResponse::json_ok(json_text({{"messages", out}, {"cursor", cursor}}));
  resp.headers.emplace_back("Cache-Control", "no-store");
  return resp;
}

}  // namespace nivaran
