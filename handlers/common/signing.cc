#include "handlers/common/signing.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <string_view>

namespace nivaran::handlers {

namespace {
// Meta sends a number; anything longer or not plain printable text is not its challenge, and is
// never echoed (a browser could render it).
constexpr size_t kMaxChallengeBytes = 256;
constexpr std::string_view kSignaturePrefix = "sha256=";
}  // namespace

namespace {

std::string hmac(const EVP_MD* md, const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(md, key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len))
    return "";
  return std::string(reinterpret_cast<const char*>(mac), len);
}

}  // namespace

std::string hmac_sha256(const std::string& key, const std::string& data) {
  return hmac(EVP_sha256(), key, data);
}

std::string hmac_sha1(const std::string& key, const std::string& data) {
  return hmac(EVP_sha1(), key, data);
}

std::string to_hex(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * bytes.size());
  for (unsigned char c : bytes) {
    hex += kHex[c >> 4];
    hex += kHex[c & 0xF];
  }
  return hex;
}

std::string to_base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

bool constant_time_equal(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<HttpResponse> meta_hub_handshake(const HttpRequest& req,
                                               const std::string& verify_token) {
  if (req.method != "GET") return std::nullopt;
  auto param = [&req](const char* name) -> const std::string* {
    auto it = req.query.find(name);
    return it == req.query.end() ? nullptr : &it->second;
  };
  const std::string* mode = param("hub.mode");
  const std::string* token = param("hub.verify_token");
  const std::string* challenge = param("hub.challenge");
  if (!mode && !token && !challenge) {
    return HttpResponse::json_error(
        400, "not a webhook verification: expected hub.mode, hub.verify_token and hub.challenge");
  }
  if (!mode || *mode != "subscribe") {
    return HttpResponse::json_error(400, "hub.mode: expected \"subscribe\"");
  }
  if (!token || !constant_time_equal(*token, verify_token)) {
    return HttpResponse::json_error(403, "hub.verify_token does not match verify_token");
  }
  if (!challenge || challenge->empty() || challenge->size() > kMaxChallengeBytes ||
      !std::all_of(challenge->begin(), challenge->end(),
                   [](unsigned char c) { return c > 0x20 && c < 0x7f; })) {
    return HttpResponse::json_error(400,
                                    "hub.challenge: expected 1 to 256 printable ASCII characters");
  }
  HttpResponse r;
  r.status = 200;
  r.content_type = "text/plain";
  r.body = *challenge;
  return r;
}

Status verify_hub_signature(const HttpRequest& req, const std::string& app_secret) {
  const std::string& header = req.header("x-hub-signature-256");
  if (header.empty()) return Status::unauthorized("missing X-Hub-Signature-256 header");
  std::string_view given(header);
  const bool well_formed =
      given.starts_with(kSignaturePrefix) && given.size() == kSignaturePrefix.size() + 64 &&
      std::all_of(given.begin() + kSignaturePrefix.size(), given.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      });
  if (!well_formed) {
    return Status::unauthorized("X-Hub-Signature-256: expected sha256= and 64 hex digits");
  }
  const std::string mac = hmac_sha256(app_secret, req.body);
  if (mac.empty()) return Status::unauthorized("X-Hub-Signature-256 could not be checked");
  if (!constant_time_equal(lower_ascii(std::string(given.substr(kSignaturePrefix.size()))),
                           to_hex(mac))) {
    return Status::unauthorized(
        "X-Hub-Signature-256 does not match the body signed with app_secret");
  }
  return Status::ok();
}

}  // namespace nivaran::handlers
