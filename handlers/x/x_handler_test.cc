// The X handler against real-shaped Account Activity webhooks in testdata/ and X API answers.
#include "handlers/x/x_handler.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "handlers/common/test_support.h"

namespace nivaran::x {
namespace {

using nlohmann::json;

constexpr char kConsumerSecret[] = "xC0nsumerS3cretForTestsOnly0123456789abcdefABCDEF";
constexpr char kBot[] = "1460000000000000001";
constexpr char kRahul[] = "1234567890123456789";
constexpr char kPooja[] = "1300000000000000042";

std::string fixture(const std::string& name) {
  return handlers::testing::read_fixture("x", name);
}

json config() {
  return {{"consumer_secret", kConsumerSecret},
          {"bearer_token", "user-ctx-TOKEN"},
          {"api_base", "http://127.0.0.1:9/"},
          {"bot_user_id", kBot},
          {"handle", "@BareillyPolice"}};
}

std::shared_ptr<XHandler> handler(json block = config()) {
  auto h = XHandler::create(block);
  REQUIRE(h.ok());
  return h.value();
}

// "sha256=" + base64 HMAC-SHA256 of `message` keyed with `key`, computed here independently of
// the handler.
std::string hmac_base64(const std::string& message, const std::string& key = kConsumerSecret) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), int(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  unsigned char b64[64];
  int n = EVP_EncodeBlock(b64, mac, int(len));
  return "sha256=" + std::string(reinterpret_cast<char*>(b64), size_t(n));
}

HttpRequest post(std::string body) {
  return handlers::testing::webhook_post("x", std::move(body));
}

InboundMessage dm(std::string id, std::string sender, std::string name, int64_t ms,
                  std::string text) {
  InboundMessage m;
  m.platform = "x";
  m.message_id = std::move(id);
  m.user_id = sender;
  m.chat_id = sender;
  m.display_name = std::move(name);
  m.sent_at_ms = ms;
  m.text = std::move(text);
  return m;
}

InboundMessage mention(std::string tweet_id, std::string author, std::string name,
                       std::string text) {
  InboundMessage m;
  m.platform = "x";
  m.kind = "mention";
  m.message_id = "tweet:" + tweet_id;
  m.chat_id = tweet_id;
  m.user_id = std::move(author);
  m.display_name = std::move(name);
  m.text = std::move(text);
  m.sent_at_ms = 1732780900000;
  return m;
}

Attachment attachment(std::string kind, std::string ref) {
  Attachment a;
  a.kind = std::move(kind);
  a.ref = std::move(ref);
  return a;
}

OutboundMessage reply_to(std::string chat_id, std::string text,
                         std::vector<ReplyOption> options = {}, std::string kind = "") {
  OutboundMessage m;
  m.platform = "x";
  m.chat_id = std::move(chat_id);
  m.reply.text = std::move(text);
  m.reply.options = std::move(options);
  m.kind = std::move(kind);
  return m;
}

struct ParseCase {
  const char* behaviour;
  const char* fixture;
  std::vector<InboundMessage> want;  // when error is empty
  const char* error = "";            // the invalid() message must contain this
};

std::vector<ParseCase> parse_cases() {
  auto quick = dm("1862000000000000002", kRahul, "राहुल शर्मा", 1732780860000, "साइबर अपराध");
  quick.button = "cyber_fraud";

  auto photo = dm("1862000000000000003", kRahul, "राहुल शर्मा", 1732781000000,
                  "यह वही बाइक है https://t.co/Ab12Cd34Ef");
  photo.attachments = {attachment(
      "photo",
      "https://ton.twitter.com/1.1/ton/data/dm/1862000000000000003/1862000000000000999/bike.jpg")};

  std::string long_text = "@bareillypolice ";
  for (int i = 0; i < 4; ++i) long_text += "सर, कल रात से मेरा भाई घर नहीं लौटा, फ़ोन बंद आ रहा है। ";
  long_text += "कृपया तुरंत मदद करें #missing https://t.co/Pp33Oo44Ii";
  auto extended = mention("1862100000000000002", kPooja, "Pooja", long_text);
  extended.attachments = {
      attachment("photo", "https://pbs.twimg.com/media/GdPhoto777.jpg"),
      attachment("video", "https://x.com/pooja_b/status/1862100000000000002/video/1")};

  return {
      {"a Devanagari DM becomes one message named from the users map",
       "dm_text_devanagari.json",
       {dm("1862000000000000001", kRahul, "राहुल शर्मा", 1732780800123,
           "मेरा मोबाइल कल रात बरेली बस अड्डे पर चोरी हो गया")}},
      {"a quick-reply response keeps its metadata as the button", "dm_quick_reply.json", {quick}},
      {"a DM photo becomes a photo attachment, the t.co link left in the text",
       "dm_photo.json",
       {photo}},
      {"a DM with a link keeps the t.co URL as sent",
       "dm_link.json",
       {dm("1862000000000000004", kRahul, "राहुल शर्मा", 1732781100000,
           "यह पोस्ट आपत्तिजनक है https://t.co/Zz98Yy76Xx")}},
      {"the bot's own DM is ignored", "dm_own.json", {}},
      {"a batch gives one message per citizen DM, the bot's own left out",
       "dm_batch.json",
       {dm("1862000000000000006", kRahul, "राहुल शर्मा", 1732781300001, "नमस्ते"),
        dm("1862000000000000008", kPooja, "Pooja", 1732781300003,
           "sir mera phone chori ho gaya bareli me")}},
      {"a DM without a users map has no display name",
       "dm_without_users.json",
       {dm("1862000000000000009", kRahul, "", 1732781400000, "status?")}},
      {"a DM event of another type is ignored", "dm_other_event_type.json", {}},
      {"a post mentioning the bot becomes a mention answered on that post",
       "mention.json",
       {mention("1862100000000000001", kRahul, "राहुल शर्मा",
                "@bareillypolice मेरी बाइक सुभाष नगर से चोरी हो गई, कृपया मदद करें")}},
      {"a long post gives its full text and media from extended_tweet",
       "mention_extended.json",
       {extended}},
      {"a reply to the bot's post counts as a mention",
       "reply_to_bot.json",
       {mention("1862100000000000003", kRahul, "राहुल शर्मा", "धन्यवाद, शिकायत संख्या मिल गई")}},
      {"a mention by the configured handle alone counts",
       "mention_by_handle.json",
       {mention("1862100000000000007", kRahul, "राहुल शर्मा", "@BareillyPolice help")}},
      {"the bot's own post is ignored", "own_tweet.json", {}},
      {"a retweet of the bot is ignored", "retweet.json", {}},
      {"a quote of the bot's post that does not name it is ignored",
       "quote_without_mention.json",
       {}},
      {"a mention from an account the bot blocked is ignored", "mention_blocked.json", {}},
      {"likes are ignored", "favorite_events.json", {}},
      {"follows are ignored", "follow_events.json", {}},
      {"typing indicators are ignored", "typing.json", {}},
      {"read marks are ignored", "mark_read.json", {}},
      {"a truncated body is not valid JSON", "bad_truncated.json", {}, "body is not valid JSON: "},
      {"a body with invalid UTF-8 is not valid JSON",
       "bad_invalid_utf8.json",
       {},
       "body is not valid JSON: "},
      {"a JSON array is not an Account Activity event",
       "bad_not_object.json",
       {},
       "expected a JSON object"},
      {"direct_message_events that is not an array is refused",
       "bad_dm_events_not_array.json",
       {},
       "direct_message_events: expected an array"},
      {"a numeric sender_id is refused naming the field",
       "bad_dm_sender_number.json",
       {},
       "direct_message_events[0].message_create.sender_id: expected a string"},
      {"a numeric text is refused naming the field",
       "bad_dm_text_number.json",
       {},
       "direct_message_events[0].message_create.message_data.text: expected a string"},
      {"a created_timestamp that is not a number is refused",
       "bad_dm_created_timestamp.json",
       {},
       "direct_message_events[0].created_timestamp: expected a non-negative integer"},
      {"a message_create event without message_create is refused",
       "bad_dm_without_message_create.json",
       {},
       "direct_message_events[0].message_create: expected an object"},
      {"a users map that is not an object is refused",
       "bad_users_not_object.json",
       {},
       "users: expected an object"},
      {"a post without its user is refused",
       "bad_tweet_without_user.json",
       {},
       "tweet_create_events[0].user: expected an object"},
      {"a mentioning post without text is refused",
       "bad_tweet_text_missing.json",
       {},
       "tweet_create_events[0].text: expected a string"},
      {"a numeric for_user_id is refused",
       "bad_for_user_id_number.json",
       {},
       "for_user_id: expected a string"},
  };
}

TEST_CASE("every X fixture parses to its expected messages or names what is wrong", "[x]") {
  auto h = handler();
  for (const ParseCase& c : parse_cases()) {
    DYNAMIC_SECTION(c.behaviour << " (" << c.fixture << ")") {
      HttpRequest req = post(fixture(c.fixture));
      req.headers["x-twitter-webhooks-signature"] = hmac_base64(req.body);
      REQUIRE(h->verify(req).is_ok());  // a signed body passes, whatever it holds
      auto got = h->parse(req);
      if (*c.error) {
        REQUIRE_FALSE(got.ok());
        CHECK(got.status().code() == Status::Code::kInvalid);
        CHECK_THAT(got.status().message(), Catch::Contains(c.error));
      } else {
        REQUIRE(got.ok());
        CHECK(got.value() == c.want);
      }
    }
  }
}

TEST_CASE("without bot_user_id the subscription's for_user_id identifies the bot", "[x]") {
  json block = config();
  block.erase("bot_user_id");
  block.erase("handle");
  auto h = handler(block);
  SECTION("its own DMs are still ignored") {
    auto got = h->parse(post(fixture("dm_batch.json")));
    REQUIRE(got.ok());
    CHECK(got->size() == 2);
  }
  SECTION("mentions by id and replies still count; a handle alone no longer does") {
    CHECK(h->parse(post(fixture("mention.json")))->size() == 1);
    CHECK(h->parse(post(fixture("reply_to_bot.json")))->size() == 1);
    CHECK(h->parse(post(fixture("own_tweet.json")))->empty());
    CHECK(h->parse(post(fixture("mention_by_handle.json")))->empty());
  }
}

TEST_CASE("hostile X bodies get a clear invalid status, never a crash", "[x]") {
  auto h = handler();
  SECTION("an empty body") {
    auto got = h->parse(post(""));
    REQUIRE_FALSE(got.ok());
    CHECK_THAT(got.status().message(), Catch::StartsWith("body is not valid JSON: "));
  }
  SECTION("the refusal of invalid UTF-8 does not quote the invalid bytes") {
    auto got = h->parse(post(fixture("bad_invalid_utf8.json")));
    REQUIRE_FALSE(got.ok());
    std::string message = got.status().message();
    CHECK(std::all_of(message.begin(), message.end(),
                      [](unsigned char c) { return c >= 0x20 && c < 0x7f; }));
  }
  SECTION("arrays nested 10,000 deep") {
    auto got = h->parse(post(std::string(10000, '[') + std::string(10000, ']')));
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().code() == Status::Code::kInvalid);
  }
  SECTION("arrays nested 10,000 deep inside direct_message_events") {
    std::string body =
        R"({"direct_message_events":)" + std::string(10000, '[') + std::string(10000, ']') + "}";
    auto got = h->parse(post(body));
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().message() == "direct_message_events[0]: expected an object");
  }
  SECTION("objects nested 10,000 deep under a post") {
    std::string body = R"({"tweet_create_events":[{"id_str":"1","user":)";
    for (int i = 0; i < 10000; ++i) body += R"({"id_str":)";
    body += "1" + std::string(10000, '}') + "}]}";
    auto got = h->parse(post(body));
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().message() == "tweet_create_events[0].user.id_str: expected a string");
  }
  SECTION("a 2 MB DM parses whole (the server's body limit refuses it first)") {
    std::string text(2 * 1024 * 1024, 'a');
    json event = {{"type", "message_create"},
                  {"id", "1"},
                  {"created_timestamp", "1"},
                  {"message_create", {{"sender_id", kRahul}, {"message_data", {{"text", text}}}}}};
    std::string body = json{{"for_user_id", kBot}, {"direct_message_events", {event}}}.dump();
    HttpRequest req = post(body);
    req.headers["x-twitter-webhooks-signature"] = hmac_base64(body);
    CHECK(h->verify(req).is_ok());
    auto got = h->parse(req);
    REQUIRE(got.ok());
    REQUIRE(got->size() == 1);
    CHECK(got->at(0).text.size() == text.size());
  }
  SECTION("a 2 MB body of garbage") {
    auto got = h->parse(post(std::string(2 * 1024 * 1024, '[')));
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().code() == Status::Code::kInvalid);
  }
}

