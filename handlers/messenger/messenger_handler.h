// Facebook Messenger Platform: page webhooks in, Send API calls out.
//
// Serves a Page's one-to-one conversations: messages, quick-reply taps, postbacks and delivery /
// read receipts. Echoes of the Page's own messages, standby (handover) events, reactions and
// edits parse to no messages. Fixtures of real webhook bodies are in testdata/, driven by
// messenger_handler_test.cc.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "handlers/handler.h"

namespace nivaran::messenger {

class MessengerHandler : public Handler {
 public:
  // Builds a handler from the platforms.messenger block {"verify_token", "app_secret",
  // "page_access_token", "api_base"}. Returns invalid() naming the field when the block is
  // unusable; api_base defaults to https://graph.facebook.com/v21.0 when absent.
  static Result<std::shared_ptr<MessengerHandler>> create(const nlohmann::json& block);

  const std::string& platform() const override;

  // The webhook subscription check: GET hub.mode=subscribe&hub.verify_token=...&hub.challenge=...
  // answers 200 text/plain with the challenge when the token matches (compared in constant time),
  // 403 when it does not, 400 when the parameters are missing. nullopt for any other method.
  std::optional<HttpResponse> handshake(const HttpRequest& req) const override;

  // Checks X-Hub-Signature-256 ("sha256=" + hex HMAC-SHA256 of the raw body, keyed with
  // app_secret) in constant time. Missing, malformed or wrong is unauthorized().
  Status verify(const HttpRequest& req) const override;

  // One message per `entry[].messaging[]` event from a citizen: a message (text, quick reply,
  // attachments), a postback, or a delivery / read receipt (kind "receipt"). Echoes and other
  // events yield nothing.
  Result<std::vector<InboundMessage>> parse(const HttpRequest& req) const override;

  // One Send API call per 2000 UTF-16 units of text (split at line ends), each with messaging_type
  // RESPONSE. Options are always a numbered list in the text, and also quick replies on the last
  // call when there are at most 13 (see the .cc for titles over 20 characters).
  std::vector<ApiCall> render(const OutboundMessage& msg) const override;

  // 2xx sent; 429, Graph rate-limit codes (4, 17, 32, 613) and temporary failures (2, 1200)
  // retry; 5xx and no answer retry with backoff; everything else (551 person unavailable, 10 /
  // 2xx permissions, 190 token, 100 bad parameter) is permanent with the API's message.
  SendOutcome classify(const ApiResponse& resp) const override;

 private:
  MessengerHandler(std::string verify_token, std::string app_secret, std::string page_access_token,
                   std::string api_base);

  std::string verify_token_;
  std::string app_secret_;
  std::string page_access_token_;
  std::string api_base_;  // without a trailing '/'
};

}  // namespace nivaran::messenger
