// The cpprestsdk side of ApiTransport. Only this file includes cpprest's client headers.
#include <cpprest/http_client.h>

#include <map>
#include <mutex>

#include "bot/api_transport.h"

namespace nivaran {

namespace {

using web::http::client::http_client;
using web::http::client::http_client_config;

class CpprestTransport : public ApiTransport {
 public:
  explicit CpprestTransport(std::chrono::milliseconds timeout) : timeout_(timeout) {}

  ApiResponse send(const ApiCall& call) override { return start(call).get(); }

  std::vector<ApiResponse> send_all(const std::vector<ApiCall>& calls) override {
    if (calls.empty()) return {};
    std::vector<pplx::task<ApiResponse>> tasks;
    tasks.reserve(calls.size());
    for (const auto& call : calls) tasks.push_back(start(call));
    // One wait for the whole round (results in the order of the calls): a get() per call woke
    // this thread once for each call still out, up to a batch's size per round.
    return pplx::when_all(tasks.begin(), tasks.end()).get();
  }

 private:
  static ApiResponse failed(const std::exception& e) {
    ApiResponse out;
    out.status = 0;
    out.body = e.what();
    return out;
  }

  // Starts the call; the task never fails: errors become status 0.
  pplx::task<ApiResponse> start(const ApiCall& call) {
    try {
      web::uri uri(utility::conversions::to_string_t(call.url));
      std::string base = uri.scheme() + "://" + uri.authority().host() +
                         (uri.port() > 0 ? ":" + std::to_string(uri.port()) : "");
      http_client& client = client_for(base);
      web::http::http_request req(web::http::method(call.method));
      req.set_request_uri(uri.resource());
      std::string content_type = "application/json";
      for (const auto& [name, value] : call.headers) {
        if (utility::details::str_iequal(name, "Content-Type")) {
          content_type = value;
        } else {
          req.headers().add(name, value);
        }
      }
      if (!call.body.empty() || call.method == "POST") req.set_body(call.body, content_type);
      return client.request(req)
          .then([](web::http::http_response resp) {
            auto out = std::make_shared<ApiResponse>();
            out->status = resp.status_code();
            for (const auto& [name, value] : resp.headers()) {
              out->headers[lower_ascii(name)] = value;
            }
            return resp.extract_vector().then([out](std::vector<unsigned char> bytes) {
              out->body.assign(bytes.begin(), bytes.end());
              return *out;
            });
          })
          .then([](pplx::task<ApiResponse> t) {
            try {
              return t.get();
            } catch (const std::exception& e) {
              return failed(e);
            }
          });
    } catch (const std::exception& e) {
      return pplx::task_from_result(failed(e));
    }
  }

  http_client& client_for(const std::string& base) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = clients_.find(base);
    if (it == clients_.end()) {
      http_client_config cfg;
      cfg.set_timeout(timeout_);
      it = clients_.emplace(base, std::make_unique<http_client>(base, cfg)).first;
    }
    return *it->second;
  }

  std::chrono::milliseconds timeout_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<http_client>> clients_;
};

}  // namespace

std::unique_ptr<ApiTransport> make_http_transport(std::chrono::milliseconds timeout) {
  return std::make_unique<CpprestTransport>(timeout);
}

}  // namespace nivaran
