// X handler. Reading a webhook checks every field it uses and names the field on a mismatch;
// fields it does not use are ignored, so new Account Activity additions never break parsing.
// Wire formats: docs.x.com Account Activity data objects and "Securing webhooks" (CRC and
// signature); X API v2 POST /2/dm_conversations/with/:participant_id/messages and POST /2/tweets.
// DM events arrive in the Account Activity (v1.1 event) shape; sending uses v2.
#include "handlers/x/x_handler.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <string_view>
#include <utility>

#include "handlers/common/json_fields.h"
#include "handlers/common/signing.h"
#include "handlers/common/text.h"

namespace nivaran::x {

using handlers::bad;
using handlers::BadField;
using handlers::Fields;
using handlers::indexed;
using handlers::is_utf8_lead;
using handlers::parse_json_body;
using handlers::numbered_text;
using handlers::split_text;
using nlohmann::json;

namespace {

constexpr char kPlatform[] = "x";
constexpr char kSignatureHeader[] = "x-twitter-webhooks-signature";
constexpr char kDefaultApiBase[] = "https://api.x.com";
constexpr size_t kMaxDmUnits = 10'000;  // v2 DM text limit, counted here in UTF-16 units
constexpr int kMaxTweetWeight = 280;
constexpr int kUrlWeight = 23;                // every link counts as a t.co link
constexpr char kEllipsis[] = "\xE2\x80\xA6";  // U+2026, weight 2
constexpr int kEllipsisWeight = 2;
constexpr int64_t kMaxMillis = 100'000'000'000'000;  // year 5138: rejects nonsense timestamps
constexpr int kDefaultRateLimitWait = 60;            // seconds, when a 429 says nothing usable
constexpr int64_t kMaxWait = 24 * 3600;

// Who the bot is in one webhook body: the configured id and the subscription's for_user_id.
struct BotIdentity {
  std::string configured_id;
  std::string for_user_id;
  std::string handle;  // lower-case, no '@'

