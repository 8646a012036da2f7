// Telegram handler. Reading an Update checks every field it uses and names the field on a
// mismatch; fields it does not use are ignored, so new Bot API additions never break parsing.
// Wire format: https://core.telegram.org/bots/api#update and #sendmessage.
#include "handlers/telegram/telegram_handler.h"


#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string_view>
#include <utility>

#include "core/json_write.h"
#include "handlers/common/json_fields.h"
#include "handlers/common/signing.h"
#include "handlers/common/text.h"

namespace nivaran::telegram {

using handlers::bad;
using handlers::BadField;
using handlers::Fields;
using handlers::parse_json_body;
using handlers::numbered_text;
using handlers::split_text;
using nlohmann::json;

namespace {

constexpr char kPlatform[] = "telegram";
constexpr char kSecretHeader[] = "x-telegram-bot-api-secret-token";
constexpr char kDefaultApiBase[] = "https://api.telegram.org";
constexpr size_t kMaxTextUnits = 4096;  // sendMessage text limit, in UTF-16 code units
constexpr size_t kMaxCallbackDataBytes = 64;
constexpr size_t kMaxOneColumnRows = 8;                 // more options than this go in rows of two
constexpr int64_t kMaxUnixSeconds = 1'000'000'000'000;  // keeps date * 1000 far from overflow

std::string display_name(const Fields& user) {
  std::string name = user.optional_string("first_name");
  std::string last = user.optional_string("last_name");
  if (!last.empty()) name += name.empty() ? last : " " + last;
  return name;
}

// The largest size of a `photo` array (Telegram lists them smallest first, but says no order).
std::string largest_photo(const Fields& msg) {
  const json& sizes = msg.array("photo");
  if (sizes.empty()) bad(msg.path("photo"), "a non-empty array");
  std::string file_id;
  double best = -1;  // a double so hostile sizes cannot overflow
  for (size_t i = 0; i < sizes.size(); ++i) {
    Fields size(sizes[i], msg.path("photo") + "[" + std::to_string(i) + "]");
    double area = double(size.integer("width")) * double(size.integer("height"));
    if (area >= best) {
      best = area;
      file_id = size.string("file_id");
    }
  }
  return file_id;
}

Attachment attachment(std::string kind, std::string ref, std::string mime = "") {
  Attachment a;
  a.kind = std::move(kind);
  a.ref = std::move(ref);
  a.mime = std::move(mime);
  return a;
}

// Appends the message's photo, voice, audio, video, document, location or contact, if any.
void read_attachments(const Fields& msg, std::vector<Attachment>* out) {
  if (msg.has("photo")) out->push_back(attachment("photo", largest_photo(msg)));
  static constexpr std::pair<const char*, const char*> kFiles[] = {{"voice", "voice"},
                                                                   {"audio", "audio"},
                                                                   {"video", "video"},
                                                                   {"video_note", "video"},
                                                                   {"document", "document"}};
  for (const auto& [field, kind] : kFiles) {
    if (auto file = msg.optional_object(field)) {
      out->push_back(attachment(kind, file->string("file_id"), file->optional_string("mime_type")));
    }
  }
  if (auto loc = msg.optional_object("location")) {
    Attachment a = attachment("location", "");
    a.latitude = loc->number("latitude");
    a.longitude = loc->number("longitude");
    out->push_back(std::move(a));
  }
  if (auto contact = msg.optional_object("contact")) {
    out->push_back(attachment("contact", contact->string("phone_number")));
  }
}

bool is_private(const Fields& chat) { return chat.string("type") == "private"; }

// A `message` update; nullopt when it is not from a private chat.
std::optional<InboundMessage> read_message(const Fields& msg, const std::string& update_id) {
  Fields chat = msg.object("chat");
  int64_t chat_id = chat.integer("id");
  if (!is_private(chat)) return std::nullopt;
  int64_t date = msg.integer("date");
  if (date < 0 || date > kMaxUnixSeconds) bad(msg.path("date"), "a Unix time in seconds");

  InboundMessage m;
  m.platform = kPlatform;
  m.message_id = update_id;
  m.chat_id = std::to_string(chat_id);
  if (auto from = msg.optional_object("from")) {
    m.user_id = std::to_string(from->integer("id"));
    m.display_name = display_name(*from);
  } else {  // in a private chat the chat is the user
    m.user_id = m.chat_id;
    m.display_name = display_name(chat);
  }
  m.text = msg.has("text") ? msg.string("text") : msg.optional_string("caption");
  m.sent_at_ms = date * 1000;
  read_attachments(msg, &m.attachments);
  return m;
}

// A `callback_query` update (an inline keyboard press); nullopt when pressed in a group.
std::optional<InboundMessage> read_callback(const Fields& cb, const std::string& update_id) {
  Fields from = cb.object("from");
  InboundMessage m;
  m.platform = kPlatform;
  m.message_id = update_id;
  m.callback_id = cb.string("id");
  m.user_id = std::to_string(from.integer("id"));
  m.display_name = display_name(from);
  m.button = cb.optional_string("data");  // absent for game buttons; still acknowledged
  m.chat_id = m.user_id;
  if (auto msg = cb.optional_object("message")) {
    Fields chat = msg->object("chat");
    m.chat_id = std::to_string(chat.integer("id"));
    if (!is_private(chat)) return std::nullopt;
  }
  return m;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

bool is_ascii_callback_data(const std::string& id) {
  if (id.empty() || id.size() > kMaxCallbackDataBytes) return false;
  for (unsigned char c : id) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// The inline_keyboard rows, as JSON text, for the options whose id is valid callback_data;
// empty when none is. Written as text (the outbox renders every reply it sends): the same text
// nlohmann's dump() gives for the same rows.
std::string inline_keyboard_text(const std::vector<ReplyOption>& options) {
  std::vector<std::pair<const std::string*, std::string>> buttons;  // callback_data, text
  for (size_t i = 0; i < options.size(); ++i) {
    const ReplyOption& o = options[i];
    if (!is_ascii_callback_data(o.id)) continue;  // still offered as numbered text
    buttons.emplace_back(&o.id, o.title.empty() ? std::to_string(i + 1) : o.title);
  }
  if (buttons.empty()) return "";
  size_t per_row = buttons.size() > kMaxOneColumnRows ? 2 : 1;
  std::string out = "[";
  for (size_t i = 0; i < buttons.size(); i += per_row) {
    if (i > 0) out += ',';
    out += '[';
    for (size_t k = i; k < i + per_row && k < buttons.size(); ++k) {
      if (k > i) out += ',';
      out += R"({"callback_data":)";
      append_json_string(out, *buttons[k].first);
      out += R"(,"text":)";
      append_json_string(out, buttons[k].second);
      out += '}';
    }
    out += ']';
  }
  out += ']';
  return out;
}

// chat_id as Telegram wants it, as JSON text: a number when it is one, else the string (e.g.
// "@channel").
void append_chat_id(std::string& out, const std::string& chat_id) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(chat_id.data(), chat_id.data() + chat_id.size(), n);
  if (ec == std::errc() && end == chat_id.data() + chat_id.size() && !chat_id.empty()) {
    out += std::to_string(n);
  } else {
    append_json_string(out, chat_id);
  }
}

ApiCall post_json_text(std::string url, std::string body) {
  ApiCall call;
  call.method = "POST";
  call.url = std::move(url);
  call.headers = {{"Content-Type", "application/json"}};
  call.body = std::move(body);
  return call;
}

ApiCall post_json(std::string url, const json& body) {
  return post_json_text(std::move(url), dump(body));
}

// Seconds to wait after a 429: parameters.retry_after, else the Retry-After header, else 1.
int retry_after_s(const json& body, const std::map<std::string, std::string>& headers) {
  constexpr int64_t kMaxWait = 24 * 3600;
  if (body.is_object()) {
    auto params = body.find("parameters");
    if (params != body.end() && params->is_object()) {
      auto r = params->find("retry_after");
      if (r != params->end() && r->is_number_integer() && r->get<int64_t>() > 0) {
        return int(std::min(r->get<int64_t>(), kMaxWait));
      }
    }
  }
  if (auto h = headers.find("retry-after"); h != headers.end()) {
    int64_t s = 0;
    auto [end, ec] = std::from_chars(h->second.data(), h->second.data() + h->second.size(), s);
    if (ec == std::errc() && s > 0) return int(std::min(s, kMaxWait));
  }
  return 1;
}

// Telegram's answer to answerCallbackQuery once the press is older than its short timeout.
bool is_expired_callback_query(const std::string& description) {
  return description.find("query is too old") != std::string::npos ||
         description.find("QUERY_ID_INVALID") != std::string::npos;
}

bool is_secret_token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

}  // namespace

Result<std::shared_ptr<TelegramHandler>> TelegramHandler::create(const json& block) {
  const std::string p = "platforms.telegram";
  if (!block.is_object()) return Status::invalid(p + ": expected an object");
  auto token = block.find("token");
  if (token == block.end() || !token->is_string() || token->get<std::string>().empty()) {
    return Status::invalid(p + ".token: expected a non-empty string");
  }
  std::string secret;
  if (auto it = block.find("secret_token"); it != block.end() && !it->is_null()) {
    if (!it->is_string()) return Status::invalid(p + ".secret_token: expected a string");
    secret = it->get<std::string>();
    // Telegram's setWebhook accepts only these; anything else could never match its header.
    bool valid = secret.size() <= 256;
    for (char c : secret) valid = valid && is_secret_token_char(c);
    if (!valid) {
      return Status::invalid(p + ".secret_token: expected at most 256 characters A-Z a-z 0-9 _ -");
    }
  }
  std::string api_base = kDefaultApiBase;
  if (auto it = block.find("api_base"); it != block.end()) {
    if (!it->is_string() || !(it->get<std::string>().starts_with("http://") ||
                              it->get<std::string>().starts_with("https://"))) {
      return Status::invalid(p + ".api_base: expected a URL starting with http:// or https://");
    }
    api_base = it->get<std::string>();
    while (api_base.ends_with('/')) api_base.pop_back();
  }
  return std::shared_ptr<TelegramHandler>(
      new TelegramHandler(token->get<std::string>(), std::move(secret), std::move(api_base)));
}

TelegramHandler::TelegramHandler(std::string token, std::string secret_token, std::string api_base)
    : token_(std::move(token)),
      secret_token_(std::move(secret_token)),
      api_base_(std::move(api_base)) {}

const std::string& TelegramHandler::platform() const {
  static const std::string kName = kPlatform;
  return kName;
}

Status TelegramHandler::verify(const HttpRequest& req) const {
  if (secret_token_.empty()) return Status::ok();
  const std::string& got = req.header(kSecretHeader);
  if (got.empty()) return Status::unauthorized("missing X-Telegram-Bot-Api-Secret-Token header");
  if (!handlers::constant_time_equal(got, secret_token_)) {
    return Status::unauthorized("X-Telegram-Bot-Api-Secret-Token does not match secret_token");
  }
  return Status::ok();
}

Result<std::vector<InboundMessage>> TelegramHandler::parse(const HttpRequest& req) const {
  auto parsed = parse_json_body(req.body);
  if (!parsed.ok()) return parsed.status();
  json update = std::move(parsed).value();
  if (!update.is_object()) return Status::invalid("body: expected a JSON object (an Update)");
  std::vector<InboundMessage> out;
  try {
    Fields u(update, "");
    std::string update_id = std::to_string(u.integer("update_id"));
    std::optional<InboundMessage> m;
    if (u.has("message")) {
      m = read_message(u.object("message"), update_id);
    } else if (u.has("callback_query")) {
      m = read_callback(u.object("callback_query"), update_id);
    }  // edits, channel posts, membership changes, polls, ...: nothing to act on
    if (m) out.push_back(std::move(*m));
  } catch (const BadField& e) {
    return Status::invalid(e.message);
  }
  return out;
}

std::string TelegramHandler::method_url(const char* method) const {
  return api_base_ + "/bot" + token_ + "/" + method;
}

std::vector<ApiCall> TelegramHandler::render(const OutboundMessage& msg) const {
  std::vector<ApiCall> calls;
  if (!msg.callback_id.empty()) {
    calls.push_back(
        post_json(method_url("answerCallbackQuery"), {{"callback_query_id", msg.callback_id}}));
  }
  std::vector<std::string> chunks = split_text(numbered_text(msg.reply), kMaxTextUnits);
  const std::string keyboard = inline_keyboard_text(msg.reply.options);
  for (size_t i = 0; i < chunks.size(); ++i) {
    // {"chat_id":..,"reply_markup":{"inline_keyboard":..},"text":..}: keys in dump()'s order.
    std::string body = R"({"chat_id":)";
    append_chat_id(body, msg.chat_id);
    if (i + 1 == chunks.size() && !keyboard.empty()) {
      body += R"(,"reply_markup":{"inline_keyboard":)";
      body += keyboard;
      body += '}';
    }
    body += R"(,"text":)";
    append_json_string(body, chunks[i]);
    body += '}';
    calls.push_back(post_json_text(method_url("sendMessage"), std::move(body)));
  }
  return calls;
}

SendOutcome TelegramHandler::classify(const ApiResponse& resp) const {
  SendOutcome out;
  if (resp.status >= 200 && resp.status < 300) {
    // The body is the sent message ({"ok":true,"result":{...}}): nothing in it is needed, so it
    // is not parsed (once per reply sent).
    out.kind = SendOutcome::Kind::kSent;
    out.reason = std::to_string(resp.status);
    return out;
  }
  // Error bodies look like {"ok":false,"error_code":429,"description":"Too Many Requests: retry
  // after 35","parameters":{"retry_after":35}}; a proxy may answer anything else.
  json body = json::parse(resp.body, nullptr, false);
  std::string description;
  if (body.is_object() && body.contains("description") && body["description"].is_string()) {
    description = body["description"].get<std::string>();
  }
  out.reason = resp.status == 0 ? "no response" : std::to_string(resp.status);
  if (!description.empty()) out.reason += " " + description;

  if (resp.status == 429) {
    out.kind = SendOutcome::Kind::kRetry;
    out.retry_after_s = retry_after_s(body, resp.headers);
  } else if (resp.status == 0 || resp.status >= 500) {
    out.kind = SendOutcome::Kind::kRetry;  // retry_after 0: the caller backs off
  } else if (resp.status == 400 && is_expired_callback_query(description)) {
    // Only answerCallbackQuery says this: the button's spinner already timed out on the
    // citizen's phone. Nothing is lost, and failing here would hold back the sendMessage that
    // follows, so it counts as sent (the reason still records what Telegram said).
    out.kind = SendOutcome::Kind::kSent;
  } else {
    out.kind = SendOutcome::Kind::kPermanent;  // 400 chat not found, 403 blocked, 401 bad token
  }
  return out;
}

}  // namespace nivaran::telegram
