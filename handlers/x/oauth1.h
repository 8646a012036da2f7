// OAuth 1.0a request signing (RFC 5849, HMAC-SHA1), the user-context credential X accepts for
// sending direct messages. Unlike an OAuth 2.0 user access token, which X expires after two
// hours, a 1.0a access token and secret stay valid until the account revokes them: the right
// credential for a bot that must keep answering without anyone refreshing a token.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nivaran::x {

struct OAuth1Credentials {
  std::string consumer_key;     // the app's API key
  std::string consumer_secret;  // the app's API key secret
  std::string token;            // the bot account's access token
  std::string token_secret;     // the bot account's access token secret

  bool empty() const { return consumer_key.empty(); }
};

using Params = std::vector<std::pair<std::string, std::string>>;

// Percent-encoding as RFC 5849 section 3.6 requires: every byte but A-Z a-z 0-9 - . _ ~, in
// upper-case hex. Also what makes any string safe as one URL path segment.
std::string percent_encode(std::string_view s);

// The signature base string: METHOD & encoded URL (scheme, host, path; no query) & the encoded,
// sorted parameters (the request's query and form parameters plus the oauth_* ones).
std::string oauth1_base_string(const std::string& method, const std::string& url, Params params);

// base64(HMAC-SHA1(base string, encoded consumer secret & encoded token secret)).
std::string oauth1_signature(const std::string& method, const std::string& url,
                             const Params& params, const std::string& consumer_secret,
                             const std::string& token_secret);

// The Authorization header's value ("OAuth oauth_consumer_key=\"...\", ...") for a request whose
// own query and form parameters are `request_params` (none for a JSON body).
std::string oauth1_header(const OAuth1Credentials& c, const std::string& method,
                          const std::string& url, const Params& request_params,
                          const std::string& nonce, int64_t timestamp);

// A fresh nonce: 32 random letters and digits.
std::string oauth1_nonce();

}  // namespace nivaran::x
