// The Messenger handler against real-shaped page webhooks in testdata/ and Send API answers.
#include "handlers/messenger/messenger_handler.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "handlers/common/test_support.h"

namespace nivaran::messenger {
namespace {

using nlohmann::json;

constexpr char kAppSecret[] = "0f3c9e1d2b7a46c8a5e4d3c2b1a09876";
constexpr char kPsid[] = "6543210987654321";

std::string fixture(const std::string& name) {
  return handlers::testing::read_fixture("messenger", name);
}

std::shared_ptr<MessengerHandler> handler() {
  auto h = MessengerHandler::create({{"verify_token", "nivaran-verify-7Qx"},
                                     {"app_secret", kAppSecret},
                                     {"page_access_token", "EAAGpageTOKEN"},
                                     {"api_base", "http://127.0.0.1:9/v21.0/"}});
  REQUIRE(h.ok());
  return h.value();
}

// "sha256=" + hex HMAC-SHA256 of `body`, computed here independently of the handler.
std::string sign(const std::string& body, const std::string& secret = kAppSecret) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), int(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  std::string out = "sha256=";
  char hex[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", mac[i]);
    out += hex;
  }
  return out;
}

HttpRequest post(std::string body) {
  return handlers::testing::webhook_post("messenger", std::move(body));
}

HttpRequest get(std::map<std::string, std::string> query) {
  HttpRequest req;
  req.method = "GET";
  req.path = "/webhook/messenger";
  req.query = std::move(query);
  return req;
}

InboundMessage from_citizen(std::string mid, int64_t ms, std::string psid = kPsid) {
  InboundMessage m;
  m.platform = "messenger";
  m.message_id = std::move(mid);
  m.user_id = psid;
  m.chat_id = psid;
  m.sent_at_ms = ms;
  return m;
}

InboundMessage receipt(std::string message_id, std::string state, std::string mid, int64_t ms) {
  InboundMessage m = from_citizen(std::move(message_id), ms);
  m.kind = "receipt";
  m.text = std::move(state);
  m.button = std::move(mid);
  return m;
}

Attachment attachment(std::string kind, std::string ref) {
  Attachment a;
  a.kind = std::move(kind);
  a.ref = std::move(ref);
  return a;
}

OutboundMessage reply_to(std::string chat_id, std::string text,
                         std::vector<ReplyOption> options = {}) {
  OutboundMessage m;
  m.platform = "messenger";
  m.chat_id = std::move(chat_id);
  m.reply.text = std::move(text);
  m.reply.options = std::move(options);
  return m;
}

struct ParseCase {
  const char* behaviour;
  const char* fixture;
  std::vector<InboundMessage> want;  // when error is empty
  const char* error = "";            // the invalid() message must contain this
};

std::vector<ParseCase> parse_cases() {
  auto devanagari = from_citizen("m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_devanagari", 1732780800123);
  devanagari.text = "मेरा मोबाइल कल रात बरेली बस अड्डे पर चोरी हो गया";

  auto quick = from_citizen("m_quick_reply_1", 1732780860000);
  quick.text = "साइबर अपराध";
  quick.button = "cyber_fraud";

  auto postback = from_citizen("m_postback_1", 1732780900000);
  postback.text = "शिकायत दर्ज करें";
  postback.button = "file_complaint";

  auto get_started = from_citizen("postback:6543210987654321:1732780910000", 1732780910000);
  get_started.text = "Get Started";
  get_started.button = "GET_STARTED";

  auto image = from_citizen("m_image_1", 1732781000000);
  image.attachments = {attachment(
      "photo", "https://scontent.xx.fbcdn.net/v/t1.15752-9/bike_photo.jpg?_nc_cat=1&oh=abc")};

  auto files = from_citizen("m_files_1", 1732781060000);
  files.text = "ठगी के सबूत";
  files.attachments = {
      attachment("audio", "https://cdn.fbsbx.com/v/t59.3654-21/audioclip-1732781060.mp4"),
      attachment("video", "https://video.xx.fbcdn.net/v/t42.3356-2/clip.mp4"),
      attachment("document", "https://cdn.fbsbx.com/v/t59.2708-21/upi_statement.pdf")};

  auto location = from_citizen("m_location_1", 1732781180000);
  location.attachments = {attachment("location", "")};
  location.attachments[0].latitude = 28.367021;
  location.attachments[0].longitude = 79.430581;

  auto shared = from_citizen("m_share_1", 1732781240000);
  shared.text = "यह पोस्ट आपत्तिजनक है\nhttps://www.facebook.com/share/p/1AbCdEfGh/";

  auto sticker = from_citizen("m_sticker_1", 1732781250000);
  sticker.attachments = {
      attachment("photo", "https://scontent.xx.fbcdn.net/v/t39.1997-6/like.png")};

  auto batch_1 = from_citizen("m_batch_1", 1732781600001);
  batch_1.text = "नमस्ते";
  auto batch_2 = from_citizen("m_batch_2", 1732781600003, "7012345678901234");
  batch_2.text = "hello sir, FIR kaise karu?";
  auto batch_3 = from_citizen("m_batch_3", 1732781600004, "7012345678901234");
  batch_3.text = "स्थिति जानें";
  batch_3.button = "status";

  auto string_time = from_citizen("m_ts_string", 1732781900000);
  string_time.text = "ok";

  return {
      {"a Devanagari text message becomes one message from the sender's PSID",
       "text_devanagari.json",
       {devanagari}},
      {"a quick-reply tap keeps the title as text and its payload as the button",
       "quick_reply.json",
       {quick}},
      {"a postback keeps its title as text and its payload as the button",
       "postback.json",
       {postback}},
      {"a postback without mid gets an id from its sender and time",
       "postback_get_started.json",
       {get_started}},
      {"an image becomes a photo attachment referenced by its URL", "image.json", {image}},
      {"audio, video and a file become attachments of those kinds",
       "voice_video_file.json",
       {files}},
      {"a shared location becomes a location attachment", "location.json", {location}},
      {"a shared post keeps its URL in the text as evidence", "shared_post.json", {shared}},
      {"a sticker arrives as the image it is", "sticker.json", {sticker}},
      {"an echo of the page's own message is ignored", "echo.json", {}},
      {"a delivery with two mids gives one receipt per mid",
       "delivery.json",
       {receipt("delivery:m_sent_1", "delivered", "m_sent_1", 1732781400000),
        receipt("delivery:m_sent_2", "delivered", "m_sent_2", 1732781400000)}},
      {"a delivery with only a watermark gives one receipt named by sender and watermark",
       "delivery_watermark_only.json",
       {receipt("delivery:6543210987654321:1732781400500", "delivered", "", 1732781401000)}},
      {"a read event gives a read receipt",
       "read.json",
       {receipt("read:6543210987654321:1732781450000", "read", "", 1732781500000)}},
      {"several entries and events in one POST give several messages, echoes left out",
       "batch.json",
       {batch_1, batch_2, batch_3}},
      {"a standby event (another app has the thread) is ignored", "standby.json", {}},
      {"a reaction is ignored", "reaction.json", {}},
      {"a chat-plugin guest without a PSID is ignored", "chat_plugin_guest.json", {}},
      {"a timestamp sent as a digit string is accepted", "timestamp_string.json", {string_time}},
      {"a truncated body is not valid JSON", "bad_truncated.json", {}, "body is not valid JSON: "},
      {"a body with invalid UTF-8 is not valid JSON",
       "bad_invalid_utf8.json",
       {},
       "body is not valid JSON: "},
      {"a JSON array is not a page webhook", "bad_not_object.json", {}, "expected a JSON object"},
      {"an instagram webhook is refused",
       "bad_object_instagram.json",
       {},
       "object: expected \"page\""},
      {"a body without entry is refused", "bad_missing_entry.json", {}, "entry: expected an array"},
      {"messaging that is not an array is refused",
       "bad_messaging_not_array.json",
       {},
       "entry[0].messaging: expected an array"},
      {"a numeric sender id is refused naming the field",
       "bad_sender_id_number.json",
       {},
       "entry[0].messaging[0].sender.id: expected a string"},
      {"a numeric text is refused naming the field",
       "bad_text_number.json",
       {},
       "entry[0].messaging[0].message.text: expected a string"},
      {"a message without mid is refused",
       "bad_missing_mid.json",
       {},
       "entry[0].messaging[0].message.mid: expected a string"},
      {"a negative timestamp is refused",
       "bad_timestamp_negative.json",
       {},
       "entry[0].messaging[0].timestamp: expected a non-negative integer"},
      {"is_echo that is not a boolean is refused",
       "bad_is_echo_string.json",
       {},
       "message.is_echo: expected true or false"},
      {"a location without coordinates is refused",
       "bad_location_without_coordinates.json",
       {},
       "message.attachments[0].payload.coordinates: expected an object"},
      {"an image without a URL is refused",
       "bad_image_without_url.json",
       {},
       "message.attachments[0].payload.url: expected a non-empty string"},
      {"a numeric delivery mid is refused",
       "bad_delivery_mid_number.json",
       {},
       "delivery.mids[0]: expected a non-empty string"},
      {"a read event without watermark is refused",
       "bad_read_without_watermark.json",
       {},
       "read.watermark: expected a non-negative integer"},
  };
}

TEST_CASE("every Messenger fixture parses to its expected messages or names what is wrong",
          "[messenger]") {
  auto h = handler();
  for (const ParseCase& c : parse_cases()) {
    DYNAMIC_SECTION(c.behaviour << " (" << c.fixture << ")") {
      HttpRequest req = post(fixture(c.fixture));
      req.headers["x-hub-signature-256"] = sign(req.body);
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

TEST_CASE("hostile Messenger bodies get a clear invalid status, never a crash", "[messenger]") {
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
  SECTION("arrays nested 10,000 deep inside entry") {
    std::string body =
        R"({"object":"page","entry":)" + std::string(10000, '[') + std::string(10000, ']') + "}";
    auto got = h->parse(post(body));
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().message() == "entry[0]: expected an object");
  }
  SECTION("objects nested 10,000 deep under message") {
    std::string body = R"({"object":"page","entry":[{"messaging":[{"sender":{"id":"1"},"message":)";
    for (int i = 0; i < 10000; ++i) body += R"({"mid":)";
    body += "1" + std::string(10000, '}') + "}]}]}";
    auto got = h->parse(post(body));
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().message() == "entry[0].messaging[0].message.mid: expected a string");
  }
  SECTION("a 2 MB text message parses whole (the server's body limit refuses it first)") {
    std::string text(2 * 1024 * 1024, 'a');
    std::string body = json{{"object", "page"},
                            {"entry",
                             {{{"id", "1"},
                               {"messaging",
                                {{{"sender", {{"id", kPsid}}},
                                  {"timestamp", 1},
                                  {"message", {{"mid", "m_big"}, {"text", text}}}}}}}}}}
                           .dump();
    HttpRequest req = post(body);
    req.headers["x-hub-signature-256"] = sign(body);
    CHECK(h->verify(req).is_ok());
    auto got = h->parse(req);
    REQUIRE(got.ok());
    REQUIRE(got->size() == 1);
    CHECK(got->at(0).text.size() == text.size());
  }
  SECTION("a 2 MB body of garbage") {
    auto got = h->parse(post(std::string(2 * 1024 * 1024, '{')));
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().code() == Status::Code::kInvalid);
  }
  SECTION("a timestamp beyond 64 bits") {
    auto got = h->parse(post(
        R"({"object":"page","entry":[{"messaging":[{"sender":{"id":"1"},"timestamp":18446744073709551615,"message":{"mid":"m"}}]}]})"));
    REQUIRE_FALSE(got.ok());
    CHECK_THAT(got.status().message(),
               Catch::EndsWith("timestamp: expected a non-negative integer"));
  }
}

TEST_CASE("verify checks X-Hub-Signature-256 against the raw body", "[messenger]") {
  auto h = handler();
  const std::string body = fixture("text_devanagari.json");
  HttpRequest req = post(body);
  SECTION("the right signature is ok, in either hex case") {
    req.headers["x-hub-signature-256"] = sign(body);
    CHECK(h->verify(req).is_ok());
    std::string upper = sign(body);
    std::transform(upper.begin() + 7, upper.end(), upper.begin() + 7, ::toupper);
    req.headers["x-hub-signature-256"] = upper;
    CHECK(h->verify(req).is_ok());
  }
  SECTION("a missing header is unauthorized") {
    Status s = h->verify(req);
    CHECK(s.code() == Status::Code::kUnauthorized);
    CHECK(s.message() == "missing X-Hub-Signature-256 header");
  }
  SECTION("a signature made with another secret is unauthorized") {
    req.headers["x-hub-signature-256"] = sign(body, "forged-secret");
    Status s = h->verify(req);
    CHECK(s.code() == Status::Code::kUnauthorized);
    CHECK_THAT(s.message(), Catch::Contains("does not match"));
  }
  SECTION("a body changed after signing is unauthorized") {
    req.headers["x-hub-signature-256"] = sign(body);
    req.body += " ";
    CHECK(h->verify(req).code() == Status::Code::kUnauthorized);
  }
  SECTION("malformed headers are unauthorized") {
    std::string good = sign(body);
    for (const std::string& bad :
         {good.substr(7), "sha1=" + good.substr(7), good.substr(0, good.size() - 1), good + "0",
          "sha256=" + std::string(64, 'g'), std::string("sha256=")}) {
      req.headers["x-hub-signature-256"] = bad;
      Status s = h->verify(req);
      INFO(bad);
      CHECK(s.code() == Status::Code::kUnauthorized);
      CHECK_THAT(s.message(), Catch::StartsWith("X-Hub-Signature-256: expected sha256="));
    }
  }
}

TEST_CASE("the subscription handshake answers hub.challenge only to the right token",
          "[messenger]") {
  auto h = handler();
  SECTION("the right token answers the challenge as plain text") {
    auto r = h->handshake(get({{"hub.mode", "subscribe"},
                               {"hub.verify_token", "nivaran-verify-7Qx"},
                               {"hub.challenge", "1158201444"}}));
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->content_type == "text/plain");
    CHECK(r->body == "1158201444");
  }
  SECTION("a wrong token is 403 with a JSON error") {
    auto r = h->handshake(get({{"hub.mode", "subscribe"},
                               {"hub.verify_token", "nivaran-verify-7Qy"},
                               {"hub.challenge", "1158201444"}}));
    REQUIRE(r);
    CHECK(r->status == 403);
    CHECK(json::parse(r->body)["error"] == "hub.verify_token does not match verify_token");
  }
  SECTION("a GET without the parameters is 400") {
    auto r = h->handshake(get({}));
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(json::parse(r->body).contains("error"));
  }
  SECTION("another hub.mode is 400") {
    auto r = h->handshake(get({{"hub.mode", "unsubscribe"},
                               {"hub.verify_token", "nivaran-verify-7Qx"},
                               {"hub.challenge", "1"}}));
    REQUIRE(r);
    CHECK(r->status == 400);
  }
  SECTION("a challenge that is not plain printable text is 400") {
    auto r = h->handshake(get({{"hub.mode", "subscribe"},
                               {"hub.verify_token", "nivaran-verify-7Qx"},
                               {"hub.challenge", "<script>alert(1)</script> x"}}));
    REQUIRE(r);
    CHECK(r->status == 400);
  }
  SECTION("a POST is no handshake") { CHECK_FALSE(h->handshake(post("{}"))); }
}

