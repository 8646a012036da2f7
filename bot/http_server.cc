// The cpprestsdk side of HttpServer. Only this file includes cpprest's listener headers.
#include "bot/http_server.h"

#include <cpprest/http_listener.h>
#include <pplx/threadpool.h>

#include <chrono>
#include <future>
#include <iostream>

namespace nivaran {

using web::http::http_request;
using web::http::http_response;
using web::http::experimental::listener::http_listener;

void initialize_http_threads(int threads) {
  crossplat::threadpool::initialize_with_threads(static_cast<size_t>(threads));
}

struct HttpServer::Impl {
  std::string host;
  int port;
  size_t max_body_bytes;
  Handler handler;
  std::unique_ptr<http_listener> listener;

  static void send(http_request& request, const HttpResponse& r, bool close) {
    http_response resp(static_cast<web::http::status_code>(r.status));
    for (const auto& [name, value] : r.headers) resp.headers().add(name, value);
    if (close) resp.headers().add("Connection", "close");
    resp.set_body(r.body, r.content_type);
    request.reply(resp).then([](pplx::task<void> t) {
      try {
        t.get();
      } catch (...) {  // the client went away; nothing to do
      }
    });
  }

  void serve(http_request request) {
    HttpRequest req;
    bool close = false;
    try {
      req.method = request.method();
      auto uri = request.relative_uri();
      req.path = web::uri::decode(uri.path());
      for (const auto& [k, v] : web::uri::split_query(uri.query())) {
        req.query[web::uri::decode(k)] = web::uri::decode(v);
      }
      for (const auto& [name, value] : request.headers()) req.headers[lower_ascii(name)] = value;
      req.remote_addr = request.remote_address();
      close = lower_ascii(req.header("connection")) == "close";
    } catch (const std::exception& e) {
      send(request, HttpResponse::json_error(400, std::string("malformed request: ") + e.what()),
           true);
      return;
    }
    if (!req.header("transfer-encoding").empty()) {
      send(request, HttpResponse::json_error(411, "a Content-Length is required"), true);
      return;
    }
    if (request.headers().content_length() > max_body_bytes) {
      // The listener answers only once the body is complete; failing the body's buffer makes
      // it stop reading after the first chunk, so the 413 goes out and the connection closes
      // without the body ever being held in memory.
      request.body().streambuf().close(
          std::ios_base::out, std::make_exception_ptr(std::length_error("body too large")));
      send(request,
           HttpResponse::json_error(413, "body is larger than " +
                                             std::to_string(max_body_bytes) + " bytes"),
           true);
      return;
    }
    request.extract_vector().then(
        [this, request, req = std::move(req), close](pplx::task<std::vector<unsigned char>> t) mutable {
          HttpResponse resp;
          try {
            auto bytes = t.get();
            req.body.assign(bytes.begin(), bytes.end());
            resp = handler(req);
          } catch (const std::exception& e) {
            std::cerr << "nivaran: request failed: " << e.what() << "\n";
            resp = HttpResponse::json_error(503, "temporarily unavailable");
          }
          send(request, resp, close);
        });
  }
};

HttpServer::HttpServer(std::string host, int port, size_t max_body_bytes, Handler handler)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
  impl_->max_body_bytes = max_body_bytes;
  impl_->handler = std::move(handler);
}

HttpServer::~HttpServer() { stop(); }

Status HttpServer::start() {
  std::string address = "http://" + impl_->host + ":" + std::to_string(impl_->port);
  try {
    impl_->listener = std::make_unique<http_listener>(address);
    impl_->listener->support([impl = impl_.get()](http_request r) { impl->serve(std::move(r)); });
    impl_->listener->open().wait();
  } catch (const std::exception& e) {
    impl_->listener.reset();
    return Status::unavailable("cannot listen on " + address + ": " + e.what());
  }
  return Status::ok();
}

void HttpServer::stop() {
  if (!impl_ || !impl_->listener) return;
  auto closing = std::async(std::launch::async, [l = impl_->listener.get()] {
    try {
      l->close().wait();
    } catch (...) {
    }
  });
  if (closing.wait_for(std::chrono::seconds(5)) == std::future_status::timeout) {
    std::cerr << "nivaran: listener did not close within 5 s; exiting anyway\n";
    std::_Exit(0);
  }
  impl_->listener.reset();
}

}  // namespace nivaran
