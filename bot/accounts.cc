#include "bot/accounts.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "bot/keys.h"
#include "core/http.h"
#include "core/message.h"

namespace nivaran {

using nlohmann::json;

namespace {

const char* kWrongCredentials = "wrong login or password";
const char* kBadToken = "unknown or expired token; log in again";

// Creates an account unless the login is taken. KEYS: 1 account, 2 account index, 3 audit.
// ARGV: login, role, district, password hash, created_at, audit entry.
const RedisScript kAddUser(R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then return 'EXISTS' end
redis.call('HSET', KEYS[1], 'login', ARGV[1], 'role', ARGV[2], 'district', ARGV[3],
           'password', ARGV[4], 'created_at', ARGV[5], 'disabled', '0')
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('XADD', KEYS[3], '*', 'e', ARGV[6])
return 'OK'
)lua");

// Marks an account disabled. KEYS: 1 account, 2 audit. ARGV: audit entry.
const RedisScript kDisableUser(R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return 'MISSING' end
redis.call('HSET', KEYS[1], 'disabled', '1')
redis.call('XADD', KEYS[2], '*', 'e', ARGV[1])
return 'OK'
)lua");

bool valid_login(const std::string& login) {
  if (login.size() < 3 || login.size() > 64) return false;
  for (char c : login) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return login[0] != '.' && login[0] != '_' && login[0] != '-';
}

std::string hex(const unsigned char* data, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 0xF];
  }
  return out;
}

std::string sha256_hex(const std::string& text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr);
  return hex(md, len);
}

Result<std::string> random_hex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(bytes)) != 1) {
    return Status::internal("no randomness available");
  }
  return hex(buf.data(), bytes);
}