TEST_CASE("the Messenger configuration block is validated naming the field", "[messenger]") {
  struct Case {
    json block;
    const char* error;
  };
  const json ok = {{"verify_token", "v"}, {"app_secret", "s"}, {"page_access_token", "t"}};
  auto without = [&ok](const char* key) {
    json b = ok;
    b.erase(key);
    return b;
  };
  auto with = [&ok](const char* key, json value) {
    json b = ok;
    b[key] = std::move(value);
    return b;
  };
  std::vector<Case> cases = {
      {json::array(), "platforms.messenger: expected an object"},
      {without("verify_token"), "platforms.messenger.verify_token: expected a non-empty string"},
      {without("app_secret"), "platforms.messenger.app_secret: expected a non-empty string"},
      {with("app_secret", ""), "platforms.messenger.app_secret: expected a non-empty string"},
      {with("page_access_token", 7),
       "platforms.messenger.page_access_token: expected a non-empty string"},
      {with("api_base", "graph.facebook.com"), "platforms.messenger.api_base: "},
      {with("api_base", 1), "platforms.messenger.api_base: "},
  };
  for (const Case& c : cases) {
    auto h = MessengerHandler::create(c.block);
    INFO(c.block.dump());
    REQUIRE_FALSE(h.ok());
    CHECK(h.status().code() == Status::Code::kInvalid);
    CHECK_THAT(h.status().message(), Catch::StartsWith(c.error));
  }
  auto made = MessengerHandler::create(ok);
  REQUIRE(made.ok());
  CHECK(made.value()->render(reply_to("1", "x"))[0].url ==
        "https://graph.facebook.com/v21.0/me/messages");
  auto registered = make_handler("messenger", ok);
  REQUIRE(registered.ok());
  CHECK(registered.value()->platform() == "messenger");
  CHECK(make_handler("messenger", without("app_secret")).status().code() == Status::Code::kInvalid);
}

