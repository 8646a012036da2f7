// make_handler: the one place that maps a platform name to its handler. A new platform is a new
// folder plus one line here.
#include "handlers/handler.h"
#include "handlers/telegram/telegram_handler.h"
#include "handlers/whatsapp/whatsapp_handler.h"
#include "handlers/messenger/messenger_handler.h"
#include "handlers/x/x_handler.h"

namespace nivaran {

Result<std::shared_ptr<Handler>> make_handler(const std::string& platform,
                                              const nlohmann::json& block) {
  if (platform == "telegram") {
    auto h = telegram::TelegramHandler::create(block);
    if (!h.ok()) return h.status();
    return std::shared_ptr<Handler>(std::move(h).value());
  }
  if (platform == "whatsapp") {
    auto h = whatsapp::WhatsAppHandler::create(block);
    if (!h.ok()) return h.status();
    return std::shared_ptr<Handler>(std::move(h).value());
  }
  if (platform == "messenger") {
    auto h = messenger::MessengerHandler::create(block);
    if (!h.ok()) return h.status();
    return std::shared_ptr<Handler>(std::move(h).value());
  }
  if (platform == "x") {
    auto h = x::XHandler::create(block);
    if (!h.ok()) return h.status();
    return std::shared_ptr<Handler>(std::move(h).value());
  }
  return Status::not_found("unknown platform \"" + platform + "\"");
}

}  // namespace nivaran
