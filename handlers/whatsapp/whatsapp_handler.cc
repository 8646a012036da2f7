// WhatsApp Cloud API handler. Reading a notification checks every field it uses and names the
// field on a mismatch; fields it does not use are ignored, so new API additions never break
// parsing. Wire formats: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks and
// .../cloud-api/reference/messages; error codes: .../cloud-api/support/error-codes.
#include "handlers/whatsapp/whatsapp_handler.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "handlers/common/json_fields.h"
#include "handlers/common/signing.h"
#include "handlers/common/text.h"

namespace nivaran::whatsapp {

using handlers::bad;
using handlers::BadField;
using handlers::Fields;
using handlers::parse_json_body;
using handlers::numbered_text;
using nlohmann::json;

namespace {

constexpr char kPlatform[] = "whatsapp";
constexpr char kObject[] = "whatsapp_business_account";
constexpr char kDefaultApiBase[] = "https://graph.facebook.com/v21.0";
constexpr char kDefaultListButton[] = "विकल्प चुनें";
constexpr char kOutsideWindow[] = "outside_window";  // the template used when the window is shut
constexpr char kEllipsis[] = "…";                    // one UTF-16 unit

// The Cloud API's limits, in UTF-16 units for texts and bytes for (ASCII) ids.
constexpr size_t kMaxTextUnits = 4096;
constexpr size_t kMaxInteractiveBodyUnits = 1024;
constexpr size_t kMaxButtons = 3;
constexpr size_t kMaxButtonTitleUnits = 20;
constexpr size_t kMaxButtonIdBytes = 256;
constexpr size_t kMaxListRows = 10;
constexpr size_t kMaxRowTitleUnits = 24;
constexpr size_t kMaxRowDescriptionUnits = 72;
constexpr size_t kMaxRowIdBytes = 200;
constexpr size_t kMaxListButtonUnits = 20;
constexpr size_t kMaxTemplateBodyUnits = 1024;
constexpr size_t kDefaultTemplateChars = 900;  // leaves the template's own words room in 1024

constexpr int64_t kMaxUnixSeconds = 1'000'000'000'000;  // keeps seconds * 1000 far from overflow
constexpr int64_t kReengagementCode = 131047;           // outside the 24-hour window
constexpr int64_t kRateLimitCodes[] = {
    4,       // application request limit
    80007,   // business account rate limit
    130429,  // throughput (messages per second) reached
    131048,  // spam rate limit
    131056,  // too many messages to the same citizen in a short time
};

// Unix seconds as the Cloud API sends them: a string of digits (an integer is accepted too).
int64_t unix_seconds(const Fields& f, const char* key) {
  const json* v = f.find(key);
  int64_t s = -1;
  if (v && v->is_string()) {
    const std::string& t = v->get_ref<const std::string&>();
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), s);
    if (ec != std::errc() || end != t.data() + t.size()) s = -1;
  } else if (v && v->is_number_integer() && !v->is_number_unsigned()) {
    s = v->get<int64_t>();
  } else if (v && v->is_number_unsigned() &&
             v->get<uint64_t>() <= uint64_t(std::numeric_limits<int64_t>::max())) {
    s = v->get<int64_t>();
  }
  if (s < 0 || s > kMaxUnixSeconds) bad(f.path(key), "a Unix time in seconds");
  return s;
}

Attachment attachment(std::string kind, std::string ref, std::string mime = "") {
  Attachment a;
  a.kind = std::move(kind);
  a.ref = std::move(ref);
  a.mime = std::move(mime);
  return a;
}

// Profile names by wa_id from value.contacts (absent for statuses).
std::map<std::string, std::string> profile_names(const Fields& value) {
  std::map<std::string, std::string> names;
  if (!value.has("contacts")) return names;
  for (size_t i = 0; i < value.array("contacts").size(); ++i) {
    Fields contact = value.element("contacts", i);
    std::string name;
    if (auto profile = contact.optional_object("profile")) name = profile->optional_string("name");
    names[contact.optional_string("wa_id")] = std::move(name);
  }
  return names;
}