json body_of(const ApiCall& call) { return json::parse(call.body); }

std::vector<ReplyOption> options(int n, const std::string& title = "T") {
  std::vector<ReplyOption> out;
  for (int i = 1; i <= n; ++i) out.push_back({"o" + std::to_string(i), title});
  return out;
}

TEST_CASE("render turns a reply into Send API calls", "[messenger]") {
  auto h = handler();
  SECTION("a plain reply is one RESPONSE message to the PSID, the token in a header") {
    auto calls = h->render(reply_to(kPsid, "नमस्ते"));
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].method == "POST");
    CHECK(calls[0].url == "http://127.0.0.1:9/v21.0/me/messages");
    CHECK(calls[0].headers ==
          std::vector<std::pair<std::string, std::string>>{
              {"Content-Type", "application/json"}, {"Authorization", "Bearer EAAGpageTOKEN"}});
    CHECK(body_of(calls[0]) == json{{"recipient", {{"id", kPsid}}},
                                    {"messaging_type", "RESPONSE"},
                                    {"message", {{"text", "नमस्ते"}}}});
  }
  SECTION("outside the 24-hour window a reply is tagged HUMAN_AGENT, quick replies kept") {
    OutboundMessage late = reply_to(kPsid, "आपकी शिकायत पर कार्रवाई हुई है।", {{"o1", "हाँ"}});
    late.outside_window = true;
    auto calls = h->render(late);
    REQUIRE(calls.size() == 1);
    json body = body_of(calls[0]);
    CHECK(body["messaging_type"] == "MESSAGE_TAG");
    CHECK(body["tag"] == "HUMAN_AGENT");
    CHECK(body["recipient"]["id"] == kPsid);
    CHECK(body["message"]["quick_replies"].size() == 1);
    late.outside_window = false;
    CHECK_FALSE(body_of(h->render(late)[0]).contains("tag"));
  }
  SECTION("options become a numbered list and quick replies with their ids as payloads") {
    auto calls = h->render(
        reply_to(kPsid, "श्रेणी चुनें:", {{"theft", "चोरी / लूट"}, {"cyber_fraud", "साइबर अपराध"}}));
    REQUIRE(calls.size() == 1);
    json message = body_of(calls[0])["message"];
    CHECK(message["text"] == "श्रेणी चुनें:\n\n1. चोरी / लूट\n2. साइबर अपराध");
    CHECK(message["quick_replies"] == json::parse(R"([
        {"content_type":"text","title":"चोरी / लूट","payload":"theft"},
        {"content_type":"text","title":"साइबर अपराध","payload":"cyber_fraud"}])"));
  }
  SECTION("thirteen options are all quick replies") {
    json message = body_of(h->render(reply_to(kPsid, "ज़िला", options(13)))[0])["message"];
    CHECK(message["quick_replies"].size() == 13);
  }
  SECTION("fourteen options are only a numbered list: no choice is dropped") {
    json message =
        body_of(h->render(reply_to(kPsid, "थाना", options(14, "Kotwali")))[0])["message"];
    CHECK_FALSE(message.contains("quick_replies"));
    CHECK_THAT(message["text"].get<std::string>(), Catch::EndsWith("\n13. Kotwali\n14. Kotwali"));
  }
  SECTION("a title over 20 characters turns every button into its number") {
    auto calls = h->render(reply_to(
        kPsid, "?", {{"cyber_fraud", "साइबर अपराध / ऑनलाइन धोखाधड़ी"}, {"theft", "चोरी / लूट"}}));
    json message = body_of(calls[0])["message"];
    CHECK(message["text"] == "?\n\n1. साइबर अपराध / ऑनलाइन धोखाधड़ी\n2. चोरी / लूट");
    CHECK(message["quick_replies"] == json::parse(R"([
        {"content_type":"text","title":"1","payload":"cyber_fraud"},
        {"content_type":"text","title":"2","payload":"theft"}])"));
  }
  SECTION("a title of exactly 20 characters stays") {
    std::string twenty(20, 'x');
    json message = body_of(h->render(reply_to(kPsid, "?", {{"a", twenty}}))[0])["message"];
    CHECK(message["quick_replies"][0]["title"] == twenty);
  }
  SECTION("an empty option id means no quick replies at all") {
    json message = body_of(h->render(reply_to(kPsid, "?", {{"a", "A"}, {"", "B"}}))[0])["message"];
    CHECK_FALSE(message.contains("quick_replies"));
    CHECK(message["text"] == "?\n\n1. A\n2. B");
  }
  SECTION("text over 2000 units is split at line ends, quick replies on the last part") {
    std::string line(900, 'a');  // three lines: 2702 units with newlines
    auto calls = h->render(reply_to(kPsid, line + "\n" + line + "\n" + line, {{"y", "हाँ"}}));
    REQUIRE(calls.size() == 2);
    CHECK(body_of(calls[0])["message"] == json{{"text", line + "\n" + line}});
    CHECK(body_of(calls[1])["message"]["text"] == line + "\n\n1. हाँ");
    CHECK(body_of(calls[1])["message"]["quick_replies"].size() == 1);
  }
  SECTION("a single line over 2000 units is cut at code points, emoji counting two") {
    std::string emoji;
    for (int i = 0; i < 1001; ++i) emoji += "🚓";  // 2002 units
    auto calls = h->render(reply_to(kPsid, emoji));
    REQUIRE(calls.size() == 2);
    CHECK(body_of(calls[0])["message"]["text"].get<std::string>().size() == 1000 * 4);
    CHECK(body_of(calls[1])["message"]["text"] == "🚓");
  }
  SECTION("an empty reply sends nothing") { CHECK(h->render(reply_to(kPsid, "")).empty()); }
}

