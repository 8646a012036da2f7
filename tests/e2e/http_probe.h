// A deliberately raw HTTP/1.1 client for end-to-end tests: it writes exactly the bytes a test
// asks for (a lying Content-Length, Connection: close, no body at all) and reads one response.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace nivaran::testing {

struct ProbeResponse {
  int status = 0;  // 0 when no response arrived (connection refused or closed)
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

struct ProbeRequest {
  std::string method = "POST";
  std::string path = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool send_body = true;        // false: announce Content-Length but send no body
  long content_length = -1;     // -1: the body's real size
};

// Sends one request to 127.0.0.1:port on a new connection and reads one response (timeout 10 s).
ProbeResponse probe(int port, const ProbeRequest& req);

// Convenience: POST a JSON body with extra headers.
ProbeResponse post(int port, const std::string& path, const std::string& body,
                   std::vector<std::pair<std::string, std::string>> headers = {});
ProbeResponse get(int port, const std::string& path);

}  // namespace nivaran::testing
