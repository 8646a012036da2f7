#include "core/http.h"

#include <nlohmann/json.hpp>

namespace nivaran {

HttpResponse HttpResponse::json_error(int status, const std::string& message) {
  HttpResponse r;
  r.status = status;
  r.body = nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                    nlohmann::json::error_handler_t::replace);
  return r;
}

HttpResponse HttpResponse::json_ok(const std::string& body) {
  HttpResponse r;
  r.body = body;
  return r;
}

}  // namespace nivaran
