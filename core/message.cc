#include "core/message.h"

namespace nivaran {

using nlohmann::json;

std::string json_text(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string string_field(const json& object, const std::string& key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void to_json(json& j, const Attachment& a) {
  j = json{{"kind", a.kind}, {"ref", a.ref}};
  if (!a.mime.empty()) j["mime"] = a.mime;
  if (a.kind == "location") {
    j["lat"] = a.latitude;
    j["lon"] = a.longitude;
  }
}

void from_json(const json& j, Attachment& a) {
  a.kind = j.value("kind", "");
  a.ref = j.value("ref", "");
  a.mime = j.value("mime", "");
  a.latitude = j.value("lat", 0.0);
  a.longitude = j.value("lon", 0.0);
}

void to_json(json& j, const InboundMessage& m) {
  j = json{{"platform", m.platform}, {"message_id", m.message_id}, {"user_id", m.user_id},
           {"chat_id", m.chat_id},   {"text", m.text},             {"sent_at_ms", m.sent_at_ms}};
  if (!m.button.empty()) j["button"] = m.button;
  if (!m.callback_id.empty()) j["callback_id"] = m.callback_id;
  if (!m.display_name.empty()) j["display_name"] = m.display_name;
  if (!m.attachments.empty()) j["attachments"] = m.attachments;
  if (!m.kind.empty()) j["kind"] = m.kind;
}

void from_json(const json& j, InboundMessage& m) {
  m.platform = j.value("platform", "");
  m.message_id = j.value("message_id", "");
  m.user_id = j.value("user_id", "");
  m.chat_id = j.value("chat_id", "");
  m.text = j.value("text", "");
  m.button = j.value("button", "");
  m.callback_id = j.value("callback_id", "");
  m.display_name = j.value("display_name", "");
  m.sent_at_ms = j.value("sent_at_ms", int64_t{0});
  m.attachments = j.value("attachments", std::vector<Attachment>{});
  m.kind = j.value("kind", "");
}

void to_json(json& j, const ReplyOption& o) { j = json{{"id", o.id}, {"title", o.title}}; }

void from_json(const json& j, ReplyOption& o) {
  o.id = j.value("id", "");
  o.title = j.value("title", "");
}

void to_json(json& j, const Reply& r) {
  j = json{{"text", r.text}};
  if (!r.options.empty()) j["options"] = r.options;
}

void from_json(const json& j, Reply& r) {
  r.text = j.value("text", "");
  r.options = j.value("options", std::vector<ReplyOption>{});
}

void to_json(json& j, const OutboundMessage& m) {
  j = json{{"platform", m.platform}, {"chat_id", m.chat_id}, {"reply", m.reply}};
  if (!m.callback_id.empty()) j["callback_id"] = m.callback_id;
  if (!m.kind.empty()) j["kind"] = m.kind;
  if (m.outside_window) j["outside_window"] = true;
}

void from_json(const json& j, OutboundMessage& m) {
  m.platform = j.value("platform", "");
  m.chat_id = j.value("chat_id", "");
  m.reply = j.value("reply", Reply{});
  m.callback_id = j.value("callback_id", "");
  m.kind = j.value("kind", "");
  m.outside_window = j.value("outside_window", false);
}

}  // namespace nivaran
