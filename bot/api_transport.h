// ApiTransport: how the outbox reaches a platform's API. The cpprestsdk implementation lives in
// bot/http_client.cc; tests may substitute their own.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "core/http.h"

namespace nivaran {

class ApiTransport {
 public:
  virtual ~ApiTransport() = default;
  // Performs the call and waits for the answer. Never throws: a network failure or timeout is
  // an ApiResponse with status 0 and the reason in body. Must not be called on a cpprestsdk
  // pool thread.
  virtual ApiResponse send(const ApiCall& call) = 0;

  // Performs the calls concurrently and returns their answers in the same order.
  virtual std::vector<ApiResponse> send_all(const std::vector<ApiCall>& calls) {
    std::vector<ApiResponse> out;
    for (const auto& c : calls) out.push_back(send(c));
    return out;
  }
};

// The production transport, over cpprestsdk's http_client (one client per host, reused).
std::unique_ptr<ApiTransport> make_http_transport(std::chrono::milliseconds timeout);

}  // namespace nivaran