bool valid_token(const std::string& token) {
  return token.size() == 64 && std::all_of(token.begin(), token.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::map<std::string, std::string> as_map(const RedisValue& v) {
  std::map<std::string, std::string> m;
  for (size_t i = 0; i + 1 < v.elements.size(); i += 2) {
    m[v.elements[i].str] = v.elements[i + 1].str;
  }
  return m;
}

std::string field(const std::map<std::string, std::string>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? std::string() : it->second;
}

int64_t to_int64(const std::string& s) {
  try {
    return std::stoll(s);
  } catch (...) {
    return 0;
  }
}

// The first Redis error among `replies` as unavailable(), or ok().
Status redis_errors(const std::vector<RedisValue>& replies) {
  for (const auto& r : replies) {
    if (r.is_error()) return Status::unavailable("Redis: " + r.str);
  }
  return Status::ok();
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

const std::vector<std::string>& staff_roles() {
  static const std::vector<std::string> kRoles = {"staff", "nodal", "sp", "ig", "admin"};
  return kRoles;
}

bool role_needs_district(const std::string& role) {
  return role == "staff" || role == "nodal" || role == "sp";
}

Status check_account(const StaffAccount& a, const std::vector<std::string>& known_districts) {
  if (!valid_login(a.login)) {
    return Status::invalid("login: '" + a.login +
                           "' must be 3 to 64 of a-z, 0-9, '.', '_', '-' (lower case), starting "
                           "with a letter or digit");
  }
  const auto& roles = staff_roles();
  if (std::find(roles.begin(), roles.end(), a.role) == roles.end()) {
    return Status::invalid("role: '" + a.role + "' is not one of " + join(roles));
  }
  if (role_needs_district(a.role)) {
    if (a.district.empty()) {
      return Status::invalid("district: role " + a.role + " works one district; give one of " +
                             join(known_districts));
    }
    if (std::find(known_districts.begin(), known_districts.end(), a.district) ==
        known_districts.end()) {
      return Status::invalid("district: '" + a.district + "' is not a configured district (" +
                             join(known_districts) + ")");
    }
  } else if (!a.district.empty()) {
    return Status::invalid("district: role " + a.role +
                           " covers the whole range and takes no district");
  }
  return Status::ok();
}

Accounts::Accounts(Redis& redis, AccountOptions options)
    : redis_(redis), options_(std::move(options)) {}

const std::string& Accounts::dummy_hash() {
  std::call_once(dummy_once_, [this] {
    auto secret = random_hex(16);
    if (!secret.ok()) return;
    auto dummy = hash_password(secret.value(), options_.scrypt);
    if (dummy.ok()) dummy_hash_ = dummy.value();
  });
  return dummy_hash_;
}

Status Accounts::add_user(const StaffAccount& account, const std::string& password,
                          const std::string& actor, int64_t now_ms) {
  if (Status st = check_account(account, options_.known_districts); !st.is_ok()) return st;
  if (Status st = check_password_rules(password); !st.is_ok()) return st;
  if (password == account.login) return Status::invalid("password: must not be the login");
  auto hashed = hash_password(password, options_.scrypt);
  if (!hashed.ok()) return hashed.status();

  std::string audit = json_text({{"at", now_ms},
                                 {"actor", actor},
                                 {"action", "user_add"},
                                 {"login", account.login},
                                 {"role", account.role},
                                 {"district", account.district}});
  auto r =
      redis_.eval(kAddUser, {keys::staff_user(account.login), keys::staff_index(), keys::audit()},
                  {account.login, account.role, account.district, hashed.value(),
                   std::to_string(now_ms), audit});
  if (!r.ok()) return r.status();
  if (r->is_error()) return Status::unavailable("Redis: " + r->str);
  if (r->str == "EXISTS") return Status::refused("login: '" + account.login + "' already exists");
  return Status::ok();
}

Status Accounts::fail_login(const std::string& login, const std::string& reason, bool count,
                            const std::string& remote_addr, int64_t now_ms) {
  std::vector<std::vector<std::string>> cmds;
  if (count) {
    const std::string key = keys::login_failures(login);
    const int64_t window_ms = options_.failure_window_s * 1000;
    auto nonce = random_hex(4);
    cmds.push_back({"ZADD", key, std::to_string(now_ms),
                    std::to_string(now_ms) + ":" + (nonce.ok() ? nonce.value() : "0")});
    cmds.push_back({"ZREMRANGEBYSCORE", key, "-inf", std::to_string(now_ms - window_ms)});
    cmds.push_back({"PEXPIRE", key, std::to_string(window_ms)});
  }
  cmds.push_back({"XADD", keys::audit(), "*", "e",
                  json_text({{"at", now_ms},
                             {"actor", login},
                             {"action", "login_failed"},
                             {"reason", reason},
                             {"addr", remote_addr}})});
  auto r = redis_.pipeline(cmds);
  if (!r.ok()) return r.status();
  if (Status st = redis_errors(r.value()); !st.is_ok()) return st;
  return Status::unauthorized(kWrongCredentials);
}

Result<std::string> Accounts::login(const std::string& login_given, const std::string& password,
                                    const std::string& remote_addr, int64_t now_ms) {
  const std::string login = lower_ascii(login_given);
  // A name that can never be an account: nothing to count; the rules are public anyway.
  if (!valid_login(login)) return fail_login("", "malformed_login", false, remote_addr, now_ms);

  const int64_t window_ms = options_.failure_window_s * 1000;
  auto r = redis_.pipeline(
      {{"ZCOUNT", keys::login_failures(login), "(" + std::to_string(now_ms - window_ms), "+inf"},
       {"HGETALL", keys::staff_user(login)}});
  if (!r.ok()) return r.status();
  if (Status st = redis_errors(r.value()); !st.is_ok()) return st;
  if (r.value()[0].integer >= options_.max_failures) {
    // Audited but not counted, so the lock ends on time however long the guessing goes on.
    if (Status st = fail_login(login, "locked", false, remote_addr, now_ms);
        st.code() == Status::Code::kUnavailable) {
      return st;
    }
    return Status::rate_limited("too many failed logins for '" + login + "'; wait up to " +
                                std::to_string(options_.failure_window_s / 60) +
                                " minutes and try again");
  }
  const auto user = as_map(r.value()[1]);
  // Every path below hashes once, so an unknown login takes as long as a wrong password.
  if (password.empty() || password.size() > 1024) {
    verify_password("", dummy_hash());
    return fail_login(login, "bad_password", true, remote_addr, now_ms);
  }
  if (user.empty()) {
    verify_password(password, dummy_hash());
    return fail_login(login, "unknown_login", true, remote_addr, now_ms);
  }
  bool matches = verify_password(password, field(user, "password"));
  if (!matches) return fail_login(login, "wrong_password", true, remote_addr, now_ms);
  if (field(user, "disabled") == "1") {
    return fail_login(login, "disabled", true, remote_addr, now_ms);
  }

  auto token = random_hex(32);
  if (!token.ok()) return token.status();
  const std::string digest = sha256_hex(token.value());
  const std::string token_key = keys::auth_token(digest);
  const int64_t ttl_ms = options_.token_ttl_s * 1000;
  const std::string audit = json_text({{"at", now_ms},
                                       {"actor", login},
                                       {"role", field(user, "role")},
                                       {"action", "login"},
                                       {"addr", remote_addr},
                                       {"session", digest.substr(0, 12)}});
  auto w =
      redis_.pipeline({{"HSET", token_key, "login", login, "created_at", std::to_string(now_ms),
                        "expires_at", std::to_string(now_ms + ttl_ms), "addr", remote_addr},
                       {"PEXPIRE", token_key, std::to_string(ttl_ms)},
                       {"DEL", keys::login_failures(login)},
                       {"XADD", keys::audit(), "*", "e", audit}});
  if (!w.ok()) return w.status();
  if (Status st = redis_errors(w.value()); !st.is_ok()) return st;
  return token.value();
}

Result<StaffAccount> Accounts::authenticate(const std::string& token, int64_t now_ms) {
  if (!valid_token(token)) return Status::unauthorized(kBadToken);
  auto t = redis_.command({"HGETALL", keys::auth_token(sha256_hex(token))});
  if (!t.ok()) return t.status();
  if (t->is_error()) return Status::unavailable("Redis: " + t->str);
  const auto session = as_map(t.value());
  const std::string login = field(session, "login");
  if (login.empty() || now_ms >= to_int64(field(session, "expires_at"))) {
    return Status::unauthorized(kBadToken);
  }
  auto u = redis_.command({"HGETALL", keys::staff_user(login)});
  if (!u.ok()) return u.status();
  if (u->is_error()) return Status::unavailable("Redis: " + u->str);
  const auto user = as_map(u.value());
  if (user.empty() || field(user, "disabled") == "1") {
    return Status::unauthorized("account '" + login + "' is no longer active");
  }
  return StaffAccount{login, field(user, "role"), field(user, "district")};
}

Status Accounts::logout(const std::string& token, int64_t now_ms) {
  if (!valid_token(token)) return Status::ok();
  const std::string digest = sha256_hex(token);
  auto r = redis_.pipeline(
      {{"HGET", keys::auth_token(digest), "login"}, {"DEL", keys::auth_token(digest)}});
  if (!r.ok()) return r.status();
  if (Status st = redis_errors(r.value()); !st.is_ok()) return st;
  const std::string login = r.value()[0].str;
  if (login.empty()) return Status::ok();
  auto a = redis_.command({"XADD", keys::audit(), "*", "e",
                           json_text({{"at", now_ms},
                                      {"actor", login},
                                      {"action", "logout"},
                                      {"session", digest.substr(0, 12)}})});
  if (!a.ok()) return a.status();
  if (a->is_error()) return Status::unavailable("Redis: " + a->str);
  return Status::ok();
}

Status Accounts::disable_user(const std::string& login, const std::string& actor, int64_t now_ms) {
  if (!valid_login(login)) return Status::not_found("no account '" + login + "'");
  std::string audit =
      json_text({{"at", now_ms}, {"actor", actor}, {"action", "user_disable"}, {"login", login}});
  auto r = redis_.eval(kDisableUser, {keys::staff_user(login), keys::audit()}, {audit});
  if (!r.ok()) return r.status();
  if (r->is_error()) return Status::unavailable("Redis: " + r->str);
  if (r->str == "MISSING") return Status::not_found("no account '" + login + "'");
  return Status::ok();
}

Result<std::vector<Accounts::Listed>> Accounts::list_users() {
  auto m = redis_.command({"SMEMBERS", keys::staff_index()});
  if (!m.ok()) return m.status();
  if (m->is_error()) return Status::unavailable("Redis: " + m->str);
  std::vector<std::string> logins;
  for (const auto& e : m->elements) logins.push_back(e.str);
  std::sort(logins.begin(), logins.end());
  std::vector<Listed> out;
  if (logins.empty()) return out;
  std::vector<std::vector<std::string>> cmds;
  for (const auto& l : logins) {
    cmds.push_back({"HMGET", keys::staff_user(l), "role", "district", "disabled", "created_at"});
  }
  auto r = redis_.pipeline(cmds);
  if (!r.ok()) return r.status();
  if (Status st = redis_errors(r.value()); !st.is_ok()) return st;
  for (size_t i = 0; i < logins.size(); ++i) {
    const auto& f = r.value()[i].elements;
    if (f.size() != 4 || f[0].is_nil()) continue;  // index entry of a deleted account
    out.push_back(
        Listed{StaffAccount{logins[i], f[0].str, f[1].str}, f[2].str == "1", to_int64(f[3].str)});
  }
  return out;
}

}  // namespace nivaran
