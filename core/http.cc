#include "core/http.h"

#include <cctype>

#include "core/message.h"

namespace nivaran {

std::string lower_ascii(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

HttpResponse HttpResponse::json_error(int status, const std::string& message) {
  HttpResponse r;
  r.status = status;
  r.body = json_text(nlohmann::json{{"error", message}});
  return r;
}

HttpResponse HttpResponse::json_ok(const std::string& body) {
  HttpResponse r;
  r.body = body;
  return r;
}

}  // namespace nivaran
