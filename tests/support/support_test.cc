// The test harness's own tests: the fake platform records and answers as programmed, and
// RedisServer restarts keep AOF data. Plain sockets and hiredis, so no cpprestsdk headers here.
#include <arpa/inet.h>
#include <hiredis.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <string>

#include "tests/support/fake_platform.h"
#include "tests/support/redis_server.h"

using nivaran::testing::FakePlatform;
using nivaran::testing::RedisServer;
using namespace std::chrono_literals;

namespace {

struct RawResponse {
  int status = 0;
  std::string head;  // status line and headers, lower-cased
  std::string body;
};

// Sends one HTTP/1.1 request with Connection: close and reads the answer to EOF (5 s at most).
RawResponse exchange(int port, const std::string& method, const std::string& path,
                     const std::string& body = "", const std::string& extra_headers = "") {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                        "Connection: close\r\nContent-Type: application/json\r\n" +
                        "Content-Length: " + std::to_string(body.size()) + "\r\n" + extra_headers +
                        "\r\n" + body;
  REQUIRE(::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size()));
  std::string raw;
  char buffer[4096];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) raw.append(buffer, n);
  ::close(fd);

  RawResponse response;
  auto split = raw.find("\r\n\r\n");
  REQUIRE(split != std::string::npos);
  response.head = raw.substr(0, split);
  std::transform(response.head.begin(), response.head.end(), response.head.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  response.body = raw.substr(split + 4);
  response.status = std::stoi(raw.substr(9, 3));
  return response;
}

// The reply to one Redis command as a string ("" for nil); "ERR: ..." when unreachable.
std::string redis(int port, const char* format, const char* arg1, const char* arg2 = nullptr) {
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, timeval{1, 0});
  if (c == nullptr || c->err) {
    if (c) redisFree(c);
    return "ERR: unreachable";
  }
  auto* reply = static_cast<redisReply*>(redisCommand(c, format, arg1, arg2));
  std::string result = reply == nullptr                 ? "ERR: no reply"
                       : reply->type == REDIS_REPLY_NIL ? ""
                       : reply->str                     ? std::string(reply->str, reply->len)
                                                        : "";
  if (reply) freeReplyObject(reply);
  redisFree(c);
  return result;
}

}  // namespace

TEST_CASE("the fake platform records what the bot sends and answers like Telegram") {
  FakePlatform platform;
  platform.start();
  REQUIRE(platform.port() > 0);
  CHECK(platform.base_url() == "http://127.0.0.1:" + std::to_string(platform.port()));

  auto response = exchange(platform.port(), "POST", "/botTOKEN/sendMessage",
                           R"({"chat_id":42,"text":"नमस्ते"})", "X-Probe: yes\r\n");

  CHECK(response.status == 200);
  CHECK(response.body == R"({"ok":true,"result":{"message_id":1}})");
  CHECK(response.head.find("connection: close") != std::string::npos);
  REQUIRE(platform.wait_for_requests(1, 2s));
  auto requests = platform.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].method == "POST");
  CHECK(requests[0].path == "/botTOKEN/sendMessage");
  CHECK(requests[0].body == R"({"chat_id":42,"text":"नमस्ते"})");
  CHECK(requests[0].header("x-probe") == "yes");

  SECTION("message ids increase with each default answer") {
    CHECK(exchange(platform.port(), "POST", "/botTOKEN/sendMessage", "{}").body ==
          R"({"ok":true,"result":{"message_id":2}})");
  }
  SECTION("clear() forgets what was received") {
    platform.clear();
    CHECK(platform.requests().empty());
    CHECK(platform.request_count() == 0);
  }
}

TEST_CASE("programmed answers are given the requested number of times, in order") {
  FakePlatform platform;
  platform.start();
  platform.program("sendMessage", 429,
                   R"({"ok":false,"error_code":429,"parameters":{"retry_after":3}})",
                   {{"Retry-After", "3"}}, 2);
  platform.program(
      "sendMessage", 403,
      R"({"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"})");

  CHECK(exchange(platform.port(), "POST", "/botT/getMe").status == 200);  // does not match
  auto first = exchange(platform.port(), "POST", "/botT/sendMessage", "{}");
  CHECK(first.status == 429);
  CHECK(first.head.find("retry-after: 3") != std::string::npos);
  CHECK(exchange(platform.port(), "POST", "/botT/sendMessage", "{}").status == 429);
  auto blocked = exchange(platform.port(), "POST", "/botT/sendMessage", "{}");
  CHECK(blocked.status == 403);
  CHECK(blocked.body.find("bot was blocked by the user") != std::string::npos);
  CHECK(exchange(platform.port(), "POST", "/botT/sendMessage", "{}").status == 200);
  CHECK(platform.request_count() == 5);
}

TEST_CASE("waiting for requests that never come gives up at its timeout") {
  FakePlatform platform;
  platform.start();
  auto started = std::chrono::steady_clock::now();
  CHECK_FALSE(platform.wait_for_requests(1, 100ms));
  CHECK(std::chrono::steady_clock::now() - started < 2s);
}

TEST_CASE("a fake without recording counts requests and reports them on GET /_stats") {
  FakePlatform platform(/*record_bodies=*/false);
  platform.start();
  exchange(platform.port(), "POST", "/botT/sendMessage", "{}");
  exchange(platform.port(), "POST", "/botT/sendMessage", "{}");

  CHECK(platform.wait_for_requests(2, 2s));
  CHECK(platform.requests().empty());
  CHECK(exchange(platform.port(), "GET", "/_stats").body == R"({"requests":2})");
  CHECK(platform.request_count() == 2);  // /_stats itself is not counted
}

TEST_CASE("a stopped fake platform refuses connections and can be stopped twice") {
  FakePlatform platform;
  platform.start();
  int port = platform.port();
  platform.stop();
  platform.stop();
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0);
  ::close(fd);
}

TEST_CASE("a Redis stopped and started again keeps its port and its AOF data") {
  std::string dir;
  {
    RedisServer server;
    server.start();
    dir = server.dir();
    int port = server.port();
    REQUIRE(port > 0);
    REQUIRE(std::filesystem::is_directory(dir));
    REQUIRE(redis(port, "SET %s %s", "ticket:1", "चोरी") == "OK");

    server.stop();
    CHECK_FALSE(server.running());
    CHECK(redis(port, "GET %s", "ticket:1") == "ERR: unreachable");

    server.start();
    CHECK(server.port() == port);
    CHECK(redis(port, "GET %s", "ticket:1") == "चोरी");

    SECTION("and after a kill, every acknowledged write is still there") {
      REQUIRE(redis(port, "SET %s %s", "ticket:2", "मारपीट") == "OK");
      server.kill();
      server.start();
      CHECK(redis(port, "GET %s", "ticket:2") == "मारपीट");
    }
  }
  CHECK_FALSE(std::filesystem::exists(dir));  // the destructor cleans up
}