TEST_CASE("verify checks x-twitter-webhooks-signature against the raw body", "[x]") {
  auto h = handler();
  const std::string body = fixture("dm_text_devanagari.json");
  HttpRequest req = post(body);
  SECTION("the right signature is ok") {
    req.headers["x-twitter-webhooks-signature"] = hmac_base64(body);
    CHECK(h->verify(req).is_ok());
  }
  SECTION("a missing header is unauthorized") {
    Status s = h->verify(req);
    CHECK(s.code() == Status::Code::kUnauthorized);
    CHECK(s.message() == "missing x-twitter-webhooks-signature header");
  }
  SECTION("a forged signature is unauthorized") {
    req.headers["x-twitter-webhooks-signature"] = hmac_base64(body, "forged-secret");
    CHECK(h->verify(req).code() == Status::Code::kUnauthorized);
  }
  SECTION("a body changed after signing is unauthorized") {
    req.headers["x-twitter-webhooks-signature"] = hmac_base64(body);
    req.body.pop_back();
    CHECK(h->verify(req).code() == Status::Code::kUnauthorized);
  }
  SECTION("malformed signatures are unauthorized") {
    std::string good = hmac_base64(body);
    for (const std::string& bad : {good.substr(7), good.substr(0, good.size() - 1), good + "=",
                                   std::string("sha256="), std::string("garbage")}) {
      req.headers["x-twitter-webhooks-signature"] = bad;
      INFO(bad);
      CHECK(h->verify(req).code() == Status::Code::kUnauthorized);
    }
  }
}

