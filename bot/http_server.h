// HttpServer: the cpprestsdk listener behind a request-in, response-out function.
//
// Only http_server.cc includes cpprest's listener. It enforces what the listener does not:
// a body over the limit is refused with 413 from Content-Length before it is read, a chunked
// body with 411, and "Connection: close" is echoed. The handler runs on a pool thread after the
// body has arrived; it may do blocking Redis calls but must never wait on a pplx task.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/http.h"
#include "core/status.h"

namespace nivaran {

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  HttpServer(std::string host, int port, size_t max_body_bytes, Handler handler);
  ~HttpServer();

  // Starts listening; an error names the address when it cannot be bound.
  Status start();
  // Stops accepting and closes the listener (bounded: gives up waiting after a few seconds).
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Sets the size of cpprestsdk's shared thread pool. Must be the first cpprest call of the
// process (STACK-NOTES: 4-8 threads on 2 cores beat the default 40).
void initialize_http_threads(int threads);

}  // namespace nivaran
