// The server-neutral HTTP request and response every layer above the listener speaks.
//
// Only bot/http_server.cc and bot/http_client.cc see cpprestsdk; everything else, handlers
// included, is written against these values so it is testable without sockets.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace nivaran {

// `s` with ASCII letters lower-cased: header names are compared this way.
std::string lower_ascii(std::string s);

struct HttpRequest {
  std::string method;                         // "GET", "POST", ...
  std::string path;                           // decoded path without query, e.g. "/webhook/telegram"
  std::map<std::string, std::string> query;   // decoded query parameters
  std::map<std::string, std::string> headers; // names lower-cased
  std::string body;                           // the raw bytes, as received
  std::string remote_addr;                    // the peer's IP address, for rate limits and audit

  // The header's value, or "" when absent. `name` must be lower-case.
  const std::string& header(const std::string& name) const {
    static const std::string kEmpty;
    auto it = headers.find(name);
    return it == headers.end() ? kEmpty : it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers

  static HttpResponse json_error(int status, const std::string& message);
  static HttpResponse json_ok(const std::string& body = "{\"ok\":true}");
};

// An HTTP call the bot makes to a platform's API.
struct ApiCall {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// What an API answered.
struct ApiResponse {
  int status = 0;  // 0 when no HTTP answer came (connection refused, timeout)
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
};

}  // namespace nivaran
