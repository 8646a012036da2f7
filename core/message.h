// Platform-neutral messages: what handlers produce from webhooks and what they render to APIs.
//
// Everything between the handlers and the platform APIs speaks these types only, so the dialog
// engine, the pipeline and the outbox never learn a platform's wire format.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nivaran {

// A photo, voice note, video, document or location sent by a citizen, kept as a reference to
// the platform's copy (file id, media id or URL), never downloaded by the bot.
struct Attachment {
  std::string kind;  // "photo", "audio", "voice", "video", "document", "location", "contact"
  std::string ref;   // platform file id / media id / URL; empty for a location
  std::string mime;  // when the platform says it
  double latitude = 0;   // location only
  double longitude = 0;  // location only

  bool operator==(const Attachment&) const = default;
};

// One message from a citizen, as any platform delivers it.
struct InboundMessage {
  std::string platform;    // "telegram", "whatsapp", "messenger", "x", "webchat", "terminal"
  std::string message_id;  // the platform's unique id for this delivery; the dedupe key
  std::string user_id;     // the citizen's stable id on that platform
  std::string chat_id;     // where replies go (Telegram chat id, WhatsApp phone, ...)
  std::string text;        // what was typed; empty for a pure attachment or button press
  std::string button;      // the option id of a pressed button / list row / quick reply
  std::string callback_id; // a button press the platform wants acknowledged (Telegram)
  std::string display_name;
  std::vector<Attachment> attachments;
  int64_t sent_at_ms = 0;  // platform timestamp, 0 when not given
  // What this is: "" a citizen's message (the usual case); "mention" a public post naming the
  // bot (X), answered publicly and briefly, chat_id being the post's id; "receipt" the platform
  // telling us what became of a message the bot sent: text is the state ("sent", "delivered",
  // "read", "failed"), button the platform's id of the sent message, message_id unique per
  // state change.
  std::string kind;

  bool operator==(const InboundMessage&) const = default;
};

// A choice offered with a reply: rendered as a button or list row where the platform has them,
// and always also as a numbered line of text.
struct ReplyOption {
  std::string id;     // stable ASCII id, sent back as InboundMessage::button
  std::string title;  // what the citizen sees

  bool operator==(const ReplyOption&) const = default;
};

// One message to a citizen.
struct Reply {
  std::string text;
  std::vector<ReplyOption> options;

  bool operator==(const Reply&) const = default;
};

// A reply addressed to a conversation on a platform; what the outbox stores and sends.
struct OutboundMessage {
  std::string platform;
  std::string chat_id;
  Reply reply;
  std::string callback_id;  // acknowledge this button press before sending (Telegram)
  // "" a private message; "mention" a short public answer to the post chat_id (X).
  std::string kind;
  // The platform only lets the bot send pre-approved templates now (WhatsApp outside its
  // 24-hour customer-service window): render a configured template instead of free text.
  bool outside_window = false;

  bool operator==(const OutboundMessage&) const = default;
};

// Compact JSON text of `j`; invalid UTF-8 in strings (citizens' text) is replaced, never thrown.
std::string json_text(const nlohmann::json& j);

// The string at `key` of a JSON object, or "" when it is absent, null or not a string (where
// nlohmann's value() would throw).
std::string string_field(const nlohmann::json& object, const std::string& key);

void to_json(nlohmann::json& j, const Attachment& a);
void from_json(const nlohmann::json& j, Attachment& a);
void to_json(nlohmann::json& j, const InboundMessage& m);
void from_json(const nlohmann::json& j, InboundMessage& m);
void to_json(nlohmann::json& j, const ReplyOption& o);
void from_json(const nlohmann::json& j, ReplyOption& o);
void to_json(nlohmann::json& j, const Reply& r);
void from_json(const nlohmann::json& j, Reply& r);
void to_json(nlohmann::json& j, const OutboundMessage& m);
void from_json(const nlohmann::json& j, OutboundMessage& m);

}  // namespace nivaran
