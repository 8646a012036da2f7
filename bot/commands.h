// The commands of build/nivaran, each returning the process exit code.
#pragma once

#include <signal.h>

#include <iosfwd>
#include <string>

namespace nivaran {

// Runs the HTTP server and the outbox workers until SIGINT/SIGTERM arrives (`signals` must be
// blocked in every thread). Exit 1 when the configuration is invalid or the port is taken.
int run_serve(const std::string& config_path, const sigset_t& signals);

// A citizen's conversation over standard input/output through the same pipeline and Redis.
int run_chat(const std::string& config_path, const std::string& user, std::istream& in,
             std::ostream& out);

// Validates everything the configuration names; prints every error. Exit 0 valid, 1 invalid.
int run_check_config(const std::string& config_path, std::ostream& out, std::ostream& err);

// Creates a staff account (`district` empty for ig and admin). The password is read from
// standard input: prompted twice without echo on a terminal, otherwise the first line. Exit 0
// added, 1 refused (bad role or district, weak password, login taken, Redis down).
int run_user_add(const std::string& config_path, const std::string& login, const std::string& role,
                 const std::string& district, std::ostream& out, std::ostream& err);

}  // namespace nivaran