// The sender's profile name: the contact with their wa_id, else the only contact given.
std::string display_name(const std::map<std::string, std::string>& names, const std::string& from) {
  if (auto it = names.find(from); it != names.end()) return it->second;
  return names.size() == 1 ? names.begin()->second : "";
}

// The media object of an image, sticker, audio, voice, video or document message.
void read_media(const Fields& msg, const std::string& type, InboundMessage* m) {
  Fields media = msg.object(type.c_str());
  std::string kind = type;
  if (type == "image" || type == "sticker") kind = "photo";
  if (type == "audio" && media.has("voice") && media.boolean("voice")) kind = "voice";
  m->attachments.push_back(
      attachment(kind, media.string("id"), media.optional_string("mime_type")));
  m->text = media.optional_string("caption");
}

// A shared location; its name and address, when given, become the text.
void read_location(const Fields& msg, InboundMessage* m) {
  Fields loc = msg.object("location");
  Attachment a = attachment("location", "");
  a.latitude = loc.number("latitude");
  a.longitude = loc.number("longitude");
  if (a.latitude < -90 || a.latitude > 90) bad(loc.path("latitude"), "degrees from -90 to 90");
  if (a.longitude < -180 || a.longitude > 180) {
    bad(loc.path("longitude"), "degrees from -180 to 180");
  }
  m->attachments.push_back(std::move(a));
  for (const char* key : {"name", "address"}) {
    std::string part = loc.optional_string(key);
    if (!part.empty()) m->text += (m->text.empty() ? "" : ", ") + part;
  }
}

// Shared contact cards: one attachment per card with a phone number, holding the first one.
void read_contacts(const Fields& msg, InboundMessage* m) {
  for (size_t i = 0; i < msg.array("contacts").size(); ++i) {
    Fields card = msg.element("contacts", i);
    if (!card.has("phones")) continue;
    for (size_t k = 0; k < card.array("phones").size(); ++k) {
      Fields phone = card.element("phones", k);
      std::string number = phone.optional_string("phone");
      if (number.empty()) number = phone.optional_string("wa_id");
      if (!number.empty()) {
        m->attachments.push_back(attachment("contact", std::move(number)));
        break;
      }
    }
  }
}

// A reply button or list row press: the option id as button, its title as text.
void read_interactive(const Fields& msg, InboundMessage* m) {
  Fields interactive = msg.object("interactive");
  std::string type = interactive.string("type");
  if (type != "button_reply" && type != "list_reply") return;  // e.g. a Flow: not understood
  Fields reply = interactive.object(type.c_str());
  m->button = reply.string("id");
  m->text = reply.string("title");
}

// One entry of value.messages; nullopt for what the bot does not act on.
std::optional<InboundMessage> read_message(const Fields& msg,
                                           const std::map<std::string, std::string>& names) {
  InboundMessage m;
  m.platform = kPlatform;
  m.message_id = msg.string("id");
  m.user_id = m.chat_id = msg.string("from");
  m.sent_at_ms = unix_seconds(msg, "timestamp") * 1000;
  std::string type = msg.string("type");
  if (msg.has("group_id") || type == "reaction" || type == "system") return std::nullopt;
  m.display_name = display_name(names, m.user_id);

  if (type == "text") {
    m.text = msg.object("text").string("body");
  } else if (type == "interactive") {
    read_interactive(msg, &m);
  } else if (type == "button") {  // a quick-reply button of a template message
    Fields button = msg.object("button");
    m.button = button.optional_string("payload");
    m.text = button.optional_string("text");
  } else if (type == "image" || type == "sticker" || type == "audio" || type == "voice" ||
             type == "video" || type == "document") {
    read_media(msg, type, &m);
  } else if (type == "location") {
    read_location(msg, &m);
  } else if (type == "contacts") {
    read_contacts(msg, &m);
  }  // "unsupported", polls, orders, newer types: an empty message the dialog did not understand
  return m;
}

