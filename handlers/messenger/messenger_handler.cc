// Messenger handler. Reading a webhook checks every field it uses and names the field on a
// mismatch; fields it does not use are ignored, so new Platform additions never break parsing.
// Wire format: developers.facebook.com/docs/messenger-platform/reference/webhook-events (messages,
// messaging_postbacks, message_deliveries, message_reads, message_echoes) and .../send-api.
#include "handlers/messenger/messenger_handler.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <map>
#include <string_view>
#include <utility>

#include "handlers/common/json_fields.h"
#include "handlers/common/signing.h"
#include "handlers/common/text.h"

namespace nivaran::messenger {

using handlers::bad;
using handlers::BadField;
using handlers::Fields;
using handlers::indexed;
using handlers::parse_json_body;
using handlers::numbered_text;
using handlers::split_text;
using handlers::utf16_units;
using nlohmann::json;

namespace {

constexpr char kPlatform[] = "messenger";
constexpr char kDefaultApiBase[] = "https://graph.facebook.com/v21.0";
constexpr size_t kMaxTextUnits = 2000;          // Send API text limit
constexpr size_t kMaxQuickReplies = 13;         // Send API limit
constexpr size_t kMaxQuickReplyTitle = 20;      // characters shown on a quick-reply button
constexpr size_t kMaxQuickReplyPayload = 1000;  // bytes of payload Messenger keeps
constexpr int64_t kMaxMillis = 100'000'000'000'000;  // year 5138: rejects nonsense timestamps
constexpr int kDefaultRateLimitWait = 60;  // seconds, when a rate limit gives no Retry-After
constexpr int64_t kMaxWait = 24 * 3600;

InboundMessage from_sender(const std::string& psid) {
  InboundMessage m;
  m.platform = kPlatform;
  m.user_id = psid;
  m.chat_id = psid;
  return m;
}

// Attachment kinds Messenger sends for files a citizen uploads.
const char* file_kind(const std::string& type) {
  if (type == "image") return "photo";
  if (type == "audio") return "audio";  // voice clips arrive as audio too
  if (type == "video") return "video";
  if (type == "file") return "document";
  return nullptr;
}

// Attachment types that are a shared link (a post, a reel, a web page): their URL is evidence,
// e.g. of an objectionable post, so it is kept in the text.
bool is_shared_link(const std::string& type) {
  return type == "fallback" || type == "share" || type == "post" || type == "ig_post" ||
         type == "reel" || type == "ig_reel";
}

// Reads message.attachments into m: files and locations as attachments, shared links appended
// to the text unless it already holds them. Stickers, templates and bookings are skipped.
void read_attachments(const Fields& msg, InboundMessage* m) {
  if (!msg.has("attachments")) return;
  const json& list = msg.array("attachments");
  for (size_t i = 0; i < list.size(); ++i) {
    Fields a(list[i], indexed(msg.path("attachments"), i));
    std::string type = a.string("type");
    std::optional<Fields> payload = a.optional_object("payload");
    if (type == "location") {
      if (!payload) bad(a.path("payload"), "an object");
      Fields coordinates = payload->object("coordinates");
      Attachment loc;
      loc.kind = "location";
      loc.latitude = coordinates.number("lat");
      loc.longitude = coordinates.number("long");
      m->attachments.push_back(std::move(loc));
    } else if (const char* kind = file_kind(type)) {
      std::string ref = payload ? payload->optional_string("url") : "";
      if (ref.empty() && payload) ref = payload->optional_string("attachment_id");
      if (ref.empty()) ref = a.optional_string("id");
      if (ref.empty()) bad(a.path("payload") + ".url", "a non-empty string");
      Attachment file;
      file.kind = kind;
      file.ref = std::move(ref);
      m->attachments.push_back(std::move(file));
    } else if (is_shared_link(type)) {
      // v6+ puts the link in payload.url; older versions beside it, with a null payload.
      std::string url = payload ? payload->optional_string("url") : "";
      if (url.empty()) url = a.optional_string("url");
      if (!url.empty() && m->text.find(url) == std::string::npos) {
        m->text += m->text.empty() ? url : "\n" + url;
      }
    }
  }
}

// A `message` event; nullopt for an echo of the Page's own message.
std::optional<InboundMessage> read_message(const Fields& msg, const std::string& psid,
                                           int64_t timestamp) {
  if (msg.optional_boolean("is_echo")) return std::nullopt;
  InboundMessage m = from_sender(psid);
  m.message_id = msg.nonempty_string("mid");
  m.sent_at_ms = timestamp;
  m.text = msg.optional_string("text");
  if (auto quick = msg.optional_object("quick_reply")) m.button = quick->string("payload");
  read_attachments(msg, &m);
  return m;
}

// A `postback` event: a tap on a postback button, the Get Started button or the persistent menu.
InboundMessage read_postback(const Fields& postback, const std::string& psid, int64_t timestamp) {
  InboundMessage m = from_sender(psid);
  m.message_id = postback.optional_string("mid");
  // Older postbacks carry no mid; sender and time identify a tap (Messenger retries resend both).
  if (m.message_id.empty()) m.message_id = "postback:" + psid + ":" + std::to_string(timestamp);
  m.sent_at_ms = timestamp;
  m.text = postback.optional_string("title");
  m.button = postback.optional_string("payload");
  return m;
}

InboundMessage receipt(const std::string& psid, const char* state, std::string mid,
                       std::string message_id, int64_t sent_at_ms) {
  InboundMessage m = from_sender(psid);
  m.kind = "receipt";
  m.text = state;
  m.button = std::move(mid);
  m.message_id = std::move(message_id);
  m.sent_at_ms = sent_at_ms;
  return m;
}

// A `delivery` or `read` event: one receipt per listed mid, or one for the whole watermark
// ("everything sent before this time") when Messenger lists none.
void read_receipts(const Fields& event, const char* key, const char* state, const std::string& psid,
                   int64_t timestamp, std::vector<InboundMessage>* out) {
  Fields r = event.object(key);
  int64_t watermark = r.count("watermark", kMaxMillis);
  int64_t when = timestamp ? timestamp : watermark;
  std::string prefix = std::string(key) + ":";
  std::vector<std::string> mids;
  if (r.has("mids")) {
    const json& list = r.array("mids");
    for (size_t i = 0; i < list.size(); ++i) {
      if (!list[i].is_string() || list[i].get_ref<const std::string&>().empty()) {
        bad(indexed(r.path("mids"), i), "a non-empty string");
      }
      mids.push_back(list[i].get<std::string>());
    }
  } else if (r.has("mid")) {
    mids.push_back(r.nonempty_string("mid"));
  }
  for (std::string& mid : mids) {
    out->push_back(receipt(psid, state, mid, prefix + mid, when));
  }
  if (mids.empty()) {
    out->push_back(receipt(psid, state, "", prefix + psid + ":" + std::to_string(watermark), when));
  }
}

// One `messaging[]` event into zero or more messages.
void read_event(const Fields& event, std::vector<InboundMessage>* out) {
  Fields sender = event.object("sender");
  // A chat-plugin guest has only a user_ref, which the Send API cannot answer as a PSID.
  if (!sender.has("id")) return;
  std::string psid = sender.nonempty_string("id");
  int64_t timestamp = event.has("timestamp") ? event.count("timestamp", kMaxMillis) : 0;
  if (auto msg = event.optional_object("message")) {
    if (auto m = read_message(*msg, psid, timestamp)) out->push_back(std::move(*m));
  } else if (auto postback = event.optional_object("postback")) {
    out->push_back(read_postback(*postback, psid, timestamp));
  } else if (event.has("delivery")) {
    read_receipts(event, "delivery", "delivered", psid, timestamp, out);
  } else if (event.has("read")) {
    read_receipts(event, "read", "read", psid, timestamp, out);
  }  // reactions, edits, referrals, opt-ins, handover: nothing to act on
}

// The options as quick replies; null when they cannot all be offered: more than 13, or an id the
// Send API would refuse as a payload (offering some but not all would mislead). When a title
// does not fit a button's 20 characters, every button shows its number instead, matching the
// numbered list in the text, rather than a title cut mid-word.
json quick_replies(const std::vector<ReplyOption>& options) {
  if (options.empty() || options.size() > kMaxQuickReplies) return nullptr;
  bool titles_fit = true;
  for (const ReplyOption& o : options) {
    if (o.id.empty() || o.id.size() > kMaxQuickReplyPayload) return nullptr;
    size_t units = utf16_units(o.title);
    titles_fit = titles_fit && units > 0 && units <= kMaxQuickReplyTitle;
  }
  json buttons = json::array();
  for (size_t i = 0; i < options.size(); ++i) {
    buttons.push_back({{"content_type", "text"},
                       {"title", titles_fit ? options[i].title : std::to_string(i + 1)},
                       {"payload", options[i].id}});
  }
  return buttons;
}

int parse_seconds(const std::map<std::string, std::string>& headers, const char* name) {
  auto h = headers.find(name);
  if (h == headers.end()) return 0;
  int64_t s = 0;
  auto [end, ec] = std::from_chars(h->second.data(), h->second.data() + h->second.size(), s);
  if (ec != std::errc() || end != h->second.data() + h->second.size() || s <= 0) return 0;
  return static_cast<int>(std::min(s, kMaxWait));
}

// Graph error codes that mean "too many calls, slow down": application (4), user (17), page
// (32), custom (613) and Messenger business-use-case (80006) limits.
bool is_rate_limit_code(int64_t code) {
  return code == 4 || code == 17 || code == 32 || code == 613 || code == 80006;
}

// Graph error codes that say to try again later: unexpected error (2), temporary send failure
// (1200).
bool is_temporary_code(int64_t code) { return code == 2 || code == 1200; }

std::optional<std::string> string_setting(const json& block, const char* key,
                                          const std::string& prefix, Status* error) {
  auto it = block.find(key);
  if (it == block.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    *error = Status::invalid(prefix + "." + key + ": expected a non-empty string");
    return std::nullopt;
  }
  return it->get<std::string>();
}

}  // namespace

Result<std::shared_ptr<MessengerHandler>> MessengerHandler::create(const json& block) {
  const std::string p = "platforms.messenger";
  if (!block.is_object()) return Status::invalid(p + ": expected an object");
  Status error;
  auto verify_token = string_setting(block, "verify_token", p, &error);
  if (!verify_token) return error;
  auto app_secret = string_setting(block, "app_secret", p, &error);
  if (!app_secret) return error;
  auto page_access_token = string_setting(block, "page_access_token", p, &error);
  if (!page_access_token) return error;
  std::string api_base = kDefaultApiBase;
  if (auto it = block.find("api_base"); it != block.end()) {
    if (!it->is_string() || !(it->get<std::string>().starts_with("http://") ||
                              it->get<std::string>().starts_with("https://"))) {
      return Status::invalid(p + ".api_base: expected a URL starting with http:// or https://");
    }
    api_base = it->get<std::string>();
    while (api_base.ends_with('/')) api_base.pop_back();
  }
  return std::shared_ptr<MessengerHandler>(
      new MessengerHandler(std::move(*verify_token), std::move(*app_secret),
                           std::move(*page_access_token), std::move(api_base)));
}

MessengerHandler::MessengerHandler(std::string verify_token, std::string app_secret,
                                   std::string page_access_token, std::string api_base)
    : verify_token_(std::move(verify_token)),
      app_secret_(std::move(app_secret)),
      page_access_token_(std::move(page_access_token)),
      api_base_(std::move(api_base)) {}

const std::string& MessengerHandler::platform() const {
  static const std::string kName = kPlatform;
  return kName;
}

std::optional<HttpResponse> MessengerHandler::handshake(const HttpRequest& req) const {
  return handlers::meta_hub_handshake(req, verify_token_);
}

Status MessengerHandler::verify(const HttpRequest& req) const {
  return handlers::verify_hub_signature(req, app_secret_);
}

Result<std::vector<InboundMessage>> MessengerHandler::parse(const HttpRequest& req) const {
  auto parsed = parse_json_body(req.body);
  if (!parsed.ok()) return parsed.status();
  json body = std::move(parsed).value();
  if (!body.is_object()) return Status::invalid("body: expected a JSON object (a page webhook)");
  std::vector<InboundMessage> out;
  try {
    Fields root(body, "");
    if (root.string("object") != "page") bad("object", "\"page\"");
    const json& entries = root.array("entry");
    for (size_t i = 0; i < entries.size(); ++i) {
      Fields entry(entries[i], indexed("entry", i));
      if (!entry.has("messaging")) continue;  // standby (another app has the thread), changes
      const json& events = entry.array("messaging");
      for (size_t k = 0; k < events.size(); ++k) {
        read_event(Fields(events[k], indexed(entry.path("messaging"), k)), &out);
      }
    }
  } catch (const BadField& e) {
    return Status::invalid(e.message);
  }
  return out;
}

std::vector<ApiCall> MessengerHandler::render(const OutboundMessage& msg) const {
  // The token goes in a header, not in ?access_token=, so it never lands in logged URLs.
  std::vector<ApiCall> calls;
  std::vector<std::string> chunks = split_text(numbered_text(msg.reply), kMaxTextUnits);
  json buttons = quick_replies(msg.reply.options);
  for (size_t i = 0; i < chunks.size(); ++i) {
    json message = {{"text", chunks[i]}};
    if (i + 1 == chunks.size() && !buttons.is_null()) message["quick_replies"] = buttons;
    json body = {{"recipient", {{"id", msg.chat_id}}},
                 {"messaging_type", "RESPONSE"},
                 {"message", std::move(message)}};
    // More than 24 hours after the citizen's last message only a tagged message may go out.
    // Staff answering a complaint are human agents: HUMAN_AGENT lets their reply through for
    // 7 days after that message (later, Graph refuses it and it becomes a dead letter).
    if (msg.outside_window) {
      body["messaging_type"] = "MESSAGE_TAG";
      body["tag"] = "HUMAN_AGENT";
    }
    ApiCall call;
    call.method = "POST";
    call.url = api_base_ + "/me/messages";
    call.headers = {{"Content-Type", "application/json"},
                    {"Authorization", "Bearer " + page_access_token_}};
    call.body = json_text(body);
    calls.push_back(std::move(call));
  }
  return calls;
}

SendOutcome MessengerHandler::classify(const ApiResponse& resp) const {
  // Error bodies look like {"error":{"message":"(#551) This person isn't available right now.",
  // "type":"OAuthException","code":551,"error_subcode":1545041,"fbtrace_id":"..."}}; a proxy may
  // answer anything else. Graph reports rate limits with 400 as often as with 429.
  json body = json::parse(resp.body, nullptr, false);
  int64_t code = 0;
  std::string message;
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const json& error = body["error"];
    if (error.contains("code") && error["code"].is_number_integer()) {
      code = error["code"].get<int64_t>();
    }
    if (error.contains("message") && error["message"].is_string()) {
      message = error["message"].get<std::string>();
    }
  }
  SendOutcome out;
  out.reason = resp.status == 0 ? "no response" : std::to_string(resp.status);
  if (!message.empty()) out.reason += " " + message;
  if (code != 0) out.reason += " (code " + std::to_string(code) + ")";

  if (resp.status >= 200 && resp.status < 300) {
    out.kind = SendOutcome::Kind::kSent;
  } else if (resp.status == 429 || is_rate_limit_code(code)) {
    out.kind = SendOutcome::Kind::kRetry;
    out.retry_after_s = parse_seconds(resp.headers, "retry-after");
    if (out.retry_after_s == 0) out.retry_after_s = kDefaultRateLimitWait;
  } else if (resp.status == 0 || resp.status >= 500 || is_temporary_code(code)) {
    out.kind = SendOutcome::Kind::kRetry;
    out.retry_after_s = parse_seconds(resp.headers, "retry-after");  // 0: the caller backs off
  } else {
    out.kind = SendOutcome::Kind::kPermanent;  // 551 unavailable, 10/2xx permission, 190 token
  }
  return out;
}

}  // namespace nivaran::messenger
