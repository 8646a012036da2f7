// Helpers shared by the handler tests (test-only: include from *_test.cc files only).
#pragma once

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "core/http.h"
#include "core/message.h"

// Failed comparisons print messages as their JSON.
namespace Catch {
template <>
struct StringMaker<nivaran::InboundMessage> {
  static std::string convert(const nivaran::InboundMessage& m) {
    return nlohmann::json(m).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
};
}  // namespace Catch

namespace nivaran::handlers::testing {

// The bytes of handlers/<platform>/testdata/<name>; fails the test when it cannot be read.
inline std::string read_fixture(const std::string& platform, const std::string& name) {
  std::ifstream in(std::string(NIVARAN_HANDLERS_TESTDATA) + "/" + platform + "/testdata/" + name,
                   std::ios::binary);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A POST of `body` to /webhook/<platform>, as the server hands it to a handler.
inline HttpRequest webhook_post(const std::string& platform, std::string body) {
  HttpRequest req;
  req.method = "POST";
  req.path = "/webhook/" + platform;
  req.body = std::move(body);
  return req;
}

}  // namespace nivaran::handlers::testing