// One entry of value.statuses: what became of a message the bot sent.
InboundMessage read_status(const Fields& status) {
  InboundMessage r;
  r.platform = kPlatform;
  r.kind = "receipt";
  r.button = status.string("id");
  r.text = status.string("status");
  r.message_id = r.button + ":" + r.text;
  r.user_id = r.chat_id = status.string("recipient_id");
  r.sent_at_ms = unix_seconds(status, "timestamp") * 1000;
  return r;
}

// The code point at s[i] and its length in bytes; an invalid byte reads as U+FFFD of length 1.
std::pair<char32_t, size_t> decode(std::string_view s, size_t i) {
  unsigned char c = s[i];
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > s.size()) return {0xFFFD, 1};
  char32_t cp = len == 1 ? c : c & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    unsigned char t = s[i + k];
    if ((t & 0xC0) != 0x80) return {0xFFFD, 1};
    cp = (cp << 6) | (t & 0x3F);
  }
  return {cp, len};
}

size_t units_of(char32_t cp) { return cp >= 0x10000 ? 2 : 1; }

size_t utf16_units(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size();) {
    auto [cp, len] = decode(s, i);
    n += units_of(cp);
    i += len;
  }
  return n;
}

// Marks that belong to the character before them: Devanagari vowel signs, nasalisation, nukta
// and virama, combining accents, joiners, variation selectors and skin tones.
bool joins_previous(char32_t cp) {
  return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x0900 && cp <= 0x0903) ||
         (cp >= 0x093A && cp <= 0x093C) || (cp >= 0x093E && cp <= 0x094F) ||
         (cp >= 0x0951 && cp <= 0x0957) || (cp >= 0x0962 && cp <= 0x0963) || cp == 0x200C ||
         cp == 0x200D || (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0x1F3FB && cp <= 0x1F3FF);
}

// A virama joins the next consonant into a conjunct (क्ष); a zero-width joiner the next emoji.
bool joins_next(char32_t cp) { return cp == 0x094D || cp == 0x200D; }

// The longest prefix of `s` within `limit` UTF-16 units that ends between two characters (never
// inside a syllable such as "क्षे"), preferring to end after a space when that keeps at least
// half the limit. At least one code point when `s` is not empty, so cutting always advances.
size_t cut_point(std::string_view s, size_t limit) {
  size_t units = 0, boundary = 0, code_point = 0, space = 0, space_units = 0;
  char32_t prev = 0;
  for (size_t i = 0; i < s.size();) {
    auto [cp, len] = decode(s, i);
    if (i > 0) {
      code_point = i;
      if (!joins_previous(cp) && !joins_next(prev)) {
        boundary = i;
        if (prev == ' ' || prev == '\n') {
          space = i;
          space_units = units;
        }
      }
    }
    if (units + units_of(cp) > limit) {
      if (boundary == i && (cp == ' ' || cp == '\n')) return i;  // a word ends right here
      if (space > 0 && space_units * 2 >= limit) return space;
      if (boundary > 0) return boundary;
      return code_point > 0 ? code_point : len;
    }
    units += units_of(cp);
    prev = cp;
    i += len;
  }
  return s.size();
}