  bool is_bot(const std::string& user_id) const {
    return !user_id.empty() && (user_id == configured_id || user_id == for_user_id);
  }
};

// A media attachment (a DM's one, or a post's extended_entities.media[i]): photos by their image
// URL, videos and GIFs by their page URL (media_url_https is only a preview still), else the id.
Attachment read_media(const Fields& media) {
  std::string type = media.optional_string("type");
  Attachment a;
  a.kind = type == "photo" ? "photo" : "video";  // "video", "animated_gif"
  a.ref = type == "photo" ? media.optional_string("media_url_https")
                          : media.optional_string("expanded_url");
  if (a.ref.empty()) a.ref = media.optional_string("media_url_https");
  if (a.ref.empty()) a.ref = media.nonempty_string("id_str");
  return a;
}

// One direct_message_events[] entry; nullopt for the bot's own DMs and for other event types.
std::optional<InboundMessage> read_dm(const Fields& event, const json* users,
                                      const BotIdentity& bot) {
  if (event.string("type") != "message_create") return std::nullopt;
  InboundMessage m;
  m.platform = kPlatform;
  m.message_id = event.nonempty_string("id");
  if (event.has("created_timestamp")) m.sent_at_ms = event.count("created_timestamp", kMaxMillis);
  Fields create = event.object("message_create");
  std::string sender = create.nonempty_string("sender_id");
  if (bot.is_bot(sender)) return std::nullopt;  // what the bot itself sent
  m.user_id = sender;
  m.chat_id = sender;
  Fields data = create.object("message_data");
  m.text = data.optional_string("text");  // t.co links left as sent
  if (auto quick = data.optional_object("quick_reply_response")) {
    m.button = quick->optional_string("metadata");
  }
  if (auto attachment = data.optional_object("attachment")) {
    if (attachment->optional_string("type") == "media") {
      m.attachments.push_back(read_media(attachment->object("media")));
    }
  }
  if (users) {
    Fields all(*users, "users");
    if (auto user = all.optional_object(sender)) m.display_name = user->optional_string("name");
  }
  return m;
}

// Whether `tweet` names the bot: a reply to it, or an @mention by id or by the configured handle.
bool mentions_bot(const Fields& tweet, const std::optional<Fields>& entities,
                  const BotIdentity& bot) {
  if (bot.is_bot(tweet.optional_string("in_reply_to_user_id_str"))) return true;
  if (!entities || !entities->has("user_mentions")) return false;
  const json& mentions = entities->array("user_mentions");
  for (size_t i = 0; i < mentions.size(); ++i) {
    Fields mention(mentions[i], indexed(entities->path("user_mentions"), i));
    if (bot.is_bot(mention.optional_string("id_str"))) return true;
    if (!bot.handle.empty() && lower_ascii(mention.optional_string("screen_name")) == bot.handle) {
      return true;
    }
  }
  return false;
}

// One tweet_create_events[] post; a kind "mention" message when it names the bot and is not the
// bot's own post or a retweet.
std::optional<InboundMessage> read_tweet(const Fields& tweet, const BotIdentity& bot) {
  std::string id = tweet.nonempty_string("id_str");
  Fields user = tweet.object("user");
  std::string author = user.nonempty_string("id_str");
  if (bot.is_bot(author) || tweet.has("retweeted_status")) return std::nullopt;
  // Posts over 140 characters carry their full text and entities in extended_tweet.
  std::optional<Fields> extended = tweet.optional_object("extended_tweet");
  auto fuller = [&](const char* key) {
    return extended && extended->has(key) ? extended->optional_object(key)
                                          : tweet.optional_object(key);
  };
  if (!mentions_bot(tweet, fuller("entities"), bot)) return std::nullopt;

  InboundMessage m;
  m.platform = kPlatform;
  m.kind = "mention";
  m.message_id = "tweet:" + id;
  m.chat_id = id;
  m.user_id = author;
  m.display_name = user.optional_string("name");
  if (extended && extended->has("full_text")) {
    m.text = extended->string("full_text");
  } else {
    m.text = tweet.has("full_text") ? tweet.string("full_text") : tweet.string("text");
  }
  if (tweet.has("timestamp_ms")) m.sent_at_ms = tweet.count("timestamp_ms", kMaxMillis);
  if (auto media_entities = fuller("extended_entities")) {
    const json& media = media_entities->array("media");
    for (size_t i = 0; i < media.size(); ++i) {
      m.attachments.push_back(
          read_media(Fields(media[i], indexed(media_entities->path("media"), i))));
    }
  }
  return m;
}

// "sha256=" + base64(HMAC-SHA256(data, key)): the CRC response token and the signature header.
std::string signature(const std::string& key, const std::string& data) {
  return "sha256=" + handlers::to_base64(handlers::hmac_sha256(key, data));
}

// The code point starting at s[i] (a lenient decoder: our own texts are valid UTF-8).
char32_t code_point_at(std::string_view s, size_t i) {
  unsigned char c = s[i];
  int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
  char32_t cp = extra == 3 ? c & 0x07 : extra == 2 ? c & 0x0F : extra == 1 ? c & 0x1F : c;
  for (int k = 1; k <= extra && i + k < s.size(); ++k) cp = (cp << 6) | (s[i + k] & 0x3F);
  return cp;
}

// twitter-text v3 weights: Latin, Devanagari and general punctuation count 1, everything else
// (CJK, emoji) 2.
int code_point_weight(char32_t cp) {
  bool light = cp <= 4351 || (cp >= 8192 && cp <= 8205) || (cp >= 8208 && cp <= 8223) ||
               (cp >= 8242 && cp <= 8247);
  return light ? 1 : 2;
}

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

// The weighted length X counts against 280. A word starting http:// or https:// counts as at
// least a t.co link (23), never less than its own weight, so the count never falls short.
int tweet_weight(std::string_view s) {
  int total = 0;
  size_t i = 0;
  while (i < s.size()) {
    bool word_start = i == 0 || is_space(s[i - 1]);
    size_t end = i;
    int word = 0;
    while (end < s.size() && !is_space(s[end])) {
      if (is_utf8_lead(s[end])) word += code_point_weight(code_point_at(s, end));
      ++end;
    }
    std::string_view w = s.substr(i, end - i);
    if (word_start && (w.starts_with("http://") || w.starts_with("https://"))) {
      word = std::max(word, kUrlWeight);
    }
    total += word;
    for (; end < s.size() && is_space(s[end]); ++end) ++total;
    i = end;
  }
  return total;
}

std::string_view trim_end(std::string_view s) {
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// `text` when it fits a post; else its longest prefix (at a code point) that fits with "…".
std::string fit_tweet(std::string_view text) {
  if (tweet_weight(text) <= kMaxTweetWeight) return std::string(text);
  std::vector<size_t> cuts;  // code point boundaries, ascending
  for (size_t i = 0; i < text.size(); ++i) {
    if (is_utf8_lead(text[i])) cuts.push_back(i);
  }
  // Weight only grows with the prefix, so the longest fitting cut is found by bisection.
  size_t lo = 0, hi = cuts.size();  // cuts[lo] fits (the empty prefix does); cuts[hi] does not
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    if (tweet_weight(trim_end(text.substr(0, cuts[mid]))) + kEllipsisWeight <= kMaxTweetWeight) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return std::string(trim_end(text.substr(0, cuts[lo]))) + kEllipsis;
}

std::optional<int64_t> header_integer(const std::map<std::string, std::string>& headers,
                                      const char* name) {
  auto h = headers.find(name);
  if (h == headers.end()) return std::nullopt;
  int64_t n = 0;
  auto [end, ec] = std::from_chars(h->second.data(), h->second.data() + h->second.size(), n);
  if (ec != std::errc() || end != h->second.data() + h->second.size()) return std::nullopt;
  return n;
}

// Seconds since the epoch of an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), the form every
// HTTP server sends in Date.
std::optional<int64_t> http_date_seconds(std::string_view s) {
  static constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  if (s.size() != 29 || s.substr(3, 2) != ", " || s.substr(25) != " GMT") return std::nullopt;
  auto number = [&s](size_t pos, size_t len) -> int {
    int n = 0;
    auto [end, ec] = std::from_chars(s.data() + pos, s.data() + pos + len, n);
    return ec == std::errc() && end == s.data() + pos + len ? n : -1;
  };
  size_t month = kMonths.find(s.substr(8, 3));
  int day = number(5, 2), year = number(12, 4);
  int hh = number(17, 2), mm = number(20, 2), ss = number(23, 2);
  if (month == std::string_view::npos || month % 3 != 0 || day < 0 || year < 0 || hh < 0 ||
      mm < 0 || ss < 0) {
    return std::nullopt;
  }
  std::chrono::year_month_day date{std::chrono::year(year),
                                   std::chrono::month(static_cast<unsigned>(month / 3 + 1)),
                                   std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return std::nullopt;
  int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  return days * 86400 + hh * 3600 + mm * 60 + ss;
}

// How long a 429 asks to wait: Retry-After; else x-rate-limit-reset (epoch seconds) less the
// answer's own Date, which keeps this pure; else 60 s, X's windows being 15 minutes or a day.
int rate_limit_wait(const std::map<std::string, std::string>& headers) {
  if (auto s = header_integer(headers, "retry-after"); s && *s > 0) {
    return static_cast<int>(std::min(*s, kMaxWait));
  }
  auto reset = header_integer(headers, "x-rate-limit-reset");
  auto date = headers.find("date");
  if (reset && date != headers.end()) {
    if (auto now = http_date_seconds(date->second)) {
      return static_cast<int>(std::clamp<int64_t>(*reset - *now, 1, kMaxWait));
    }
  }
  return kDefaultRateLimitWait;
}

// What an X error body says: a v2 problem's detail, else the first error's message, else the
// problem's title.
std::string error_detail(const json& body) {
  auto text = [](const json& j, const char* key) -> std::string {
    if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return "";
    return j[key].get<std::string>();
  };
  std::string detail = text(body, "detail");
  if (detail.empty() && body.is_object() && body.contains("errors") && body["errors"].is_array() &&
      !body["errors"].empty()) {
    detail = text(body["errors"][0], "message");
  }
  return detail.empty() ? text(body, "title") : detail;
}

Status required_string(const json& block, const char* key, const std::string& prefix,
                       std::string* out) {
  auto it = block.find(key);
  if (it == block.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return Status::invalid(prefix + "." + key + ": expected a non-empty string");
  }
  *out = it->get<std::string>();
  return Status::ok();
}

bool is_handle_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

Result<std::shared_ptr<XHandler>> XHandler::create(const json& block) {
  const std::string p = "platforms.x";
  if (!block.is_object()) return Status::invalid(p + ": expected an object");
  std::string consumer_secret, bearer_token;
  if (Status s = required_string(block, "consumer_secret", p, &consumer_secret); !s.is_ok()) {
    return s;
  }
  // Sending credentials: OAuth 1.0a (three fields) or an OAuth 2.0 bearer token, not both.
  OAuth1Credentials oauth1;
  const bool has_oauth1 = block.contains("consumer_key") || block.contains("access_token") ||
                          block.contains("access_token_secret");
  if (has_oauth1) {
    if (block.contains("bearer_token")) {
      return Status::invalid(p + ": give either bearer_token or consumer_key, access_token and "
                                 "access_token_secret (OAuth 1.0a), not both");
    }
    for (auto [name, out] : {std::pair{"consumer_key", &oauth1.consumer_key},
                             std::pair{"access_token", &oauth1.token},
                             std::pair{"access_token_secret", &oauth1.token_secret}}) {
      if (Status s = required_string(block, name, p, out); !s.is_ok()) return s;
    }
    oauth1.consumer_secret = consumer_secret;
  } else if (block.contains("bearer_token")) {
    if (Status s = required_string(block, "bearer_token", p, &bearer_token); !s.is_ok()) return s;
  } else {
    return Status::invalid(
        p + ": the credentials to send replies are missing: consumer_key, access_token and "
            "access_token_secret (OAuth 1.0a; they do not expire), or bearer_token (an OAuth 2.0 "
            "user token; X expires it after two hours)");
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
  std::string bot_user_id;
  if (auto it = block.find("bot_user_id"); it != block.end() && !it->is_null()) {
    if (it->is_number_unsigned()) {
      bot_user_id = std::to_string(it->get<uint64_t>());
    } else if (it->is_string()) {
      bot_user_id = it->get<std::string>();
    }
    if (bot_user_id.empty() || !std::all_of(bot_user_id.begin(), bot_user_id.end(),
                                            [](char c) { return c >= '0' && c <= '9'; })) {
      return Status::invalid(
          p + ".bot_user_id: expected the account's numeric id, e.g. \"2244994945\"");
    }
  }
  std::string handle;
  if (auto it = block.find("handle"); it != block.end() && !it->is_null()) {
    if (it->is_string()) handle = it->get<std::string>();
    if (handle.starts_with('@')) handle.erase(0, 1);
    if (!it->is_string() || handle.empty() || handle.size() > 15 ||
        !std::all_of(handle.begin(), handle.end(), is_handle_char)) {
      return Status::invalid(p + ".handle: expected an X username: 1-15 of A-Z a-z 0-9 _");
    }
    handle = lower_ascii(std::move(handle));
  }
  return std::shared_ptr<XHandler>(new XHandler(std::move(consumer_secret), std::move(oauth1),
                                                std::move(bearer_token), std::move(api_base),
                                                std::move(bot_user_id), std::move(handle)));
}

XHandler::XHandler(std::string consumer_secret, OAuth1Credentials oauth1, std::string bearer_token,
                   std::string api_base, std::string bot_user_id, std::string handle)
    : consumer_secret_(std::move(consumer_secret)),
      oauth1_(std::move(oauth1)),
      bearer_token_(std::move(bearer_token)),
      oauth1_seconds_([] {
        return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
      }),
      oauth1_nonce_(oauth1_nonce),
      api_base_(std::move(api_base)),
      bot_user_id_(std::move(bot_user_id)),
      handle_(std::move(handle)) {}

const std::string& XHandler::platform() const {
  static const std::string kName = kPlatform;
  return kName;
}

std::optional<HttpResponse> XHandler::handshake(const HttpRequest& req) const {
  if (req.method != "GET") return std::nullopt;
  auto it = req.query.find("crc_token");
  if (it == req.query.end() || it->second.empty()) {
    return HttpResponse::json_error(400, "expected the query parameter crc_token");
  }
  return HttpResponse::json_ok(
      json_text(json{{"response_token", signature(consumer_secret_, it->second)}}));
}

Status XHandler::verify(const HttpRequest& req) const {
  const std::string& got = req.header(kSignatureHeader);
  if (got.empty()) return Status::unauthorized("missing x-twitter-webhooks-signature header");
  if (!handlers::constant_time_equal(got, signature(consumer_secret_, req.body))) {
    return Status::unauthorized(
        "x-twitter-webhooks-signature does not match the body signed with consumer_secret");
  }
  return Status::ok();
}

Result<std::vector<InboundMessage>> XHandler::parse(const HttpRequest& req) const {
  auto parsed = parse_json_body(req.body);
  if (!parsed.ok()) return parsed.status();
  json body = std::move(parsed).value();
  if (!body.is_object()) {
    return Status::invalid("body: expected a JSON object (an Account Activity event)");
  }
  std::vector<InboundMessage> out;
  try {
    Fields root(body, "");
    BotIdentity bot{bot_user_id_, root.optional_string("for_user_id"), handle_};
    if (root.has("direct_message_events")) {
      const json* users = root.find("users");
      if (users) Fields(*users, "users");  // checks it is an object
      const json& events = root.array("direct_message_events");
      for (size_t i = 0; i < events.size(); ++i) {
        Fields event(events[i], indexed("direct_message_events", i));
        if (auto m = read_dm(event, users, bot)) out.push_back(std::move(*m));
      }
    }
    // A post by an account the bot has blocked is not answered (the reply would fail anyway).
    bool blocked = root.flag("user_has_blocked") || root.flag("is_blocked_by");
    if (root.has("tweet_create_events") && !blocked) {
      const json& tweets = root.array("tweet_create_events");
      for (size_t i = 0; i < tweets.size(); ++i) {
        if (auto m = read_tweet(Fields(tweets[i], indexed("tweet_create_events", i)), bot)) {
          out.push_back(std::move(*m));
        }
      }
    }
  } catch (const BadField& e) {
    return Status::invalid(e.message);
  }
  return out;
}

ApiCall XHandler::post_json(std::string url, const json& body) const {
  ApiCall call;
  call.method = "POST";
  call.url = std::move(url);
  // A JSON body is not part of an OAuth 1.0a signature; these URLs have no query.
  call.headers = {{"Content-Type", "application/json"},
                  {"Authorization",
                   oauth1_.empty() ? "Bearer " + bearer_token_
                                   : oauth1_header(oauth1_, call.method, call.url, {},
                                                   oauth1_nonce_(), oauth1_seconds_())}};
  call.body = json_text(body);
  return call;
}

std::vector<ApiCall> XHandler::render(const OutboundMessage& msg) const {
  return msg.kind == "mention" ? render_mention_reply(msg) : render_dm(msg);
}

std::vector<ApiCall> XHandler::render_dm(const OutboundMessage& msg) const {
  std::vector<ApiCall> calls;
  std::string url =
      api_base_ + "/2/dm_conversations/with/" + percent_encode(msg.chat_id) + "/messages";
  for (const std::string& chunk : split_text(numbered_text(msg.reply), kMaxDmUnits)) {
    calls.push_back(post_json(url, {{"text", chunk}}));
  }
  return calls;
}

std::vector<ApiCall> XHandler::render_mention_reply(const OutboundMessage& msg) const {
  std::string text = fit_tweet(trim_end(numbered_text(msg.reply)));
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return {};
  return {post_json(api_base_ + "/2/tweets",
                    {{"text", text}, {"reply", {{"in_reply_to_tweet_id", msg.chat_id}}}})};
}

SendOutcome XHandler::classify(const ApiResponse& resp) const {
  // Error bodies are v2 problems: {"title":"Forbidden","detail":"You are not permitted to send
  // this DM","type":"about:blank","status":403}, sometimes with "errors":[{"message":...}].
  std::string detail = error_detail(json::parse(resp.body, nullptr, false));
  SendOutcome out;
  out.reason = resp.status == 0 ? "no response" : std::to_string(resp.status);
  if (!detail.empty()) out.reason += " " + detail;

  if (resp.status >= 200 && resp.status < 300) {
    out.kind = SendOutcome::Kind::kSent;
  } else if (resp.status == 429) {
    out.kind = SendOutcome::Kind::kRetry;
    out.retry_after_s = rate_limit_wait(resp.headers);
  } else if (resp.status == 0 || resp.status >= 500) {
    out.kind = SendOutcome::Kind::kRetry;  // retry_after 0: the caller backs off
  } else {
    out.kind = SendOutcome::Kind::kPermanent;  // 403 DMs closed / duplicate, 400, 401, 404
  }
  return out;
}

}  // namespace nivaran::x
