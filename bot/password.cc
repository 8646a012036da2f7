#include "bot/password.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <charconv>
#include <vector>

namespace nivaran {

namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;
constexpr size_t kMinPasswordChars = 8;
constexpr size_t kMaxPasswordBytes = 256;
constexpr uint64_t kMaxScryptMemory = 256ull << 20;  // what a stored record may ask of us

bool params_allowed(const ScryptParams& s) {
  bool power_of_two = s.n >= 2 && (s.n & (s.n - 1)) == 0;
  return power_of_two && s.n >= 1024 && s.n <= (1u << 20) && s.r >= 1 && s.r <= 32 && s.p >= 1 &&
         s.p <= 16 && 128ull * s.r * s.n <= kMaxScryptMemory;
}

std::string base64(const unsigned char* data, size_t n) {
  std::string out(4 * ((n + 2) / 3), '\0');
  int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(len < 0 ? 0 : static_cast<size_t>(len));
  return out;
}

// Standard base64 with padding; false for anything else.
bool unbase64(const std::string& text, std::vector<unsigned char>& out) {
  if (text.empty() || text.size() % 4 != 0 || text.size() > 1024) return false;
  out.assign(text.size() / 4 * 3, 0);
  int len = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                            static_cast<int>(text.size()));
  if (len < 0) return false;
  size_t pad = text.back() == '=' ? (text[text.size() - 2] == '=' ? 2 : 1) : 0;
  out.resize(static_cast<size_t>(len) - pad);
  return true;
}

bool scrypt(const std::string& password, const unsigned char* salt, size_t salt_len,
            const ScryptParams& s, unsigned char* out, size_t out_len) {
  // OpenSSL needs 128·r·(N+2) bytes for V and 128·r·p for B; its default cap is 32 MiB.
  uint64_t maxmem = 128ull * s.r * (s.n + 2) + 128ull * s.r * s.p + (64u << 10);
  return EVP_PBE_scrypt(password.data(), password.size(), salt, salt_len, s.n, s.r, s.p, maxmem,
                        out, out_len) == 1;
}

template <typename Int>
bool parse_number(const std::string& text, Int& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

}  // namespace

Status check_password_rules(const std::string& password) {
  if (password.empty()) return Status::invalid("password: empty");
  if (password.size() > kMaxPasswordBytes) {
    return Status::invalid("password: longer than " + std::to_string(kMaxPasswordBytes) + " bytes");
  }
  size_t chars = 0;
  for (unsigned char c : password) {
    if (c < 0x20 || c == 0x7f) return Status::invalid("password: contains a control character");
    if ((c & 0xC0) != 0x80) ++chars;  // count UTF-8 lead bytes: one per character
  }
  if (chars < kMinPasswordChars) {
    return Status::invalid("password: at least " + std::to_string(kMinPasswordChars) +
                           " characters");
  }
  return Status::ok();
}

Result<std::string> hash_password(const std::string& password, const ScryptParams& params) {
  if (!params_allowed(params)) {
    return Status::internal("scrypt parameters out of range (N a power of two 2^10..2^20)");
  }
  unsigned char salt[kSaltBytes];
  unsigned char hash[kHashBytes];
  if (RAND_bytes(salt, sizeof salt) != 1) return Status::internal("no randomness for a salt");
  if (!scrypt(password, salt, sizeof salt, params, hash, sizeof hash)) {
    return Status::internal("scrypt failed (out of memory?)");
  }
  std::string encoded = "scrypt$" + std::to_string(params.n) + "$" + std::to_string(params.r) +
                        "$" + std::to_string(params.p) + "$" + base64(salt, sizeof salt) + "$" +
                        base64(hash, sizeof hash);
  OPENSSL_cleanse(hash, sizeof hash);
  return encoded;
}

bool verify_password(const std::string& password, const std::string& encoded) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (parts.size() < 7) {
    size_t end = encoded.find('$', start);
    parts.push_back(encoded.substr(start, end == std::string::npos ? end : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (parts.size() != 6 || parts[0] != "scrypt") return false;
  ScryptParams s;
  if (!parse_number(parts[1], s.n) || !parse_number(parts[2], s.r) ||
      !parse_number(parts[3], s.p) || !params_allowed(s)) {
    return false;
  }
  std::vector<unsigned char> salt, expected;
  if (!unbase64(parts[4], salt) || !unbase64(parts[5], expected)) return false;
  if (salt.size() < 8 || expected.size() < 16 || expected.size() > 64) return false;
  std::vector<unsigned char> actual(expected.size());
  if (!scrypt(password, salt.data(), salt.size(), s, actual.data(), actual.size())) return false;
  bool same = CRYPTO_memcmp(actual.data(), expected.data(), actual.size()) == 0;
  OPENSSL_cleanse(actual.data(), actual.size());
  return same;
}

}  // namespace nivaran
