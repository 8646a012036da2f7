#include "bot/console_api.h"

#include "core/message.h"

namespace nivaran {

using nlohmann::json;

namespace {

const std::string kPrefix = "/api/v1/";

HttpResponse error(const Status& st) {
  HttpResponse r = HttpResponse::json_error(st.http_status(), st.message());
  if (st.code() == Status::Code::kUnauthorized) {
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
  }
  return r;
}

HttpResponse ok_json(const json& j) {
  HttpResponse r = HttpResponse::json_ok(json_text(j));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

HttpResponse method_not_allowed(const std::string& allow) {
  HttpResponse r = HttpResponse::json_error(405, "method not allowed; use " + allow);
  r.headers.emplace_back("Allow", allow);
  return r;
}

// The body as a JSON object, or a 400 saying what is wrong.
Result<json> object_body(const HttpRequest& req) {
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) return Status::invalid("body is not valid JSON");
  if (!body.is_object()) return Status::invalid("body must be a JSON object");
  return body;
}

// body[key] as a string: "" when absent, invalid() when not a string.
Result<std::string> string_field(const json& body, const char* key, bool required) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    if (required) return Status::invalid(std::string("\"") + key + "\" is required");
    return std::string();
  }
  if (!it->is_string()) return Status::invalid(std::string("\"") + key + "\" must be a string");
  return it->get<std::string>();
}

std::string query(const HttpRequest& req, const char* key) {
  auto it = req.query.find(key);
  return it == req.query.end() ? "" : it->second;
}

}  // namespace

ConsoleApi::ConsoleApi(Redis& redis, Accounts& accounts, TicketService& tickets, Clock clock,
                       RateLimit logins_per_address)
    : redis_(redis),
      accounts_(accounts),
      tickets_(tickets),
      clock_(std::move(clock)),
      logins_per_address_(logins_per_address) {}

HttpResponse ConsoleApi::handle(const HttpRequest& req) {
  const std::string rest = req.path.substr(kPrefix.size());
  if (rest == "login") {
    if (req.method != "POST") return method_not_allowed("POST");
    return login(req);
  }
  const std::string& auth = req.header("authorization");
  static const std::string kBearer = "Bearer ";
  if (auth.size() <= kBearer.size() || auth.compare(0, kBearer.size(), kBearer) != 0) {
    return error(Status::unauthorized("sign in first: send Authorization: Bearer TOKEN"));
  }
  const std::string token = auth.substr(kBearer.size());
  auto account = accounts_.authenticate(token, clock_());
  if (!account.ok()) return error(account.status());
  Actor actor{account->login, account->role, account->district};

  if (rest == "logout") {
    if (req.method != "POST") return method_not_allowed("POST");
    Status st = accounts_.logout(token, clock_());
    if (!st.is_ok()) return error(st);
    return ok_json({{"ok", true}});
  }
  if (rest == "me") {
    if (req.method != "GET") return method_not_allowed("GET");
    return ok_json({{"login", actor.login},
                    {"role", actor.role},
                    {"district", actor.district.empty() ? json(nullptr) : json(actor.district)}});
  }
  if (rest == "tickets" || rest.rfind("tickets/", 0) == 0) return tickets(actor, req, rest);
  if (rest == "dead-letters") {
    if (req.method != "GET") return method_not_allowed("GET");
    auto dead = tickets_.dead_letters(actor, 100);
    if (!dead.ok()) return error(dead.status());
    return ok_json({{"dead_letters", dead.value()}});
  }
  return HttpResponse::json_error(404, "no such path: " + req.path);
}

HttpResponse ConsoleApi::login(const HttpRequest& req) {
  auto body = object_body(req);
  if (!body.ok()) return error(body.status());
  auto login = string_field(body.value(), "login", true);
  if (!login.ok()) return error(login.status());
  auto password = string_field(body.value(), "password", true);
  if (!password.ok()) return error(password.status());
  auto allowed = rate_allow(redis_, "login:addr:" + req.remote_addr, logins_per_address_, clock_());
  if (!allowed.ok()) return error(allowed.status());
  if (!allowed.value()) {
    HttpResponse r = HttpResponse::json_error(429, "too many sign-in attempts; wait a minute");
    r.headers.emplace_back("Retry-After", "60");
    return r;
  }
  auto token = accounts_.login(login.value(), password.value(), req.remote_addr, clock_());
  if (!token.ok()) return error(token.status());
  auto account = accounts_.authenticate(token.value(), clock_());
  if (!account.ok()) return error(account.status());
  return ok_json({{"token", token.value()},
                  {"login", account->login},
                  {"role", account->role},
                  {"district", account->district.empty() ? json(nullptr) : json(account->district)}});
}

HttpResponse ConsoleApi::tickets(const Actor& actor, const HttpRequest& req,
                                 const std::string& rest) {
  if (rest == "tickets") {
    if (req.method != "GET") return method_not_allowed("GET");
    TicketQuery q;
    q.district = query(req, "district");
    q.status = query(req, "status");
    q.category = query(req, "category");
    q.priority = query(req, "priority");
    q.cursor = query(req, "cursor");
    if (std::string limit = query(req, "limit"); !limit.empty()) {
      if (limit.size() > 3 || limit.find_first_not_of("0123456789") != std::string::npos) {
        return error(Status::invalid("limit: expected 1 to 200"));
      }
      q.limit = std::stoi(limit);
    }
    auto page = tickets_.list(actor, q);
    if (!page.ok()) return error(page.status());
    return ok_json({{"tickets", page->tickets},
                    {"next_cursor", page->next_cursor.empty() ? json(nullptr)
                                                              : json(page->next_cursor)}});
  }
  // tickets/{id} or tickets/{id}/{action}
  std::string tail = rest.substr(std::string("tickets/").size());
  std::string id = tail;
  std::string action;
  if (auto slash = tail.find('/'); slash != std::string::npos) {
    id = tail.substr(0, slash);
    action = tail.substr(slash + 1);
  }
  if (action.empty()) {
    if (req.method != "GET") return method_not_allowed("GET");
    auto t = tickets_.get(actor, id, true);
    if (!t.ok()) return error(t.status());
    return ok_json(t.value());
  }
  if (action != "reply" && action != "status" && action != "notes") {
    return HttpResponse::json_error(404, "no such path: " + req.path);
  }
  if (req.method != "POST") return method_not_allowed("POST");
  auto body = object_body(req);
  if (!body.ok()) return error(body.status());
  Result<json> result = Status::internal("unreachable");
  if (action == "reply" || action == "notes") {
    auto text = string_field(body.value(), "text", true);
    if (!text.ok()) return error(text.status());
    result = action == "reply" ? tickets_.reply(actor, id, text.value())
                               : tickets_.add_note(actor, id, text.value());
  } else {
    auto status = string_field(body.value(), "status", true);
    if (!status.ok()) return error(status.status());
    auto note = string_field(body.value(), "note", false);
    if (!note.ok()) return error(note.status());
    auto ps = string_field(body.value(), "police_station", false);
    if (!ps.ok()) return error(ps.status());
    result = tickets_.set_status(actor, id, status.value(), note.value(), ps.value());
  }
  if (!result.ok()) return error(result.status());
  return ok_json(result.value());
}

}  // namespace nivaran
