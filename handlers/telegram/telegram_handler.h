// Telegram Bot API: webhook Updates in, sendMessage calls out.
//
// Serves private chats only: group, channel and membership updates parse to no messages.
// Fixtures of real Updates are in testdata/, driven by telegram_handler_test.cc.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "handlers/handler.h"

namespace nivaran::telegram {

class TelegramHandler : public Handler {
 public:
  // Builds a handler from the platforms.telegram block {"token", "secret_token", "api_base"}.
  // Returns invalid() naming the field when the block is unusable; api_base defaults to
  // https://api.telegram.org when absent.
  static Result<std::shared_ptr<TelegramHandler>> create(const nlohmann::json& block);

  const std::string& platform() const override;

  // Checks the X-Telegram-Bot-Api-Secret-Token header against secret_token in constant time;
  // always ok when no secret is configured.
  Status verify(const HttpRequest& req) const override;

  // One message for a private-chat `message` or `callback_query`; none for any other update.
  Result<std::vector<InboundMessage>> parse(const HttpRequest& req) const override;

  // answerCallbackQuery when msg.callback_id is set, then one sendMessage per 4096 UTF-16 units
  // of text (split at line ends); options become a numbered list plus an inline keyboard.
  std::vector<ApiCall> render(const OutboundMessage& msg) const override;

  // 2xx sent; 429, 5xx and no answer retry; other errors permanent. An expired callback query
  // counts as sent (see the .cc).
  SendOutcome classify(const ApiResponse& resp) const override;

 private:
  TelegramHandler(std::string token, std::string secret_token, std::string api_base);

  std::string method_url(const char* method) const;

  std::string token_;
  std::string secret_token_;
  std::string api_base_;  // without a trailing '/'
};

}  // namespace nivaran::telegram