TEST_CASE("the CRC answers with the token signed by the consumer secret", "[x]") {
  auto h = handler();
  HttpRequest req;
  req.method = "GET";
  req.path = "/webhook/x";
  SECTION("a crc_token gets its response_token") {
    req.query["crc_token"] = "Y2hhbGxlbmdlLTE3MzI3ODA4MDA";
    auto r = h->handshake(req);
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->content_type == "application/json");
    CHECK(json::parse(r->body) ==
          json{{"response_token", hmac_base64("Y2hhbGxlbmdlLTE3MzI3ODA4MDA")}});
    // The same value as `printf %s TOKEN | openssl dgst -sha256 -hmac SECRET -binary | base64`.
    CHECK(json::parse(r->body)["response_token"] ==
          "sha256=ds2MairUGhvGUVjgjAzkMprqBAUlP6nqMhlfhb+23zg=");
  }
  SECTION("a GET without crc_token is 400") {
    auto r = h->handshake(req);
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(json::parse(r->body)["error"] == "expected the query parameter crc_token");
  }
  SECTION("a POST is no handshake") {
    req.method = "POST";
    CHECK_FALSE(h->handshake(req));
  }
}

TEST_CASE("the X configuration block is validated naming the field", "[x]") {
  struct Case {
    json block;
    const char* error;
  };
  auto with = [](const char* key, json value) {
    json b = config();
    b[key] = std::move(value);
    return b;
  };
  auto without = [](const char* key) {
    json b = config();
    b.erase(key);
    return b;
  };
  std::vector<Case> cases = {
      {json::array(), "platforms.x: expected an object"},
      {without("consumer_secret"), "platforms.x.consumer_secret: expected a non-empty string"},
      {with("consumer_secret", ""), "platforms.x.consumer_secret: expected a non-empty string"},
      {without("bearer_token"),
       "platforms.x: the credentials to send replies are missing: consumer_key, access_token"},
      {with("bearer_token", ""), "platforms.x.bearer_token: expected a non-empty string"},
      {with("consumer_key", "ck"), "platforms.x: give either bearer_token or consumer_key"},
      {[&] {
         json b = without("bearer_token");
         b["consumer_key"] = "ck";
         b["access_token"] = "at";
         return b;
       }(),
       "platforms.x.access_token_secret: expected a non-empty string"},
      {[&] {
         json b = without("bearer_token");
         b["access_token"] = "at";
         b["access_token_secret"] = "ats";
         return b;
       }(),
       "platforms.x.consumer_key: expected a non-empty string"},
      {with("api_base", "api.x.com"), "platforms.x.api_base: "},
      {with("bot_user_id", "bareillypolice"), "platforms.x.bot_user_id: "},
      {with("bot_user_id", -5), "platforms.x.bot_user_id: "},
      {with("handle", "bareilly police"), "platforms.x.handle: "},
      {with("handle", "@"), "platforms.x.handle: "},
      {with("handle", "a_handle_far_too_long"), "platforms.x.handle: "},
  };
  for (const Case& c : cases) {
    auto h = XHandler::create(c.block);
    INFO(c.block.dump());
    REQUIRE_FALSE(h.ok());
    CHECK(h.status().code() == Status::Code::kInvalid);
    CHECK_THAT(h.status().message(), Catch::StartsWith(c.error));
  }
  auto minimal = XHandler::create({{"consumer_secret", "c"}, {"bearer_token", "b"}});
  REQUIRE(minimal.ok());
  CHECK(minimal.value()->render(reply_to("42", "x"))[0].url ==
        "https://api.x.com/2/dm_conversations/with/42/messages");
  CHECK(XHandler::create(with("bot_user_id", 1460000000000000001ULL)).ok());
  auto registered = make_handler("x", config());
  REQUIRE(registered.ok());
  CHECK(registered.value()->platform() == "x");
  CHECK(make_handler("x", without("bearer_token")).status().code() == Status::Code::kInvalid);
}