std::string_view trim_end(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// `s` within `limit` UTF-16 units: unchanged when it fits, else cut between characters and
// ended with "…".
std::string truncate(std::string_view s, size_t limit) {
  if (utf16_units(s) <= limit) return std::string(s);
  std::string_view kept = s.substr(0, cut_point(s, limit - 1));
  if (utf16_units(kept) > limit - 1) kept = {};  // cut_point's one code point is too much here
  return std::string(trim_end(kept)) + kEllipsis;
}

// `s` on one line: every run of whitespace becomes one space (a template parameter may hold no
// line break, tab or run of spaces).
std::string one_line(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// Splits `text` into pieces of at most `limit` UTF-16 units, at line ends where it can, else
// between words or characters. Blank pieces are dropped: WhatsApp refuses an empty body.
std::vector<std::string_view> split_text(std::string_view text, size_t limit) {
  std::vector<std::string_view> pieces;
  size_t start = 0, end = 0, units = 0;  // the piece being filled is text[start, end)
  auto flush = [&] {
    std::string_view piece = trim_end(text.substr(start, end - start));
    while (!piece.empty() && (piece.front() == '\n' || piece.front() == '\r')) {
      piece.remove_prefix(1);
    }
    if (piece.find_first_not_of(" \t\r\n") != std::string_view::npos) pieces.push_back(piece);
    start = end;
    units = 0;
  };
  while (end < text.size()) {
    size_t eol = text.find('\n', end);
    eol = eol == std::string_view::npos ? text.size() : eol + 1;  // keep the '\n'
    size_t line_units = utf16_units(text.substr(end, eol - end));
    if (units + line_units <= limit) {
      end = eol;
      units += line_units;
    } else if (units > 0) {
      flush();  // the line starts the next piece
    } else {    // the line alone is too long: cut it
      end += cut_point(text.substr(end, eol - end), limit);
      flush();
    }
  }
  flush();
  return pieces;
}

// Splits `text` like split_text, but so that its last piece fits `last_limit`: the body of the
// interactive message that ends a long reply.
std::vector<std::string_view> split_text_ending(std::string_view text, size_t limit,
                                                size_t last_limit) {
  std::vector<std::string_view> pieces = split_text(text, limit);
  if (pieces.empty() || utf16_units(pieces.back()) <= last_limit) return pieces;
  std::string_view last = pieces.back();
  pieces.pop_back();
  std::vector<std::string_view> cut = split_text(last, last_limit);
  std::string_view tail = cut.back();
  std::string_view head = last.substr(0, tail.data() - last.data());
  for (std::string_view piece : split_text(head, limit)) pieces.push_back(piece);
  pieces.push_back(tail);
  return pieces;
}

json message_to(const std::string& chat_id) {
  return {{"messaging_product", "whatsapp"}, {"recipient_type", "individual"}, {"to", chat_id}};
}

json text_message(const std::string& chat_id, std::string_view text) {
  json m = message_to(chat_id);
  m["type"] = "text";
  m["text"] = {{"body", std::string(text)}};
  return m;
}

// A choice as the interactive message shows it.
struct Choice {
  std::string id;
  std::string title;
};

// The options with an id WhatsApp takes back (non-empty, short, not repeated); the others are
// offered as numbered lines only. A missing title shows the option's number.
std::vector<Choice> choices(const std::vector<ReplyOption>& options) {
  std::vector<Choice> out;
  std::set<std::string> ids;
  for (size_t i = 0; i < options.size(); ++i) {
    const ReplyOption& o = options[i];
    if (o.id.empty() || o.id.size() > kMaxRowIdBytes || !ids.insert(o.id).second) continue;
    out.push_back({o.id, o.title.empty() ? std::to_string(i + 1) : o.title});
  }
  return out;
}

// The "action" of reply buttons, or null when the choices do not fit them (more than three,
// a title over 20 units, or two alike titles, which WhatsApp refuses).
json button_action(const std::vector<Choice>& choices) {
  if (choices.size() > kMaxButtons) return nullptr;
  std::set<std::string> titles;
  json buttons = json::array();
  for (const Choice& c : choices) {
    if (utf16_units(c.title) > kMaxButtonTitleUnits || c.id.size() > kMaxButtonIdBytes ||
        !titles.insert(c.title).second) {
      return nullptr;
    }
    buttons.push_back({{"type", "reply"}, {"reply", {{"id", c.id}, {"title", c.title}}}});
  }
  return {{"buttons", std::move(buttons)}};
}

// The "action" of a list message; a title over 24 units is cut, and given whole (up to 72) as
// the row's description.
json list_action(const std::vector<Choice>& choices, const std::string& button_label) {
  json rows = json::array();
  for (const Choice& c : choices) {
    json row = {{"id", c.id}, {"title", truncate(c.title, kMaxRowTitleUnits)}};
    if (row["title"] != c.title) row["description"] = truncate(c.title, kMaxRowDescriptionUnits);
    rows.push_back(std::move(row));
  }
  return {{"button", button_label}, {"sections", json::array({{{"rows", std::move(rows)}}})}};
}

// The "interactive" object offering `options`, without its body; null when they are offered as
// numbered text only (none usable, or more than a list holds).
json interactive_for(const std::vector<ReplyOption>& options, const std::string& button_label) {
  std::vector<Choice> usable = choices(options);
  if (usable.empty() || usable.size() > kMaxListRows) return nullptr;
  if (json action = button_action(usable); !action.is_null()) {
    return {{"type", "button"}, {"action", std::move(action)}};
  }
  return {{"type", "list"}, {"action", list_action(usable, button_label)}};
}

json template_message(const std::string& chat_id, const Template& t, const std::string& text) {
  json m = message_to(chat_id);
  m["type"] = "template";
  m["template"] = {
      {"name", t.name},
      {"language", {{"code", t.language}}},
      {"components",
       json::array({{{"type", "body"},
                     {"parameters", json::array({{{"type", "text"}, {"text", text}}})}}})}};
  return m;
}

// `s` is a template name WhatsApp accepts: lower-case letters, digits and underscores.
bool is_template_name(const std::string& s) {
  return !s.empty() && s.size() <= 512 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Reads platforms.whatsapp.templates.<name>; an error message naming the field, or "".
std::string read_template(const json& j, const std::string& path, Template* t) {
  if (!j.is_object()) return path + ": must be an object {\"name\", \"language\"}";
  auto name = j.find("name");
  if (name == j.end() || !name->is_string() || !is_template_name(name->get<std::string>())) {
    return path + ".name: must be a template name of lower-case letters, digits and _";
  }
  auto language = j.find("language");
  if (language == j.end() || !language->is_string() || language->get<std::string>().empty()) {
    return path + ".language: must be a non-empty string, the template's language code";
  }
  t->name = name->get<std::string>();
  t->language = language->get<std::string>();
  t->max_chars = kDefaultTemplateChars;
  if (auto max = j.find("max_chars"); max != j.end()) {
    if (!max->is_number_integer() || max->get<int64_t>() < 2 ||
        max->get<int64_t>() > int64_t(kMaxTemplateBodyUnits)) {
      return path + ".max_chars: must be an integer from 2 to 1024";
    }
    t->max_chars = size_t(max->get<int64_t>());
  }
  return "";
}

// Seconds from a Retry-After header in seconds; 0 (the caller backs off) when absent or a date.
int retry_after_s(const std::map<std::string, std::string>& headers) {
  constexpr int64_t kMaxWait = 24 * 3600;
  auto h = headers.find("retry-after");
  if (h == headers.end()) return 0;
  int64_t s = 0;
  auto [end, ec] = std::from_chars(h->second.data(), h->second.data() + h->second.size(), s);
  if (ec != std::errc() || end != h->second.data() + h->second.size() || s <= 0) return 0;
  return int(std::min(s, kMaxWait));
}

// A Graph API error: {"error": {"message", "code", "error_data": {"details"}, ...}}.
struct ApiError {
  int64_t code = 0;
  std::string message;
  std::string details;
};

ApiError api_error(const std::string& body) {
  ApiError e;
  json j = json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return e;
  const json& err = j["error"];
  if (auto c = err.find("code"); c != err.end() && c->is_number_integer()) {
    e.code = c->get<int64_t>();
  }
  if (auto m = err.find("message"); m != err.end() && m->is_string()) e.message = *m;
  if (auto d = err.find("error_data"); d != err.end() && d->is_object()) {
    if (auto t = d->find("details"); t != d->end() && t->is_string()) e.details = *t;
  }
  // The message often repeats the code as "(#131047) Re-engagement message".
  std::string tag = "(#" + std::to_string(e.code) + ") ";
  if (e.message.starts_with(tag)) e.message.erase(0, tag.size());
  return e;
}

}  // namespace

Result<std::shared_ptr<WhatsAppHandler>> WhatsAppHandler::create(const json& block) {
  const std::string p = "platforms.whatsapp";
  if (!block.is_object()) return Status::invalid(p + ": must be an object");
  Config c;
  for (auto [key, field] :
       {std::pair{"verify_token", &c.verify_token}, std::pair{"app_secret", &c.app_secret},
        std::pair{"access_token", &c.access_token},
        std::pair{"phone_number_id", &c.phone_number_id}}) {
    auto it = block.find(key);
    if (it == block.end() || !it->is_string() || it->get<std::string>().empty()) {
      return Status::invalid(p + "." + key + ": must be a non-empty string");
    }
    *field = it->get<std::string>();
  }
  if (!std::all_of(c.phone_number_id.begin(), c.phone_number_id.end(),
                   [](char ch) { return ch >= '0' && ch <= '9'; })) {
    return Status::invalid(p +
                           ".phone_number_id: must be the numeric phone number ID from "
                           "WhatsApp Manager, not the phone number");
  }
  c.api_base = kDefaultApiBase;
  if (auto it = block.find("api_base"); it != block.end()) {
    if (!it->is_string() || !(it->get<std::string>().starts_with("http://") ||
                              it->get<std::string>().starts_with("https://"))) {
      return Status::invalid(p + ".api_base: must be a URL starting with http:// or https://");
    }
    c.api_base = it->get<std::string>();
    while (c.api_base.ends_with('/')) c.api_base.pop_back();
  }
  c.list_button = kDefaultListButton;
  if (auto it = block.find("list_button"); it != block.end()) {
    if (!it->is_string() || it->get<std::string>().empty() ||
        utf16_units(it->get<std::string>()) > kMaxListButtonUnits) {
      return Status::invalid(p + ".list_button: must be a string of 1 to 20 characters");
    }
    c.list_button = it->get<std::string>();
  }
  if (auto it = block.find("templates"); it != block.end() && !it->is_null()) {
    if (!it->is_object()) return Status::invalid(p + ".templates: must be an object");
    for (const auto& [name, t] : it->items()) {
      std::string error = read_template(t, p + ".templates." + name, &c.templates[name]);
      if (!error.empty()) return Status::invalid(error);
    }
  }
  return std::shared_ptr<WhatsAppHandler>(new WhatsAppHandler(std::move(c)));
}

WhatsAppHandler::WhatsAppHandler(Config config) : config_(std::move(config)) {}

const std::string& WhatsAppHandler::platform() const {
  static const std::string kName = kPlatform;
  return kName;
}

std::optional<HttpResponse> WhatsAppHandler::handshake(const HttpRequest& req) const {
  return handlers::meta_hub_handshake(req, config_.verify_token);
}

Status WhatsAppHandler::verify(const HttpRequest& req) const {
  return handlers::verify_hub_signature(req, config_.app_secret);
}

Result<std::vector<InboundMessage>> WhatsAppHandler::parse(const HttpRequest& req) const {
  auto parsed = parse_json_body(req.body);
  if (!parsed.ok()) return parsed.status();
  json root = std::move(parsed).value();
  if (!root.is_object()) {
    return Status::invalid("body: expected a JSON object (a WhatsApp notification)");
  }
  std::vector<InboundMessage> out;
  try {
    Fields notification(root, "");
    if (notification.string("object") != kObject) bad("object", "\"whatsapp_business_account\"");
    for (size_t i = 0; i < notification.array("entry").size(); ++i) {
      Fields entry = notification.element("entry", i);
      for (size_t k = 0; k < entry.array("changes").size(); ++k) {
        Fields change = entry.element("changes", k);
        // Other fields (template reviews, account updates) carry no messages.
        std::string field = change.optional_string("field");
        if (!field.empty() && field != "messages") continue;
        Fields value = change.object("value");
        if (auto meta = value.optional_object("metadata")) {
          std::string to = meta->optional_string("phone_number_id");
          if (!to.empty() && to != config_.phone_number_id) continue;  // another of our numbers
        }
        if (value.has("messages")) {
          auto names = profile_names(value);
          for (size_t m = 0; m < value.array("messages").size(); ++m) {
            auto msg = read_message(value.element("messages", m), names);
            if (msg) out.push_back(std::move(*msg));
          }
        }
        if (value.has("statuses")) {
          for (size_t s = 0; s < value.array("statuses").size(); ++s) {
            out.push_back(read_status(value.element("statuses", s)));
          }
        }
      }
    }
  } catch (const BadField& e) {
    return Status::invalid(e.message);
  }
  return out;
}

ApiCall WhatsAppHandler::post(const json& body) const {
  ApiCall call;
  call.method = "POST";
  call.url = config_.api_base + "/" + config_.phone_number_id + "/messages";
  call.headers = {{"Authorization", "Bearer " + config_.access_token},
                  {"Content-Type", "application/json"}};
  call.body = json_text(body);
  return call;
}

std::vector<ApiCall> WhatsAppHandler::render(const OutboundMessage& msg) const {
  std::vector<ApiCall> calls;
  std::string text = numbered_text(msg.reply);
  auto tmpl = config_.templates.find(kOutsideWindow);
  if (msg.outside_window && tmpl != config_.templates.end()) {
    std::string param = truncate(one_line(text), tmpl->second.max_chars);
    if (!param.empty()) calls.push_back(post(template_message(msg.chat_id, tmpl->second, param)));
    return calls;
  }
  json interactive = interactive_for(msg.reply.options, config_.list_button);
  if (interactive.is_null()) {
    for (std::string_view piece : split_text(text, kMaxTextUnits)) {
      calls.push_back(post(text_message(msg.chat_id, piece)));
    }
    return calls;
  }
  std::vector<std::string_view> pieces =
      split_text_ending(text, kMaxTextUnits, kMaxInteractiveBodyUnits);
  if (pieces.empty()) return calls;
  for (size_t i = 0; i + 1 < pieces.size(); ++i) {
    calls.push_back(post(text_message(msg.chat_id, pieces[i])));
  }
  interactive["body"] = {{"text", std::string(pieces.back())}};  // options make text non-blank
  json last = message_to(msg.chat_id);
  last["type"] = "interactive";
  last["interactive"] = std::move(interactive);
  calls.push_back(post(last));
  return calls;
}

SendOutcome WhatsAppHandler::classify(const ApiResponse& resp) const {
  ApiError error = api_error(resp.body);
  SendOutcome out;
  out.reason = resp.status == 0 ? "no response" : std::to_string(resp.status);
  if (error.code != 0) out.reason += " error " + std::to_string(error.code);
  if (!error.message.empty()) out.reason += ": " + error.message;
  if (!error.details.empty()) out.reason += ": " + error.details;

  bool rate_limited =
      resp.status == 429 || std::find(std::begin(kRateLimitCodes), std::end(kRateLimitCodes),
                                      error.code) != std::end(kRateLimitCodes);
  if (resp.status >= 200 && resp.status < 300) {
    out.kind = SendOutcome::Kind::kSent;
  } else if (rate_limited) {
    out.kind = SendOutcome::Kind::kRetry;
    out.retry_after_s = retry_after_s(resp.headers);
  } else if (resp.status == 0 || resp.status >= 500) {
    out.kind = SendOutcome::Kind::kRetry;  // retry_after 0: the caller backs off
  } else {
    out.kind = SendOutcome::Kind::kPermanent;  // 131026 undeliverable, 190 bad token, 100 bad call
    if (error.code == kReengagementCode) {
      out.reason += config_.templates.contains(kOutsideWindow)
                        ? " (the citizen last wrote over 24 hours ago; only a template may be "
                          "sent now)"
                        : " (the citizen last wrote over 24 hours ago and no "
                          "platforms.whatsapp.templates.outside_window is configured)";
    }
  }
  return out;
}

}  // namespace nivaran::whatsapp
