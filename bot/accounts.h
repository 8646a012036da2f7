// Staff accounts and console sign-in: who may log in, with which role and district, and the
// bearer tokens the console API checks on every call.
//
// An account is a hash (keys::staff_user) holding the role, the district and the scrypt hash
// of the password (bot/password.h). A login hands out a random 32-byte token (64 hex digits);
// Redis keeps only its SHA-256 (keys::auth_token), so a copy of the database holds no usable
// token. Tokens expire a fixed time after login (not extended by use), and every check
// re-reads the account, so disabling or deleting an account ends its sessions at once.
//
// Failed logins are counted per login name in a sliding window (keys::login_failures); past the
// limit that name is locked until the window has moved on. Unknown names are counted and
// hashed exactly like real ones, so neither the answer, its timing nor the lock-out tells
// whether an account exists. Every login, failed login, logout and account change is appended
// to the audit stream (keys::audit) — never the password, never the token.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "bot/password.h"
#include "bot/redis.h"
#include "core/status.h"

namespace nivaran {

// One staff member as the console sees them.
struct StaffAccount {
  std::string login;     // 3-64 of [a-z0-9._-], starting with a letter or digit
  std::string role;      // staff, nodal, sp, ig, admin
  std::string district;  // a configured district code for staff, nodal, sp; "" for ig, admin

  bool operator==(const StaffAccount&) const = default;
};

// The roles, least to most privileged.
const std::vector<std::string>& staff_roles();

// True for roles that work one district (staff, nodal, sp); ig and admin cover the range.
bool role_needs_district(const std::string& role);

// invalid() naming the field when the login, role or district break the rules above. A range
// role given a district is refused, not silently widened.
Status check_account(const StaffAccount& account, const std::vector<std::string>& known_districts);

struct AccountOptions {
  std::vector<std::string> known_districts;  // the configured district codes
  ScryptParams scrypt;                       // for new hashes; old ones keep their own
  int64_t token_ttl_s = 12 * 3600;           // config auth.token_ttl_seconds
  int max_failures = 10;                     // failed logins per login name per window...
  int64_t failure_window_s = 15 * 60;        // ...after which the name is locked
};

// Thread-safe: all state is in Redis. Redis trouble yields unavailable().
class Accounts {
 public:
  Accounts(Redis& redis, AccountOptions options);

  // Creates an account. invalid() naming the field for a bad login, role, district or password;
  // refused() (409) when the login is taken. `actor` is who did it, for the audit log
  // ("cli:root", or an admin's login).
  Status add_user(const StaffAccount& account, const std::string& password,
                  const std::string& actor, int64_t now_ms);

  // Checks the password and returns a new bearer token. unauthorized("wrong login or password")
  // for an unknown login, a wrong password and a disabled account alike; rate_limited() (429)
  // while the login name is locked after too many failures. The login is matched
  // case-insensitively (ASCII). `remote_addr` is recorded in the audit log.
  Result<std::string> login(const std::string& login, const std::string& password,
                            const std::string& remote_addr, int64_t now_ms);

  // The account a token belongs to, as it is now (role or district changes apply at once).
  // unauthorized() for a malformed, unknown or expired token and for a disabled or deleted
  // account.
  Result<StaffAccount> authenticate(const std::string& token, int64_t now_ms);

  // Ends the token's session. ok() also when the token was unknown or already expired.
  Status logout(const std::string& token, int64_t now_ms);

  // Disables an account: its tokens stop working and it can no longer log in. not_found()
  // when there is no such account.
  Status disable_user(const std::string& login, const std::string& actor, int64_t now_ms);

  // Every account, by login (disabled ones included, marked by `disabled`).
  struct Listed {
    StaffAccount account;
    bool disabled = false;
    int64_t created_at = 0;
  };
  Result<std::vector<Listed>> list_users();

  const AccountOptions& options() const { return options_; }

 private:
  // Audits one failed attempt, counts it towards the lock when `count`, and returns the
  // answer for it (unauthorized, or unavailable when Redis failed).
  Status fail_login(const std::string& login, const std::string& reason, bool count,
                    const std::string& remote_addr, int64_t now_ms);

  // A hash of a random password, made on first use: verified against for unknown logins so
  // they take as long as real ones.
  const std::string& dummy_hash();

  Redis& redis_;
  AccountOptions options_;
  std::once_flag dummy_once_;
  std::string dummy_hash_;
};

}  // namespace nivaran