// X's published worked example of an OAuth 1.0a signature ("Creating a signature"): a status
// update with two request parameters. Every conforming signer gets this signature.
TEST_CASE("OAuth 1.0a signing reproduces X's worked example", "[x][oauth]") {
  const std::string url = "https://api.twitter.com/1.1/statuses/update.json";
  const x::Params request = {{"status", "Hello Ladies + Gentlemen, a signed OAuth request!"},
                             {"include_entities", "true"}};
  x::OAuth1Credentials c{"xvz1evFS4wEEPTGEFPHBog", "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
                         "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
                         "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE"};
  const std::string nonce = "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg";
  x::Params all = request;
  all.insert(all.end(), {{"oauth_consumer_key", c.consumer_key},
                         {"oauth_nonce", nonce},
                         {"oauth_signature_method", "HMAC-SHA1"},
                         {"oauth_timestamp", "1318622958"},
                         {"oauth_token", c.token},
                         {"oauth_version", "1.0"}});
  CHECK(x::oauth1_base_string("POST", url, all) ==
        "POST&https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json&"
        "include_entities%3Dtrue%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26"
        "oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26"
        "oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26"
        "oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26"
        "oauth_version%3D1.0%26status%3DHello%2520Ladies%2520%252B%2520Gentlemen"
        "%252C%2520a%2520signed%2520OAuth%2520request%2521");
  CHECK(x::oauth1_signature("POST", url, all, c.consumer_secret, c.token_secret) ==
        "hCtSmYh+iHYCEqBWrE7C7hYmtUk=");
  CHECK(x::oauth1_header(c, "POST", url, request, nonce, 1318622958) ==
        "OAuth oauth_consumer_key=\"xvz1evFS4wEEPTGEFPHBog\", "
        "oauth_nonce=\"kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg\", "
        "oauth_signature=\"hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D\", "
        "oauth_signature_method=\"HMAC-SHA1\", oauth_timestamp=\"1318622958\", "
        "oauth_token=\"370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb\", "
        "oauth_version=\"1.0\"");

  CHECK(x::percent_encode("a-b.c_d~e") == "a-b.c_d~e");
  CHECK(x::percent_encode("शिकायत 1/2*") ==
        "%E0%A4%B6%E0%A4%BF%E0%A4%95%E0%A4%BE%E0%A4%AF%E0%A4%A4%201%2F2%2A");
  const std::string n1 = x::oauth1_nonce(), n2 = x::oauth1_nonce();
  CHECK(n1.size() == 32);
  CHECK(std::all_of(n1.begin(), n1.end(), [](char ch) { return std::isalnum(ch) != 0; }));
  CHECK(n1 != n2);
}

