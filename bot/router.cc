#include "bot/router.h"

#include <iostream>

#include "bot/metrics.h"

namespace nivaran {

namespace {

HttpResponse method_not_allowed(const std::string& allow) {
  HttpResponse r = HttpResponse::json_error(405, "method not allowed; use " + allow);
  r.headers.emplace_back("Allow", allow);
  return r;
}

}  // namespace

HttpResponse Router::handle(const HttpRequest& req) {
  static const std::string kWebhook = "/webhook/";
  if (req.path.rfind(kWebhook, 0) == 0) return webhook(req.path.substr(kWebhook.size()), req);
  if (req.path.rfind("/api/v1/", 0) == 0) return rt_.console->handle(req);
  if (req.path == "/webchat" || req.path.rfind("/webchat/", 0) == 0) {
    if (!rt_.webchat) return HttpResponse::json_error(404, "the web chat is not enabled");
    return rt_.webchat->handle(req);
  }
  if (req.path == "/healthz") {
    if (req.method != "GET" && req.method != "HEAD") return method_not_allowed("GET");
    return healthz();
  }
  if (req.path == "/metrics") {
    if (req.method != "GET") return method_not_allowed("GET");
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = metrics::render_prometheus();
    return r;
  }
  return HttpResponse::json_error(404, "no such path: " + req.path);
}

HttpResponse Router::healthz() {
  auto r = rt_.redis->command({"PING"});
  if (!r.ok() || r->is_error()) {
    return HttpResponse::json_error(503, "redis unreachable");
  }
  return HttpResponse::json_ok("{\"status\":\"ok\"}");
}

HttpResponse Router::webhook(const std::string& platform, const HttpRequest& req) {
  auto it = rt_.handlers.find(platform);
  if (it == rt_.handlers.end()) return HttpResponse::json_error(404, "no such webhook: " + platform);
  const Handler& handler = *it->second;
  auto& counters = metrics::counters();
  counters.webhook_requests++;

  if (req.method == "GET") {
    if (auto shake = handler.handshake(req)) return *shake;
    return method_not_allowed("POST");
  }
  if (req.method != "POST") return method_not_allowed("POST");

  auto reject = [&counters](const Status& st) {
    counters.webhook_rejected++;
    return HttpResponse::json_error(st.http_status(), st.message());
  };
  if (Status st = handler.verify(req); !st.is_ok()) return reject(st);
  Result<std::vector<InboundMessage>> messages = Status::internal("not parsed");
  try {
    messages = handler.parse(req);
  } catch (const std::exception& e) {
    // A parser must return invalid() for any body; if one throws, it is still the body's fault,
    // and a 5xx would only make the platform redeliver it for ever.
    std::cerr << "nivaran: " << platform << " parser threw: " << e.what() << "\n";
    return reject(Status::invalid("body could not be read"));
  }
  if (!messages.ok()) return reject(messages.status());

  for (const InboundMessage& msg : messages.value()) {
    auto processed = rt_.pipeline->process(msg);
    if (!processed.ok()) {
      counters.webhook_unavailable++;
      std::cerr << "nivaran: " << platform << " message not committed: "
                << processed.status().message() << "\n";
      return HttpResponse::json_error(503, "temporarily unavailable, retry later");
    }
    if (processed->duplicate) {
      counters.messages_duplicate++;
    } else {
      counters.messages_processed++;
      if (!processed->ticket_ref.empty()) counters.tickets_created++;
    }
  }
  return HttpResponse::json_ok();
}

}  // namespace nivaran
