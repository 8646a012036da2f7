#include "tests/e2e/http_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace nivaran::testing {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

ProbeResponse probe(int port, const ProbeRequest& req) {
  ProbeResponse out;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return out;
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return out;
  }
  std::string wire = req.method + " " + req.path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [k, v] : req.headers) wire += k + ": " + v + "\r\n";
  long length = req.content_length >= 0 ? req.content_length : static_cast<long>(req.body.size());
  if (req.method != "GET" || !req.body.empty()) {
    wire += "Content-Length: " + std::to_string(length) + "\r\n";
  }
  wire += "\r\n";
  if (req.send_body) wire += req.body;
  // Send in slices and stop as soon as the server answers, as a good client does: a server may
  // refuse a large body after its first bytes and close the connection.
  size_t sent = 0;
  while (sent < wire.size()) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 0) > 0) break;
    size_t slice = std::min<size_t>(wire.size() - sent, 16384);
    ssize_t n = send(fd, wire.data() + sent, slice, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }

  std::string in;
  char buf[65536];
  size_t header_end = std::string::npos;
  size_t body_len = 0;
  while (true) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
    if (header_end == std::string::npos) {
      header_end = in.find("\r\n\r\n");
      if (header_end == std::string::npos) continue;
      size_t line_end = in.find("\r\n");
      std::string status_line = in.substr(0, line_end);
      size_t sp = status_line.find(' ');
      if (sp != std::string::npos) out.status = std::atoi(status_line.c_str() + sp + 1);
      size_t pos = line_end + 2;
      while (pos < header_end) {
        size_t e = in.find("\r\n", pos);
        std::string line = in.substr(pos, e - pos);
        size_t colon = line.find(':');
        if (colon != std::string::npos) {
          std::string value = line.substr(colon + 1);
          while (!value.empty() && value.front() == ' ') value.erase(0, 1);
          out.headers[lower(line.substr(0, colon))] = value;
        }
        pos = e + 2;
      }
      body_len = out.headers.count("content-length")
                     ? std::stoul(out.headers["content-length"]) : 0;
    }
    if (header_end != std::string::npos && in.size() >= header_end + 4 + body_len) break;
  }
  if (header_end != std::string::npos) out.body = in.substr(header_end + 4, body_len);
  close(fd);
  return out;
}

ProbeResponse post(int port, const std::string& path, const std::string& body,
                   std::vector<std::pair<std::string, std::string>> headers) {
  ProbeRequest r;
  r.method = "POST";
  r.path = path;
  r.body = body;
  r.headers = std::move(headers);
  r.headers.emplace_back("Content-Type", "application/json");
  return probe(port, r);
}

ProbeResponse get(int port, const std::string& path) {
  ProbeRequest r;
  r.method = "GET";
  r.path = path;
  return probe(port, r);
}

}  // namespace nivaran::testing