TEST_CASE("with OAuth 1.0a credentials replies are signed as the bot's account", "[x][oauth]") {
  json block = config();
  block.erase("bearer_token");
  block["consumer_key"] = "app-key";
  block["access_token"] = "1460000000000000001-botTOKEN";
  block["access_token_secret"] = "bot-token-secret";
  auto h = handler(block);
  h->set_oauth1_clock([] { return int64_t{1795000000}; }, [] { return std::string("NONCE42"); });
  for (const ApiCall& call : {h->render(reply_to(kRahul, "नमस्ते"))[0],
                              h->render(reply_to("1800000000000000001", "धन्यवाद", {}, "mention"))[0]}) {
    INFO(call.url);
    REQUIRE(call.headers.size() == 2);
    CHECK(call.headers[1].first == "Authorization");
    const std::string& auth = call.headers[1].second;
    x::OAuth1Credentials c{"app-key", kConsumerSecret, "1460000000000000001-botTOKEN",
                           "bot-token-secret"};
    // Signed over the URL alone: a JSON body is not part of the signature.
    CHECK(auth == x::oauth1_header(c, "POST", call.url, {}, "NONCE42", 1795000000));
    const std::string sig = x::oauth1_signature(
        "POST", call.url,
        {{"oauth_consumer_key", "app-key"}, {"oauth_nonce", "NONCE42"},
         {"oauth_signature_method", "HMAC-SHA1"}, {"oauth_timestamp", "1795000000"},
         {"oauth_token", "1460000000000000001-botTOKEN"}, {"oauth_version", "1.0"}},
        kConsumerSecret, "bot-token-secret");
    CHECK(auth.find("oauth_signature=\"" + x::percent_encode(sig) + "\"") !=
          std::string::npos);
    CHECK(auth.find("Bearer") == std::string::npos);
  }
}

