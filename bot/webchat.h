// The citizen web chat: a static page (web/webchat/) and the small JSON API it talks to.
//
//   POST /webchat/api/session                      → 201 {"session"}      (rate-limited per address)
//   POST /webchat/api/messages {"session","id","text"|"button"} → 200 after the commit
//   GET  /webchat/api/messages?session=S&after=C   → {"messages":[{"id","text","options"}],"cursor"}
//
// A web chat message goes through the same pipeline as any webhook, with platform "webchat",
// the session as the citizen's id and "session:id" as the dedupe key, so a page that retries a
// send after a network error never files anything twice. The bot's replies are not sent
// anywhere: the commit appends them to the session's inbox stream (keys::local_inbox), which the
// page polls. docs/webchat.md is the reference.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "bot/pipeline.h"
#include "bot/rate_limit.h"
#include "bot/redis.h"
#include "core/http.h"
#include "core/status.h"

namespace nivaran {

struct WebChatOptions {
  std::string static_dir;                        // the page's files
  int64_t session_ttl_ms = 24LL * 3600 * 1000;   // an idle session is forgotten after this
  RateLimit sessions_per_addr{30, 3600 * 1000};  // new sessions per address per hour
  RateLimit messages_per_session{20, 60 * 1000};
  RateLimit messages_per_addr{120, 60 * 1000};
  size_t max_text_bytes = 4000;
};

// Reads platforms.webchat: {"enabled", "static_dir", "session_ttl_seconds",
// "sessions_per_address_per_hour", "messages_per_session_per_minute",
// "messages_per_address_per_minute"}. A relative static_dir resolves against `config_dir`.
// invalid() names the field.
Result<WebChatOptions> webchat_options(const nlohmann::json& block, const std::string& config_dir);

class WebChat {
 public:
  using Clock = std::function<int64_t()>;
  WebChat(Redis& redis, Pipeline& pipeline, WebChatOptions options, Clock clock);

  // Answers any request whose path starts with /webchat.
  HttpResponse handle(const HttpRequest& req);

 private:
  HttpResponse create_session(const HttpRequest& req);
  HttpResponse post_message(const HttpRequest& req);
  HttpResponse get_messages(const HttpRequest& req);
  HttpResponse static_file(const std::string& name) const;

  Redis& redis_;
  Pipeline& pipeline_;
  WebChatOptions options_;
  Clock clock_;
};

}  // namespace nivaran
