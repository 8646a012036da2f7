// Password hashing for staff accounts: scrypt (memory-hard), a random salt per password, and a
// self-describing encoding so the cost can be raised later without invalidating old hashes.
//
// Encoded form: "scrypt$N$r$p$SALT$HASH" with SALT (16 bytes) and HASH (32 bytes) in standard
// base64. The defaults (N=2^15, r=8, p=1) take 32 MiB and roughly 0.1 s per hash; tests use a
// smaller N. Pure apart from the random salt: tested in bot/password_test.cc.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace nivaran {

struct ScryptParams {
  uint64_t n = 1 << 15;  // CPU/memory cost: a power of two from 2^10 to 2^20
  uint32_t r = 8;        // block size
  uint32_t p = 1;        // parallelism
};

// Passwords are 8 to 256 bytes of UTF-8, at least 8 characters (code points), and no control
// characters. invalid() says which rule failed, starting "password: ".
Status check_password_rules(const std::string& password);

// A fresh salt and the scrypt hash of `password`, encoded as above. internal() only when
// OpenSSL fails (out of memory, no randomness).
Result<std::string> hash_password(const std::string& password, const ScryptParams& params);

// True when `password` matches `encoded` (compared in constant time). False for a malformed
// encoding or parameters outside the allowed range, so a damaged record never matches and
// never makes us allocate unbounded memory.
bool verify_password(const std::string& password, const std::string& encoded);

}  // namespace nivaran