json body_of(const ApiCall& call) { return json::parse(call.body); }

// X's weighted length for the texts used here: 1 per code point up to U+10FF, 2 otherwise.
int weight(const std::string& s) {
  int n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = s[i];
    if ((c & 0xC0) == 0x80) continue;
    n += c < 0xE0 ? 1 : (c < 0xE1 || (c == 0xE1 && (unsigned char)s[i + 1] < 0x84)) ? 1 : 2;
  }
  return n;
}

TEST_CASE("render turns a private reply into v2 DM calls", "[x]") {
  auto h = handler();
  SECTION("a plain reply is one DM to the citizen, the bearer token in a header") {
    auto calls = h->render(reply_to(kRahul, "नमस्ते"));
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].method == "POST");
    CHECK(calls[0].url ==
          "http://127.0.0.1:9/2/dm_conversations/with/1234567890123456789/messages");
    CHECK(calls[0].headers ==
          std::vector<std::pair<std::string, std::string>>{
              {"Content-Type", "application/json"}, {"Authorization", "Bearer user-ctx-TOKEN"}});
    CHECK(body_of(calls[0]) == json{{"text", "नमस्ते"}});
  }
  SECTION("options become a numbered list in the text") {
    auto calls = h->render(reply_to(kRahul, "श्रेणी चुनें:", {{"theft", "चोरी"}, {"other", "अन्य"}}));
    CHECK(body_of(calls[0]) == json{{"text", "श्रेणी चुनें:\n\n1. चोरी\n2. अन्य"}});
  }
  SECTION("text over 10,000 units is split at line ends") {
    std::string line(6000, 'a');
    auto calls = h->render(reply_to(kRahul, line + "\n" + line));
    REQUIRE(calls.size() == 2);
    CHECK(body_of(calls[0])["text"] == line);
    CHECK(body_of(calls[1])["text"] == line);
  }
  SECTION("a chat id that is not a plain id is escaped in the path") {
    auto calls = h->render(reply_to("12/../34", "x"));
    CHECK(calls[0].url == "http://127.0.0.1:9/2/dm_conversations/with/12%2F..%2F34/messages");
  }
  SECTION("an empty reply sends nothing") { CHECK(h->render(reply_to(kRahul, "")).empty()); }
}