TEST_CASE("classify maps Send API answers to send outcomes", "[messenger]") {
  auto h = handler();
  using Kind = SendOutcome::Kind;
  auto graph_error = [](int code, const std::string& message) {
    return json{{"error",
                 {{"message", message},
                  {"type", "OAuthException"},
                  {"code", code},
                  {"fbtrace_id", "AbCdEf"}}}}
        .dump();
  };
  SECTION("200 is sent") {
    auto o = h->classify({200, R"({"recipient_id":"6543210987654321","message_id":"m_1"})", {}});
    CHECK(o.kind == Kind::kSent);
  }
  SECTION("429 retries after Retry-After") {
    auto o = h->classify({429, "", {{"retry-after", "30"}}});
    CHECK(o.kind == Kind::kRetry);
    CHECK(o.retry_after_s == 30);
  }
  SECTION("rate-limit codes retry even when Graph answers 400") {
    for (int code : {4, 17, 32, 613}) {
      auto o = h->classify(
          {400, graph_error(code, "(#613) Calls to this api have exceeded the rate limit."), {}});
      INFO(code);
      CHECK(o.kind == Kind::kRetry);
      CHECK(o.retry_after_s == 60);
    }
  }
  SECTION("a temporary send failure retries with backoff") {
    auto o = h->classify(
        {400, graph_error(1200, "Temporary send message failure. Please try again later"), {}});
    CHECK(o.kind == Kind::kRetry);
    CHECK(o.retry_after_s == 0);
  }
  SECTION("5xx and no answer retry with backoff") {
    CHECK(h->classify({503, "<html>", {}}).kind == Kind::kRetry);
    auto o = h->classify({0, "", {}});
    CHECK(o.kind == Kind::kRetry);
    CHECK(o.retry_after_s == 0);
    CHECK(o.reason == "no response");
  }
  SECTION("a person who is not available is permanent, with the API's message") {
    auto o =
        h->classify({400, graph_error(551, "(#551) This person isn't available right now."), {}});
    CHECK(o.kind == Kind::kPermanent);
    CHECK(o.reason == "400 (#551) This person isn't available right now. (code 551)");
  }
  SECTION("permission and token errors are permanent") {
    for (int code : {10, 200, 230, 190, 100}) {
      auto o = h->classify({code == 190 ? 401 : 403, graph_error(code, "denied"), {}});
      INFO(code);
      CHECK(o.kind == Kind::kPermanent);
      CHECK_THAT(o.reason, Catch::Contains("denied (code " + std::to_string(code) + ")"));
    }
  }
  SECTION("a 4xx that is not JSON is permanent") {
    auto o = h->classify({404, "Not Found", {}});
    CHECK(o.kind == Kind::kPermanent);
    CHECK(o.reason == "404");
  }
}

}  // namespace
}  // namespace nivaran::messenger
