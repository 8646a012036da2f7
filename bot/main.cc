// build/nivaran: the command-line entry point. Parses arguments and runs one command.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "bot/cli.h"
#include "bot/commands.h"

int main(int argc, char** argv) {
  // Block the shutdown signals before any thread exists, so every thread inherits the mask and
  // `serve` can sigwait for them (STACK-NOTES: clean shutdown with cpprestsdk).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::vector<std::string> args(argv + 1, argv + argc);
  auto cl = nivaran::parse_command_line(args);
  if (!cl.ok()) {
    std::cerr << "nivaran: " << cl.status().message() << "\n\n" << nivaran::usage();
    return 2;
  }
  if (cl->help) {
    std::cout << nivaran::usage();
    return 0;
  }
  const std::string& config = cl->options.at("--config");
  if (cl->command == "serve") return nivaran::run_serve(config, signals);
  if (cl->command == "chat") {
    auto user = cl->options.count("--user") ? cl->options.at("--user") : "local";
    pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);  // Ctrl-C simply ends the chat
    return nivaran::run_chat(config, user, std::cin, std::cout);
  }
  if (cl->command == "check-config") return nivaran::run_check_config(config, std::cout, std::cerr);
  if (cl->command == "user add") {
    pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);  // Ctrl-C ends it (echo is restored)
    auto district = cl->options.count("--district") ? cl->options.at("--district") : "";
    return nivaran::run_user_add(config, cl->options.at("--login"), cl->options.at("--role"),
                                 district, std::cout, std::cerr);
  }
  std::cerr << "nivaran: '" << cl->command << "' is not available yet in this build\n";
  return 1;
}
