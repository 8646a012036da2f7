// The console's JSON API under /api/v1 (docs/api.md): login, the ticket queues, one ticket
// with its transcript and history, replies to the citizen, notes and status changes.
//
// Every call but login carries "Authorization: Bearer TOKEN". The caller's role and district
// come from the token, never from the request, and TicketService enforces the scoping: a
// ticket of another district answers 404 exactly like one that does not exist.
#pragma once

#include <functional>
#include <string>

#include "bot/accounts.h"
#include "bot/rate_limit.h"
#include "bot/tickets.h"
#include "core/http.h"

namespace nivaran {

class ConsoleApi {
 public:
  using Clock = std::function<int64_t()>;
  // Sign-in attempts are limited per address (`logins_per_address`, per minute) on top of the
  // per-login lock-out in Accounts, so one address cannot spray many login names.
  ConsoleApi(Redis& redis, Accounts& accounts, TicketService& tickets, Clock clock,
             RateLimit logins_per_address = {30, 60 * 1000});

  // Answers any request whose path starts with /api/v1/.
  HttpResponse handle(const HttpRequest& req);

 private:
  HttpResponse login(const HttpRequest& req);
  HttpResponse tickets(const Actor& actor, const HttpRequest& req, const std::string& rest);

  Redis& redis_;
  Accounts& accounts_;
  TicketService& tickets_;
  Clock clock_;
  RateLimit logins_per_address_;
};

}  // namespace nivaran