TEST_CASE("render answers a mention with one public reply within 280 characters", "[x]") {
  auto h = handler();
  SECTION("a short answer replies to the post") {
    auto calls = h->render(
        reply_to("1862100000000000001", "कृपया हमें DM करें, आपकी शिकायत दर्ज की जाएगी।", {}, "mention"));
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].url == "http://127.0.0.1:9/2/tweets");
    CHECK(body_of(calls[0]) == json{{"text", "कृपया हमें DM करें, आपकी शिकायत दर्ज की जाएगी।"},
                                    {"reply", {{"in_reply_to_tweet_id", "1862100000000000001"}}}});
  }
  SECTION("exactly 280 Devanagari characters are sent whole") {
    std::string text;
    for (int i = 0; i < 280; ++i) text += "क";
    CHECK(body_of(h->render(reply_to("1", text, {}, "mention"))[0])["text"] == text);
  }
  SECTION("a long answer is cut at a code point and ends with an ellipsis") {
    std::string text;
    for (int i = 0; i < 300; ++i) text += "क";
    std::string sent = body_of(h->render(reply_to("1", text, {}, "mention"))[0])["text"];
    std::string want;
    for (int i = 0; i < 278; ++i) want += "क";
    CHECK(sent == want + "…");
    CHECK(weight(sent) == 280);
  }
  SECTION("emoji weigh two, so fewer fit") {
    std::string text;
    for (int i = 0; i < 150; ++i) text += "🚓";
    std::string sent = body_of(h->render(reply_to("1", text, {}, "mention"))[0])["text"];
    std::string want;
    for (int i = 0; i < 139; ++i) want += "🚓";
    CHECK(sent == want + "…");
  }
  SECTION("a link counts as 23 however short it is") {
    // "देखें" is 5 code points; with the 14-character link counted as 23 the prefix weighs 30.
    std::string text = "देखें https://a.in " + std::string(254, 'x');  // weighs 284
    std::string sent = body_of(h->render(reply_to("1", text, {}, "mention"))[0])["text"];
    CHECK(sent == "देखें https://a.in " + std::string(248, 'x') + "…");
  }
  SECTION("the cut drops trailing spaces before the ellipsis") {
    std::string text = std::string(277, 'a') + "    " + std::string(10, 'b');
    std::string sent = body_of(h->render(reply_to("1", text, {}, "mention"))[0])["text"];
    CHECK(sent == std::string(277, 'a') + "…");
  }
  SECTION("a blank answer sends nothing") {
    CHECK(h->render(reply_to("1", " \n", {}, "mention")).empty());
  }
}

