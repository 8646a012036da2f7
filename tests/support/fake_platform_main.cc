// fake_platform: the fake platform API as a process, for benchmarks and manual tests.
//
//   fake_platform --port N [--threads N] [--no-record]
//
// Answers every request like Telegram's sendMessage; GET /_stats answers {"requests": N}.
// Stops cleanly on SIGINT or SIGTERM.
// clang-format off
#include <utility>  // before Boost.Asio: its awaitable.hpp needs std::exchange under C++20
#include <pplx/threadpool.h>
// clang-format on
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>

#include "tests/support/fake_platform.h"

namespace {

constexpr const char* kUsage =
    "usage: fake_platform --port N [--threads N] [--no-record]\n"
    "  --port N      listen on 127.0.0.1:N (0 picks a free port)\n"
    "  --threads N   cpprestsdk pool threads (default 4)\n"
    "  --no-record   count requests without keeping them (for benchmarks)\n";

struct Options {
  int port = -1;
  int threads = 4;
  bool record = true;
};

bool parse_int(const char* text, int min, int max, int& out) {
  char* end = nullptr;
  long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < min || v > max) return false;
  out = static_cast<int>(v);
  return true;
}

bool parse(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--port" && i + 1 < argc) {
      if (!parse_int(argv[++i], 0, 65535, options.port)) return false;
    } else if (arg == "--threads" && i + 1 < argc) {
      if (!parse_int(argv[++i], 1, 256, options.threads)) return false;
    } else if (arg == "--no-record") {
      options.record = false;
    } else {
      return false;
    }
  }
  return options.port >= 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse(argc, argv, options)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  // Blocked before the pool's threads exist, so they all inherit the mask and only sigwait
  // below sees the signals. Then size the pool, before any cpprestsdk object exists.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  crossplat::threadpool::initialize_with_threads(static_cast<size_t>(options.threads));

  nivaran::testing::FakePlatform platform(options.record);
  try {
    platform.start(options.port);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fake_platform: %s\n", e.what());
    return 1;
  }
  std::printf("fake_platform listening on %s\n", platform.base_url().c_str());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);

  std::thread([] {  // the listener's close has been seen to hang; never outlive 5 s
    std::this_thread::sleep_for(std::chrono::seconds(5));
    std::fputs("fake_platform: shutdown timed out\n", stderr);
    std::_Exit(1);
  })
      .detach();
  platform.stop();
  std::fprintf(stderr, "fake_platform: stopped after %zu requests\n", platform.request_count());
  return 0;
}
