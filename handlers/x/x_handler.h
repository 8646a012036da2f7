// X (Twitter): Account Activity webhooks in, X API v2 direct messages and replies out.
//
// Serves direct messages to the bot's account, and public posts that mention it (kind
// "mention", answered by a short public reply). The bot's own DMs and posts, retweets and every
// other activity (likes, follows, typing, read marks) parse to no messages. Fixtures of real
// webhook bodies are in testdata/, driven by x_handler_test.cc.
#pragma once

#include <functional>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "handlers/handler.h"
#include "handlers/x/oauth1.h"

namespace nivaran::x {

class XHandler : public Handler {
 public:
  // Builds a handler from the platforms.x block {"consumer_secret", "consumer_key",
  // "access_token", "access_token_secret" | "bearer_token", "api_base", "bot_user_id",
  // "handle"}. consumer_secret (the app's API key secret) checks webhooks. Replies are sent as
  // the bot's account with either OAuth 1.0a (consumer_key with the account's access_token and
  // access_token_secret: recommended, they do not expire) or bearer_token, a user-context OAuth
  // 2.0 token (dm.write, tweet.write), which X expires after two hours unless something outside
  // refreshes it; app-only tokens cannot send DMs. bot_user_id (the account's numeric id) and
  // handle ("bareillypolice", with or without '@') are optional; without bot_user_id the
  // payload's for_user_id identifies the bot. Returns invalid() naming the field when the block
  // is unusable; api_base defaults to https://api.x.com.
  static Result<std::shared_ptr<XHandler>> create(const nlohmann::json& block);

  const std::string& platform() const override;

  // The Challenge-Response Check: GET ?crc_token=T answers 200 {"response_token": "sha256=" +
  // base64(HMAC-SHA256(T, consumer_secret))}; a GET without crc_token is 400. nullopt for any
  // other method.
  std::optional<HttpResponse> handshake(const HttpRequest& req) const override;

  // Checks x-twitter-webhooks-signature ("sha256=" + base64 HMAC-SHA256 of the raw body, keyed
  // with consumer_secret) in constant time. Missing or wrong is unauthorized().
  Status verify(const HttpRequest& req) const override;

  // One message per direct_message_events[] message_create from a citizen, and one kind
  // "mention" message per tweet_create_events[] post naming the bot (not by the bot, not a
  // retweet, not from an account the bot blocked). Everything else yields nothing.
  Result<std::vector<InboundMessage>> parse(const HttpRequest& req) const override;

  // A private reply: one POST /2/dm_conversations/with/{chat_id}/messages per 10,000 UTF-16
  // units, options as a numbered list (v2 has no quick replies). kind "mention": one POST
  // /2/tweets replying to the post chat_id, cut to 280 weighted characters with an ellipsis.
  std::vector<ApiCall> render(const OutboundMessage& msg) const override;

  // 2xx sent; 429 retries after Retry-After, else x-rate-limit-reset less the response's Date,
  // else 60 s; 5xx and no answer retry with backoff; other 4xx (403 DMs closed, 400, 401, 404)
  // are permanent with the API's detail.
  SendOutcome classify(const ApiResponse& resp) const override;

  // Tests: the clock (seconds) and nonce OAuth 1.0a signatures use.
  void set_oauth1_clock(std::function<int64_t()> seconds, std::function<std::string()> nonce) {
    oauth1_seconds_ = std::move(seconds);
    oauth1_nonce_ = std::move(nonce);
  }

 private:
  XHandler(std::string consumer_secret, OAuth1Credentials oauth1, std::string bearer_token,
           std::string api_base, std::string bot_user_id, std::string handle);

  std::vector<ApiCall> render_dm(const OutboundMessage& msg) const;
  std::vector<ApiCall> render_mention_reply(const OutboundMessage& msg) const;
  ApiCall post_json(std::string url, const nlohmann::json& body) const;

  std::string consumer_secret_;
  OAuth1Credentials oauth1_;  // empty: bearer_token_
  std::string bearer_token_;
  std::function<int64_t()> oauth1_seconds_;
  std::function<std::string()> oauth1_nonce_;
  std::string api_base_;     // without a trailing '/'
  std::string bot_user_id_;  // "" when not configured
  std::string handle_;       // lower-case, without '@'; "" when not configured
};

}  // namespace nivaran::x
