#include "handlers/x/oauth1.h"

#include <openssl/rand.h>

#include <algorithm>
#include <random>

#include "handlers/common/signing.h"

namespace nivaran::x {

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string oauth1_base_string(const std::string& method, const std::string& url, Params params) {
  for (auto& [k, v] : params) {
    k = percent_encode(k);
    v = percent_encode(v);
  }
  std::sort(params.begin(), params.end());  // by encoded name, then encoded value
  std::string joined;
  for (const auto& [k, v] : params) {
    if (!joined.empty()) joined += '&';
    joined += k + "=" + v;
  }
  return method + "&" + percent_encode(url) + "&" + percent_encode(joined);
}

std::string oauth1_signature(const std::string& method, const std::string& url,
                             const Params& params, const std::string& consumer_secret,
                             const std::string& token_secret) {
  const std::string key =
      percent_encode(consumer_secret) + "&" + percent_encode(token_secret);
  return handlers::to_base64(handlers::hmac_sha1(key, oauth1_base_string(method, url, params)));
}

std::string oauth1_header(const OAuth1Credentials& c, const std::string& method,
                          const std::string& url, const Params& request_params,
                          const std::string& nonce, int64_t timestamp) {
  Params oauth = {{"oauth_consumer_key", c.consumer_key},
                  {"oauth_nonce", nonce},
                  {"oauth_signature_method", "HMAC-SHA1"},
                  {"oauth_timestamp", std::to_string(timestamp)},
                  {"oauth_token", c.token},
                  {"oauth_version", "1.0"}};
  Params all = request_params;
  all.insert(all.end(), oauth.begin(), oauth.end());
  oauth.emplace_back("oauth_signature",
                     oauth1_signature(method, url, all, c.consumer_secret, c.token_secret));
  std::sort(oauth.begin(), oauth.end());
  std::string header = "OAuth ";
  for (size_t i = 0; i < oauth.size(); ++i) {
    if (i > 0) header += ", ";
    header += percent_encode(oauth[i].first) + "=\"" + percent_encode(oauth[i].second) +
              "\"";
  }
  return header;
}

std::string oauth1_nonce() {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    std::random_device rd;
    for (auto& b : bytes) b = static_cast<unsigned char>(rd());
  }
  std::string out;
  for (unsigned char b : bytes) out += kAlphabet[b % (sizeof kAlphabet - 1)];
  return out;
}

}  // namespace nivaran::x
