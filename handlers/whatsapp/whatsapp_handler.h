// WhatsApp Cloud API: hub.challenge handshake and signed webhooks in, /messages calls out.
//
// Serves one-to-one chats with one business phone number. Fixtures of real webhook payloads are
// in testdata/, driven by whatsapp_handler_test.cc.
//
// Choices worth knowing:
//  - Message types the bot cannot read (the Cloud API's "unsupported", polls, orders, and any type
//    added later) parse to a message with empty text and no attachment, so the dialog answers
//    that it did not understand instead of staying silent. Reactions, system notices (number
//    changes) and group messages parse to nothing; so do changes for another phone number of
//    the same business account, and webhook fields other than "messages".
//  - Options: up to 3 with titles of at most 20 characters become reply buttons; up to 10 become
//    a list, a title over 24 characters cut at a word or syllable with "…" and given whole (up to
//    72) as the row's description; more than 10 stay text only. The message text always carries the
//    options as numbered lines with their full titles too, so a citizen may also type "2".
//  - Lengths are counted in UTF-16 code units, never fewer than WhatsApp counts, so no limit is
//    overrun; text is cut between words where it can and never inside a Devanagari syllable.
//  - Outside the 24-hour customer-service window (OutboundMessage::outside_window) the reply goes
//    as the template configured as templates.outside_window, its text (options included)
//    flattened to one line (WhatsApp refuses line breaks in a parameter) and cut to max_chars,
//    as the template's one body parameter. Without such a template the reply is sent as free
//    text anyway: WhatsApp then refuses it with 131047, which classify() makes permanent with a
//    reason naming the missing template, so the loss is recorded as a dead letter rather than
//    dropped silently, and a window the bot misjudged as closed costs nothing.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "handlers/handler.h"

namespace nivaran::whatsapp {

// An approved message template: what the API's "template" object names.
struct Template {
  std::string name;      // as approved in WhatsApp Manager, e.g. "nivaran_update"
  std::string language;  // its language code, e.g. "hi"
  size_t max_chars = 0;  // longest body parameter, in UTF-16 units; longer text is cut with "…"
};

class WhatsAppHandler : public Handler {
 public:
  // Builds a handler from the platforms.whatsapp block:
  //   {"verify_token", "app_secret", "access_token", "phone_number_id",
  //    "api_base" (default https://graph.facebook.com/v21.0),
  //    "list_button" (the list message's button label, default "विकल्प चुनें"),
  //    "templates": {"outside_window": {"name", "language", "max_chars" (default 900)}, ...}}.
  // Returns invalid() naming the field when the block is unusable. Every entry of "templates"
  // is checked; the handler itself uses "outside_window".
  static Result<std::shared_ptr<WhatsAppHandler>> create(const nlohmann::json& block);

  const std::string& platform() const override;

  // For a GET: 200 with hub.challenge as text/plain when hub.mode is "subscribe" and
  // hub.verify_token matches (compared in constant time); 403 for a wrong token; 400 saying what
  // is missing for any other GET. nullopt for other methods.
  std::optional<HttpResponse> handshake(const HttpRequest& req) const override;

  // Checks X-Hub-Signature-256 ("sha256=" and 64 hex digits) against HMAC-SHA256 of the raw body
  // keyed with app_secret, in constant time. unauthorized() saying why when it does not match.
  Status verify(const HttpRequest& req) const override;

  // One message per entry of every change's messages[] and statuses[] (statuses become
  // kind "receipt"; see the top of this file for what is skipped). invalid() naming the field
  // (e.g. "entry[0].changes[0].value.messages[1].from: expected a string") when the body is not
  // a whatsapp_business_account notification.
  Result<std::vector<InboundMessage>> parse(const HttpRequest& req) const override;

  // POSTs to {api_base}/{phone_number_id}/messages: text over the limits is split into several
  // messages at line ends, the last of them carrying the buttons or list; a template instead when
  // msg.outside_window and one is configured. No calls when there is nothing to say.
  std::vector<ApiCall> render(const OutboundMessage& msg) const override;

  // 2xx sent; 429, rate-limit codes (130429, 131048, 131056, 4, 80007), 5xx and no answer retry,
  // after Retry-After when given; anything else (131047 outside the window, 131026
  // undeliverable, bad token, bad request) permanent, the reason quoting the API's error.
  SendOutcome classify(const ApiResponse& resp) const override;

 private:
  struct Config {
    std::string verify_token;
    std::string app_secret;
    std::string access_token;
    std::string phone_number_id;
    std::string api_base;  // without a trailing '/'
    std::string list_button;
    std::map<std::string, Template> templates;
  };

  explicit WhatsAppHandler(Config config);

  ApiCall post(const nlohmann::json& body) const;

  Config config_;
};

}  // namespace nivaran::whatsapp
