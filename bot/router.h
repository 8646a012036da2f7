// Router: maps HTTP requests to webhooks, health and metrics. Pure dispatch over the runtime;
// it never sees cpprestsdk.
//
// Webhook contract (DESIGN.md): 200 only after every message of the request is committed;
// 400 malformed, 401 bad signature, 404 unknown path or platform not configured, 405 wrong
// method, 503 when Redis is unreachable so the platform redelivers.
#pragma once

#include "bot/runtime.h"
#include "core/http.h"

namespace nivaran {

class Router {
 public:
  explicit Router(Runtime& rt) : rt_(rt) {}

  HttpResponse handle(const HttpRequest& req);

 private:
  HttpResponse webhook(const std::string& platform, const HttpRequest& req);
  HttpResponse healthz();

  Runtime& rt_;
};

}  // namespace nivaran