TEST_CASE("classify maps X API answers to send outcomes", "[x]") {
  auto h = handler();
  using Kind = SendOutcome::Kind;
  SECTION("201 is sent") {
    auto o = h->classify(
        {201, R"({"data":{"dm_conversation_id":"1-2","dm_event_id":"1862000000000000100"}})", {}});
    CHECK(o.kind == Kind::kSent);
  }
  SECTION("429 prefers Retry-After") {
    auto o = h->classify(
        {429,
         R"({"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429})",
         {{"retry-after", "42"}, {"x-rate-limit-reset", "1732781800"}}});
    CHECK(o.kind == Kind::kRetry);
    CHECK(o.retry_after_s == 42);
    CHECK(o.reason == "429 Too Many Requests");
  }
  SECTION("429 without Retry-After waits until x-rate-limit-reset, by the answer's Date") {
    auto o = h->classify({429,
                          "",
                          {{"x-rate-limit-reset", "1732781700"},
                           {"date", "Thu, 28 Nov 2024 08:00:00 GMT"}}});  // 1732780800
    CHECK(o.kind == Kind::kRetry);
    CHECK(o.retry_after_s == 900);
  }
  SECTION("429 with a reset already past waits one second") {
    auto o = h->classify(
        {429,
         "",
         {{"x-rate-limit-reset", "1732780000"}, {"date", "Thu, 28 Nov 2024 08:00:00 GMT"}}});
    CHECK(o.retry_after_s == 1);
  }
  SECTION("429 with nothing usable waits 60 seconds") {
    CHECK(h->classify({429, "", {{"x-rate-limit-reset", "1732781700"}}}).retry_after_s == 60);
    CHECK(h->classify({429, "", {{"date", "yesterday"}, {"x-rate-limit-reset", "1"}}})
              .retry_after_s == 60);
    CHECK(h->classify({429, "", {}}).retry_after_s == 60);
  }
  SECTION("5xx and no answer retry with backoff") {
    auto o = h->classify({503, "<html>", {}});
    CHECK(o.kind == Kind::kRetry);
    CHECK(o.retry_after_s == 0);
    CHECK(h->classify({0, "", {}}).reason == "no response");
  }
  SECTION("a citizen who does not accept DMs is permanent, with the API's detail") {
    auto o = h->classify(
        {403,
         R"({"detail":"You are not permitted to send this DM","type":"about:blank","title":"Forbidden","status":403})",
         {}});
    CHECK(o.kind == Kind::kPermanent);
    CHECK(o.reason == "403 You are not permitted to send this DM");
  }
  SECTION("a bad request names the first error") {
    auto o = h->classify(
        {400,
         R"({"errors":[{"parameters":{"text":[""]},"message":"The text field cannot be empty"}],"title":"Invalid Request","type":"https://api.twitter.com/2/problems/invalid-request"})",
         {}});
    CHECK(o.kind == Kind::kPermanent);
    CHECK(o.reason == "400 The text field cannot be empty");
  }
  SECTION("404 and 401 are permanent") {
    CHECK(h->classify({404, R"({"title":"Not Found Error"})", {}}).reason == "404 Not Found Error");
    CHECK(h->classify({401, "Unauthorized", {}}).kind == Kind::kPermanent);
  }
}

}  // namespace
}  // namespace nivaran::x
