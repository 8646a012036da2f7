// Webhook signing shared by the platforms: HMAC-SHA256 and a comparison that takes the same time
// wherever the strings differ. Meta's two webhook conventions (WhatsApp and Messenger are the
// same app platform): the hub.challenge subscription handshake and X-Hub-Signature-256.
#pragma once

#include <optional>
#include <string>

#include "core/http.h"
#include "core/status.h"

namespace nivaran::handlers {

// HMAC-SHA256 of `data` under `key`: 32 raw bytes.
std::string hmac_sha256(const std::string& key, const std::string& data);
// HMAC-SHA1: 20 raw bytes (OAuth 1.0a request signing).
std::string hmac_sha1(const std::string& key, const std::string& data);

// The same bytes as lower-case hex, and as standard base64.
std::string to_hex(const std::string& bytes);
std::string to_base64(const std::string& bytes);

// a == b, in time that does not depend on where they differ (CRYPTO_memcmp).
bool constant_time_equal(const std::string& a, const std::string& b);

// Meta's subscription handshake: GET ?hub.mode=subscribe&hub.verify_token=...&hub.challenge=...
// answered with the challenge as plain text when the token matches (403 when it does not, 400
// for anything else malformed); nullopt for a request that is not a GET.
std::optional<HttpResponse> meta_hub_handshake(const HttpRequest& req,
                                               const std::string& verify_token);

// X-Hub-Signature-256: "sha256=" + hex HMAC-SHA256 of the raw body under the app secret.
Status verify_hub_signature(const HttpRequest& req, const std::string& app_secret);

}  // namespace nivaran::handlers
