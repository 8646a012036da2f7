// The WhatsApp handler against real-shaped Cloud API notifications in testdata/ and API answers.
#include "handlers/whatsapp/whatsapp_handler.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <cstdio>
#include <string>
#include <vector>

#include "handlers/common/test_support.h"

namespace nivaran::whatsapp {
namespace {

using nlohmann::json;

constexpr char kAppSecret[] = "b7e3c1f0a9d84e2f9c6a5b4d3e2f1a0b";
constexpr char kPhoneNumberId[] = "106540352242922";
constexpr char kRahul[] = "919876543210";
constexpr char kPooja[] = "918765432109";
constexpr char kSendUrl[] = "http://127.0.0.1:9/v21.0/106540352242922/messages";

std::string fixture(const std::string& name) {
  return handlers::testing::read_fixture("whatsapp", name);
}

json config(json templates = json::object()) {
  json block = {{"verify_token", "nivaran-verify-7f3a"},
                {"app_secret", kAppSecret},
                {"access_token", "EAAGtestTOKEN"},
                {"phone_number_id", kPhoneNumberId},
                {"api_base", "http://127.0.0.1:9/v21.0/"}};
  if (!templates.empty()) block["templates"] = std::move(templates);
  return block;
}

std::shared_ptr<WhatsAppHandler> handler(json templates = json::object()) {
  auto h = WhatsAppHandler::create(config(std::move(templates)));
  REQUIRE(h.ok());
  return h.value();
}

// "sha256=" and the hex HMAC-SHA256 of `body` keyed with `secret`, as Meta signs a webhook.
std::string signature(const std::string& body, const std::string& secret = kAppSecret) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  REQUIRE(HMAC(EVP_sha256(), secret.data(), int(secret.size()),
               reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len));
  std::string out = "sha256=";
  for (unsigned i = 0; i < len; ++i) {
    char hex[3];
    std::snprintf(hex, sizeof hex, "%02x", mac[i]);
    out += hex;
  }
  return out;
}

HttpRequest post(std::string body) {
  return handlers::testing::webhook_post("whatsapp", std::move(body));
}

HttpRequest get(std::map<std::string, std::string> query) {
  HttpRequest req;
  req.method = "GET";
  req.path = "/webhook/whatsapp";
  req.query = std::move(query);
  return req;
}

// The wamid of fixture message n (see testdata/).
std::string wamid(int n) {
  char id[80];
  std::snprintf(id, sizeof id,
                "wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhgUM0VCMDRBNzI5RjdGNDc3QjAw%04dAA==", n);
  return id;
}

// Message n of the fixtures, from the sender of most of them.
InboundMessage from_rahul(int n, int64_t timestamp) {
  InboundMessage m;
  m.platform = "whatsapp";
  m.message_id = wamid(n);
  m.user_id = m.chat_id = kRahul;
  m.display_name = "राहुल शर्मा";
  m.sent_at_ms = timestamp * 1000;
  return m;
}

InboundMessage receipt(int n, std::string status, int64_t timestamp) {
  InboundMessage r;
  r.platform = "whatsapp";
  r.kind = "receipt";
  r.button = wamid(n);
  r.text = status;
  r.message_id = wamid(n) + ":" + status;
  r.user_id = r.chat_id = kRahul;
  r.sent_at_ms = timestamp * 1000;
  return r;
}

Attachment attachment(std::string kind, std::string ref, std::string mime = "") {
  Attachment a;
  a.kind = std::move(kind);
  a.ref = std::move(ref);
  a.mime = std::move(mime);
  return a;
}

Attachment location(double latitude, double longitude) {
  Attachment a = attachment("location", "");
  a.latitude = latitude;
  a.longitude = longitude;
  return a;
}

struct ParseCase {
  const char* behaviour;
  const char* fixture;
  std::vector<InboundMessage> want;  // when error is empty
  std::string error = "";            // the invalid() message must contain this
};

std::vector<ParseCase> parse_cases() {
  auto devanagari = from_rahul(1, 1732780800);
  devanagari.text = "मेरा मोबाइल कल रात बरेली बस अड्डे पर चोरी हो गया";

  auto hinglish = from_rahul(2, 1732780860);
  hinglish.user_id = hinglish.chat_id = kPooja;
  hinglish.display_name = "Pooja";
  hinglish.text = "sir mera phone chori ho gaya bareli me, FIR kaise karu?";

  auto button_press = from_rahul(3, 1732780900);
  button_press.button = "confirm:yes";
  button_press.text = "हाँ, दर्ज करें";

  auto list_choice = from_rahul(4, 1732780960);
  list_choice.button = "cat:cyber_fraud";
  list_choice.text = "साइबर अपराध / ऑनलाइन…";

  auto flow_reply = from_rahul(5, 1732781000);

  auto quick_reply = from_rahul(6, 1732781060);
  quick_reply.button = "cmd:stop";
  quick_reply.text = "बंद करें";

  auto place = from_rahul(7, 1732781120);
  place.text = "Bareilly Junction, Station Road, Bareilly, Uttar Pradesh 243001";
  place.attachments = {location(28.367021, 79.430581)};

  auto pin = from_rahul(8, 1732781180);
  pin.attachments = {location(28.1337, 79.8645)};

  auto photo = from_rahul(9, 1732781240);
  photo.text = "यह वही बाइक है जो चोरी हुई";
  photo.attachments = {attachment("photo", "1484523765823461", "image/jpeg")};

  auto audio = from_rahul(10, 1732781300);
  audio.attachments = {attachment("audio", "1197303394875566", "audio/mpeg")};

  auto voice = from_rahul(11, 1732781360);
  voice.attachments = {attachment("voice", "967452881265439", "audio/ogg; codecs=opus")};

  auto video = from_rahul(12, 1732781420);
  video.text = "घटना का वीडियो";
  video.attachments = {attachment("video", "1076203737416633", "video/mp4")};

  auto document = from_rahul(13, 1732781480);
  document.text = "ऑनलाइन ठगी का सबूत";
  document.attachments = {attachment("document", "2297165327283470", "application/pdf")};

  auto sticker = from_rahul(14, 1732781540);
  sticker.attachments = {attachment("photo", "821377216575371", "image/webp")};

  auto contact = from_rahul(15, 1732781600);
  contact.attachments = {attachment("contact", "+91 94150 12345")};

  auto unsupported = from_rahul(16, 1732781660);

  auto batch_station = from_rahul(20, 1732782180);
  batch_station.text = "थाना कोतवाली";
  auto batch_choice = from_rahul(21, 1732782181);
  batch_choice.user_id = batch_choice.chat_id = kPooja;
  batch_choice.display_name = "Pooja";
  batch_choice.text = "1";
  auto batch_photo = from_rahul(22, 1732782182);
  batch_photo.attachments = {attachment("photo", "1111222233334444", "image/jpeg")};

  const std::string msg0 = "entry[0].changes[0].value.messages[0].";

  return {
      {"a Devanagari text becomes one message named from the sender's profile",
       "text_devanagari.json",
       {devanagari}},
      {"a Hinglish text is passed through as typed", "text_hinglish.json", {hinglish}},
      {"a reply button press gives its id as button and its title as text",
       "interactive_button_reply.json",
       {button_press}},
      {"a list row choice gives its id as button and its title as text",
       "interactive_list_reply.json",
       {list_choice}},
      {"a Flow reply is not understood: an empty message",
       "interactive_nfm_reply.json",
       {flow_reply}},
      {"a template quick-reply gives its payload as button",
       "button_template_reply.json",
       {quick_reply}},
      {"a named location becomes a location attachment with its name and address as text",
       "location.json",
       {place}},
      {"a dropped pin becomes a location attachment alone", "location_pin.json", {pin}},
      {"an image keeps its caption as text and its media id and type",
       "image_caption.json",
       {photo}},
      {"an audio file becomes an audio attachment", "audio.json", {audio}},
      {"a voice note (audio with voice: true) becomes a voice attachment",
       "voice_note.json",
       {voice}},
      {"a video keeps its caption", "video.json", {video}},
      {"a document keeps its mime type and caption", "document.json", {document}},
      {"a sticker becomes a photo attachment", "sticker.json", {sticker}},
      {"shared contact cards become contact attachments holding their first phone",
       "contacts.json",
       {contact}},
      {"an unsupported message type is an empty message the dialog did not understand",
       "unsupported.json",
       {unsupported}},
      {"a reaction is ignored", "reaction.json", {}},
      {"a group message is ignored: the bot serves one-to-one chats only",
       "group_message.json",
       {}},
      {"a message to another phone number of the business account is ignored",
       "other_phone_number.json",
       {}},
      {"a template review notification is ignored", "template_status_update.json", {}},
      {"statuses become receipts, one per state change",
       "statuses.json",
       {receipt(9001, "sent", 1732782000), receipt(9001, "delivered", 1732782002),
        receipt(9001, "read", 1732782060)}},
      {"a failed status is a receipt too",
       "status_failed.json",
       {receipt(9005, "failed", 1732782120)}},
      {"several messages and statuses in one notification all arrive, in order",
       "batch.json",
       {batch_station, batch_choice, batch_photo, receipt(9006, "delivered", 1732782190)}},
      {"a truncated body is not valid JSON", "bad_truncated.json", {}, "body is not valid JSON: "},
      {"a body with invalid UTF-8 is not valid JSON",
       "bad_invalid_utf8.json",
       {},
       "body is not valid JSON: "},
      {"a JSON array is not a notification",
       "bad_not_object.json",
       {},
       "body: expected a JSON object"},
      {"another product's notification is refused",
       "bad_wrong_object.json",
       {},
       "object: expected \"whatsapp_business_account\""},
      {"entry as an object is refused", "bad_entry_not_array.json", {}, "entry: expected an array"},
      {"a numeric sender is refused naming the field",
       "bad_from_number.json",
       {},
       msg0 + "from: expected a string"},
      {"a numeric text body is refused naming the field",
       "bad_text_body_number.json",
       {},
       msg0 + "text.body: expected a string"},
      {"a timestamp that is not Unix seconds is refused",
       "bad_timestamp.json",
       {},
       msg0 + "timestamp: expected a Unix time in seconds"},
      {"a message without id is refused",
       "bad_message_without_id.json",
       {},
       msg0 + "id: expected a string"},
      {"an image without media id is refused",
       "bad_image_without_id.json",
       {},
       msg0 + "image.id: expected a string"},
      {"a voice flag that is a string is refused",
       "bad_voice_flag_string.json",
       {},
       msg0 + "audio.voice: expected true or false"},
      {"a latitude beyond 90 degrees is refused",
       "bad_location_out_of_range.json",
       {},
       msg0 + "location.latitude: expected degrees from -90 to 90"},
      {"a status without recipient_id is refused",
       "bad_status_without_recipient.json",
       {},
       "entry[0].changes[0].value.statuses[0].recipient_id: expected a string"},
  };
}

TEST_CASE("every WhatsApp fixture parses to its expected messages or names what is wrong",
          "[whatsapp]") {
  auto h = handler();
  for (const ParseCase& c : parse_cases()) {
    DYNAMIC_SECTION(c.behaviour << " (" << c.fixture << ")") {
      auto got = h->parse(post(fixture(c.fixture)));
      if (!c.error.empty()) {
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

TEST_CASE("hostile WhatsApp bodies get a clear invalid status, never a crash", "[whatsapp]") {
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
  SECTION("arrays nested 10,000 deep where a message belongs") {
    std::string body =
        R"({"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages",)"
        R"("value":{"messages":)" +
        std::string(10000, '[') + std::string(10000, ']') + "}}]}]}";
    auto got = h->parse(post(body));
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().message() == "entry[0].changes[0].value.messages[0]: expected an object");
  }
  SECTION("a 2 MB text message is passed through whole (the server enforces its body limit)") {
    std::string text;
    while (text.size() < 2 * 1024 * 1024) text += "चोरी ";
    json n = json::parse(fixture("text_devanagari.json"));
    n["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = text;
    auto got = h->parse(post(n.dump()));
    REQUIRE(got.ok());
    REQUIRE(got->size() == 1);
    CHECK(got.value()[0].text == text);
  }
  SECTION("2 MB of garbage") {
    auto got = h->parse(post(std::string(2 * 1024 * 1024, '\xff')));
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().code() == Status::Code::kInvalid);
  }
  SECTION("a timestamp beyond 64 bits") {
    json n = json::parse(fixture("text_devanagari.json"));
    n["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = "18446744073709551616";
    auto got = h->parse(post(n.dump()));
    REQUIRE_FALSE(got.ok());
    CHECK_THAT(got.status().message(),
               Catch::EndsWith("timestamp: expected a Unix time in seconds"));
  }
}

TEST_CASE("the hub.challenge handshake answers only the right verify token", "[whatsapp]") {
  auto h = handler();
  SECTION("the right token echoes the challenge as text") {
    auto r = h->handshake(get({{"hub.mode", "subscribe"},
                               {"hub.verify_token", "nivaran-verify-7f3a"},
                               {"hub.challenge", "1158201444"}}));
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->content_type == "text/plain");
    CHECK(r->body == "1158201444");
  }
  SECTION("a wrong token is forbidden") {
    auto r = h->handshake(get({{"hub.mode", "subscribe"},
                               {"hub.verify_token", "nivaran-verify-7f3b"},
                               {"hub.challenge", "1158201444"}}));
    REQUIRE(r);
    CHECK(r->status == 403);
    CHECK_THAT(r->body, Catch::Contains("hub.verify_token"));
    CHECK(h->handshake(get({{"hub.mode", "subscribe"}, {"hub.challenge", "1"}}))->status == 403);
  }
  SECTION("a GET without hub parameters is a clear 400") {
    auto r = h->handshake(get({}));
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(json::parse(r->body)["error"] ==
          "not a webhook verification: expected hub.mode, hub.verify_token and hub.challenge");
  }
  SECTION("another mode or a missing challenge is a 400") {
    CHECK(h->handshake(get({{"hub.mode", "unsubscribe"},
                            {"hub.verify_token", "nivaran-verify-7f3a"},
                            {"hub.challenge", "1"}}))
              ->status == 400);
    CHECK(
        h->handshake(get({{"hub.mode", "subscribe"}, {"hub.verify_token", "nivaran-verify-7f3a"}}))
            ->status == 400);
    CHECK(h->handshake(get({{"hub.mode", "subscribe"},
                            {"hub.verify_token", "nivaran-verify-7f3a"},
                            {"hub.challenge", "<script>"}}))
              ->status == 200);  // printable ASCII is echoed, as text/plain with nosniff
    CHECK(h->handshake(get({{"hub.mode", "subscribe"},
                            {"hub.verify_token", "nivaran-verify-7f3a"},
                            {"hub.challenge", "a b"}}))
              ->status == 400);
  }
  SECTION("a POST is no handshake") {
    HttpRequest req = post("{}");
    req.query = {{"hub.mode", "subscribe"}};
    CHECK_FALSE(h->handshake(req));
  }
}

TEST_CASE("verify checks X-Hub-Signature-256 on the raw body", "[whatsapp]") {
  auto h = handler();
  HttpRequest req = post(fixture("text_devanagari.json"));
  SECTION("the right signature is ok") {
    req.headers["x-hub-signature-256"] = signature(req.body);
    CHECK(h->verify(req).is_ok());
  }
  SECTION("upper-case hex is ok too") {
    std::string sig = signature(req.body);
    std::transform(sig.begin() + 7, sig.end(), sig.begin() + 7, ::toupper);
    req.headers["x-hub-signature-256"] = sig;
    CHECK(h->verify(req).is_ok());
  }
  SECTION("a missing header is unauthorized") {
    Status s = h->verify(req);
    CHECK(s.code() == Status::Code::kUnauthorized);
    CHECK(s.message() == "missing X-Hub-Signature-256 header");
  }
  SECTION("a signature made with another secret is unauthorized") {
    req.headers["x-hub-signature-256"] = signature(req.body, "forged-secret");
    Status s = h->verify(req);
    CHECK(s.code() == Status::Code::kUnauthorized);
    CHECK_THAT(s.message(), Catch::Contains("does not match"));
  }
  SECTION("a body changed after signing is unauthorized") {
    req.headers["x-hub-signature-256"] = signature(req.body);
    req.body.replace(req.body.find("चोरी"), std::string("चोरी").size(), "गुम");
    CHECK(h->verify(req).code() == Status::Code::kUnauthorized);
  }
  SECTION("malformed headers are unauthorized") {
    std::string good = signature(req.body);
    for (std::string bad : {good.substr(7), "sha1=" + good.substr(7), good.substr(0, 70),
                            good + "0", good.substr(0, 70) + "g", std::string("sha256=")}) {
      INFO(bad);
      req.headers["x-hub-signature-256"] = bad;
      Status s = h->verify(req);
      CHECK(s.code() == Status::Code::kUnauthorized);
      CHECK_THAT(s.message(), Catch::Contains("64 hex digits"));
    }
  }
  SECTION("a known HMAC-SHA256 test vector") {
    json block = config();
    block["app_secret"] = "key";
    auto k = WhatsAppHandler::create(block);
    REQUIRE(k.ok());
    HttpRequest fox = post("The quick brown fox jumps over the lazy dog");
    fox.headers["x-hub-signature-256"] =
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8";
    CHECK(k.value()->verify(fox).is_ok());
  }
}

TEST_CASE("the WhatsApp configuration block is validated naming the field", "[whatsapp]") {
  struct Case {
    json block;
    const char* error;
  };
  auto without = [](const char* key) {
    json b = config();
    b.erase(key);
    return b;
  };
  auto with = [](const char* key, json value) {
    json b = config();
    b[key] = std::move(value);
    return b;
  };
  std::vector<Case> cases = {
      {json::array(), "platforms.whatsapp: must be an object"},
      {without("verify_token"), "platforms.whatsapp.verify_token: must be a non-empty string"},
      {with("app_secret", ""), "platforms.whatsapp.app_secret: must be a non-empty string"},
      {with("access_token", 42), "platforms.whatsapp.access_token: must be a non-empty string"},
      {without("phone_number_id"),
       "platforms.whatsapp.phone_number_id: must be a non-empty string"},
      {with("phone_number_id", "+91 581 200 0112"), "platforms.whatsapp.phone_number_id: "},
      {with("api_base", "graph.facebook.com"), "platforms.whatsapp.api_base: "},
      {with("list_button", "बहुत लंबा बटन लेबल जो बीस से ज़्यादा है"), "platforms.whatsapp.list_button: "},
      {with("templates", "nivaran_update"), "platforms.whatsapp.templates: must be an object"},
      {with("templates", {{"outside_window", {{"language", "hi"}}}}),
       "platforms.whatsapp.templates.outside_window.name: "},
      {with("templates", {{"outside_window", {{"name", "Nivaran Update"}, {"language", "hi"}}}}),
       "platforms.whatsapp.templates.outside_window.name: "},
      {with("templates", {{"outside_window", {{"name", "nivaran_update"}}}}),
       "platforms.whatsapp.templates.outside_window.language: "},
      {with("templates", {{"outside_window",
                           {{"name", "nivaran_update"}, {"language", "hi"}, {"max_chars", 5000}}}}),
       "platforms.whatsapp.templates.outside_window.max_chars: "},
      {with("templates", {{"awareness", "x"}}), "platforms.whatsapp.templates.awareness: "},
  };
  for (const Case& c : cases) {
    auto h = WhatsAppHandler::create(c.block);
    INFO(c.block.dump());
    REQUIRE_FALSE(h.ok());
    CHECK(h.status().code() == Status::Code::kInvalid);
    CHECK_THAT(h.status().message(), Catch::StartsWith(c.error));
  }
  SECTION("api_base defaults to the Graph API") {
    auto ok = WhatsAppHandler::create(without("api_base"));
    REQUIRE(ok.ok());
    OutboundMessage m;
    m.chat_id = kRahul;
    m.reply.text = "x";
    CHECK(ok.value()->render(m)[0].url ==
          "https://graph.facebook.com/v21.0/106540352242922/messages");
  }
}

TEST_CASE("make_handler builds whatsapp", "[whatsapp]") {
  auto wa = make_handler("whatsapp", config());
  REQUIRE(wa.ok());
  CHECK(wa.value()->platform() == "whatsapp");
  CHECK(make_handler("whatsapp", json::object()).status().code() == Status::Code::kInvalid);
}

OutboundMessage reply_to(std::string text, std::vector<ReplyOption> options = {},
                         bool outside_window = false) {
  OutboundMessage m;
  m.platform = "whatsapp";
  m.chat_id = kRahul;
  m.reply.text = std::move(text);
  m.reply.options = std::move(options);
  m.outside_window = outside_window;
  return m;
}

json body_of(const ApiCall& call) { return json::parse(call.body); }

size_t code_points(const std::string& s) {
  return size_t(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

const std::vector<ReplyOption> kCategories = {
    {"cat:theft", "चोरी / लूट"},
    {"cat:cyber_fraud", "साइबर अपराध / ऑनलाइन धोखाधड़ी"},
    {"cat:women_safety", "महिलाओं से जुड़ा अपराध / छेड़छाड़"},
    {"cat:assault", "मारपीट / धमकी"},
    {"cat:land_dispute", "ज़मीन / संपत्ति विवाद"},
    {"cat:missing_person", "गुमशुदा व्यक्ति"},
    {"cat:traffic", "यातायात / सड़क"},
    {"cat:police_conduct", "पुलिसकर्मी के व्यवहार की शिकायत"},
    {"cat:objectionable_post", "सोशल मीडिया पर आपत्तिजनक पोस्ट"},
    {"cat:other", "अन्य"},
};

TEST_CASE("render turns a reply into Cloud API /messages calls", "[whatsapp]") {
  auto h = handler();

  SECTION("a plain reply is one text message with the bearer token") {
    auto calls = h->render(reply_to("नमस्ते, मैं आपकी कैसे मदद कर सकता हूँ?"));
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].method == "POST");
    CHECK(calls[0].url == kSendUrl);
    CHECK(calls[0].headers ==
          std::vector<std::pair<std::string, std::string>>{
              {"Authorization", "Bearer EAAGtestTOKEN"}, {"Content-Type", "application/json"}});
    CHECK(body_of(calls[0]) == json::parse(R"({"messaging_product":"whatsapp",
        "recipient_type":"individual","to":"919876543210","type":"text",
        "text":{"body":"नमस्ते, मैं आपकी कैसे मदद कर सकता हूँ?"}})"));
  }
  SECTION("up to three short options become reply buttons over the numbered text") {
    auto calls = h->render(
        reply_to("क्या जानकारी सही है?", {{"confirm:yes", "हाँ, दर्ज करें"}, {"confirm:edit", "बदलें"}}));
    REQUIRE(calls.size() == 1);
    CHECK(body_of(calls[0]) == json::parse(R"({"messaging_product":"whatsapp",
        "recipient_type":"individual","to":"919876543210","type":"interactive",
        "interactive":{"type":"button",
          "body":{"text":"क्या जानकारी सही है?\n\n1. हाँ, दर्ज करें\n2. बदलें"},
          "action":{"buttons":[
            {"type":"reply","reply":{"id":"confirm:yes","title":"हाँ, दर्ज करें"}},
            {"type":"reply","reply":{"id":"confirm:edit","title":"बदलें"}}]}}})"));
  }
  SECTION("four to ten options become a list with the Hindi button label") {
    std::vector<ReplyOption> districts = {{"dist:bareilly", "बरेली"},
                                          {"dist:badaun", "बदायूँ"},
                                          {"dist:pilibhit", "पीलीभीत"},
                                          {"dist:shahjahanpur", "शाहजहाँपुर"}};
    auto calls = h->render(reply_to("ज़िला चुनें:", districts));
    REQUIRE(calls.size() == 1);
    json interactive = body_of(calls[0])["interactive"];
    CHECK(interactive["type"] == "list");
    CHECK(interactive["body"]["text"] == "ज़िला चुनें:\n\n1. बरेली\n2. बदायूँ\n3. पीलीभीत\n4. शाहजहाँपुर");
    CHECK(interactive["action"] == json::parse(R"({"button":"विकल्प चुनें","sections":[{"rows":[
        {"id":"dist:bareilly","title":"बरेली"},{"id":"dist:badaun","title":"बदायूँ"},
        {"id":"dist:pilibhit","title":"पीलीभीत"},{"id":"dist:shahjahanpur","title":"शाहजहाँपुर"}]}]})"));
  }
  SECTION("a button title over 20 characters turns the buttons into a list") {
    auto calls = h->render(reply_to("?", {{"a", "बरेली"}, {"b", "पुलिसकर्मी का व्यवहार"}}));
    CHECK(body_of(calls[0])["interactive"]["type"] == "list");
  }
  SECTION("two alike titles cannot be buttons") {
    auto calls = h->render(reply_to("?", {{"a", "हाँ"}, {"b", "हाँ"}}));
    CHECK(body_of(calls[0])["interactive"]["type"] == "list");
  }
  SECTION("list titles over 24 characters are cut between syllables, whole in the description") {
    auto calls = h->render(reply_to("शिकायत की श्रेणी चुनें:", kCategories));
    REQUIRE(calls.size() == 1);
    json body = body_of(calls[0]);
    std::string text = body["interactive"]["body"]["text"];
    CHECK_THAT(text, Catch::Contains("\n2. साइबर अपराध / ऑनलाइन धोखाधड़ी\n"));  // full titles
    CHECK_THAT(text, Catch::EndsWith("\n10. अन्य"));
    json rows = body["interactive"]["action"]["sections"][0]["rows"];
    REQUIRE(rows.size() == 10);
    CHECK(rows[0] == json{{"id", "cat:theft"}, {"title", "चोरी / लूट"}});
    CHECK(rows[1] == json{{"id", "cat:cyber_fraud"},
                          {"title", "साइबर अपराध / ऑनलाइन…"},
                          {"description", "साइबर अपराध / ऑनलाइन धोखाधड़ी"}});
    for (const json& row : rows) {
      std::string title = row["title"];
      INFO(title);
      CHECK(code_points(title) <= 24);
      // Never ends inside a syllable: on a virama, or with a vowel sign cut from its letter.
      CHECK_FALSE(title.ends_with("्…"));
    }
  }
  SECTION("a long word is cut at a syllable, never between a consonant and its vowel sign") {
    // 23 characters fit before the "…": the 24th (the vowel sign of "कि") must go with its letter.
    std::string a22;
    for (int i = 0; i < 22; ++i) a22 += "अ";
    std::string title = a22 + "कि" + "अअअ";
    auto calls = h->render(reply_to("?", {{"x", title}}));
    json row = body_of(calls[0])["interactive"]["action"]["sections"][0]["rows"][0];
    CHECK(row["title"] == a22 + "…");
    CHECK(row["description"] == title);
  }
  SECTION("more than ten options are numbered text only") {
    std::vector<ReplyOption> stations;
    for (int i = 1; i <= 11; ++i)
      stations.push_back({"ps:" + std::to_string(i), "थाना " + std::to_string(i)});
    auto calls = h->render(reply_to("थाना चुनें:", stations));
    REQUIRE(calls.size() == 1);
    json body = body_of(calls[0]);
    CHECK(body["type"] == "text");
    CHECK_THAT(body["text"]["body"].get<std::string>(),
               Catch::StartsWith("थाना चुनें:\n\n1. थाना 1\n2. थाना 2\n") &&
                   Catch::EndsWith("\n11. थाना 11"));
  }
  SECTION("options without a usable id keep their numbered line but no button") {
    auto calls =
        h->render(reply_to("?", {{"", "खाली"}, {std::string(201, 'x'), "लंबा"}, {"no", "नहीं"}}));
    json interactive = body_of(calls[0])["interactive"];
    CHECK(interactive["body"]["text"] == "?\n\n1. खाली\n2. लंबा\n3. नहीं");
    CHECK(interactive["action"]["buttons"] ==
          json::parse(R"([{"type":"reply","reply":{"id":"no","title":"नहीं"}}])"));
    auto none = h->render(reply_to("?", {{"", "खाली"}}));
    CHECK(body_of(none[0])["type"] == "text");
    CHECK(body_of(none[0])["text"]["body"] == "?\n\n1. खाली");
  }
  SECTION("text over 4096 characters is split at line ends") {
    std::string line(1000, 'a');
    std::string text = line + "\n" + line + "\n" + line + "\n" + line + "\n" + line;
    auto calls = h->render(reply_to(text));
    REQUIRE(calls.size() == 2);
    CHECK(body_of(calls[0])["text"]["body"] == line + "\n" + line + "\n" + line + "\n" + line);
    CHECK(body_of(calls[1])["text"]["body"] == line);
  }
  SECTION("a line over 4096 characters is cut between words") {
    std::string text;
    while (code_points(text) < 5000) text += "शिकायत ";
    auto calls = h->render(reply_to(text));
    REQUIRE(calls.size() == 2);
    std::string first = body_of(calls[0])["text"]["body"];
    std::string second = body_of(calls[1])["text"]["body"];
    CHECK(code_points(first) <= 4096);
    CHECK(first.ends_with("शिकायत"));
    CHECK(second.starts_with("शिकायत"));
    CHECK(first + " " + second + " " == text);
  }
  SECTION("emoji count two units each") {
    std::string emoji;
    for (int i = 0; i < 2049; ++i) emoji += "🚓";  // 4098 units
    auto calls = h->render(reply_to(emoji));
    REQUIRE(calls.size() == 2);
    CHECK(body_of(calls[1])["text"]["body"] == "🚓");
  }
  SECTION("a long reply with options sends text first, the buttons on a body within 1024") {
    std::string para(900, 'a');
    std::string text = para + "\n\n" + para + "\n\n" + para;
    auto calls = h->render(reply_to(text, {{"y", "हाँ"}, {"n", "नहीं"}}));
    REQUIRE(calls.size() == 2);
    CHECK(body_of(calls[0])["text"]["body"] == para + "\n\n" + para);
    json interactive = body_of(calls[1])["interactive"];
    CHECK(interactive["type"] == "button");
    CHECK(interactive["body"]["text"] == para + "\n\n1. हाँ\n2. नहीं");
  }
  SECTION("an empty reply sends nothing") { CHECK(h->render(reply_to("")).empty()); }
}

TEST_CASE("outside the 24-hour window a reply goes as the configured template", "[whatsapp]") {
  auto h = handler(
      {{"outside_window", {{"name", "nivaran_update"}, {"language", "hi"}, {"max_chars", 60}}}});

  SECTION("the text and numbered options become the one body parameter, on one line") {
    auto calls =
        h->render(reply_to("आपकी शिकायत BLY-2024-0042 पर\nकार्रवाई हुई।", {{"ok", "ठीक है"}}, true));
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].url == kSendUrl);
    CHECK(body_of(calls[0]) == json::parse(R"({"messaging_product":"whatsapp",
        "recipient_type":"individual","to":"919876543210","type":"template",
        "template":{"name":"nivaran_update","language":{"code":"hi"},
          "components":[{"type":"body","parameters":[
            {"type":"text","text":"आपकी शिकायत BLY-2024-0042 पर कार्रवाई हुई। 1. ठीक है"}]}]}})"));
  }
  SECTION("a long text is cut to max_chars with an ellipsis") {
    std::string text;
    for (int i = 0; i < 30; ++i) text += "सूचना    ";
    auto calls = h->render(reply_to(text, {}, true));
    REQUIRE(calls.size() == 1);
    std::string param = body_of(calls[0])["template"]["components"][0]["parameters"][0]["text"];
    CHECK(code_points(param) <= 60);
    CHECK(param.ends_with("सूचना…"));
    CHECK(param.find("  ") == std::string::npos);
  }
  SECTION("an emoji that does not fit beside the ellipsis is left out whole") {
    auto tiny = handler(
        {{"outside_window", {{"name", "nivaran_update"}, {"language", "hi"}, {"max_chars", 2}}}});
    auto calls = tiny->render(reply_to("🚓🚓", {}, true));
    CHECK(body_of(calls[0])["template"]["components"][0]["parameters"][0]["text"] == "…");
  }
  SECTION("inside the window the same handler sends free text") {
    CHECK(body_of(h->render(reply_to("नमस्ते"))[0])["type"] == "text");
  }
  SECTION("without a configured template the reply goes as free text for WhatsApp to refuse") {
    auto calls = handler()->render(reply_to("नमस्ते", {}, true));
    REQUIRE(calls.size() == 1);
    CHECK(body_of(calls[0])["type"] == "text");
  }
}

TEST_CASE("classify maps Cloud API answers to send outcomes", "[whatsapp]") {
  auto h = handler();
  using Kind = SendOutcome::Kind;
  auto error = [](int code, const std::string& message, const std::string& details = "") {
    json e = {{"error",
               {{"message", message},
                {"type", "OAuthException"},
                {"code", code},
                {"fbtrace_id", "AbCdEf123"}}}};
    if (!details.empty()) {
      e["error"]["error_data"] = {{"messaging_product", "whatsapp"}, {"details", details}};
    }
    return e.dump();
  };
  SECTION("200 is sent") {
    auto o = h->classify({200,
                          R"({"messaging_product":"whatsapp","contacts":[{"input":"919876543210",
                              "wa_id":"919876543210"}],"messages":[{"id":"wamid.HBgM"}]})",
                          {}});
    CHECK(o.kind == Kind::kSent);
  }
  SECTION("429 retries after the Retry-After header") {
    auto o = h->classify({429, error(130429, "(#130429) Rate limit hit"), {{"retry-after", "12"}}});
    CHECK(o.kind == Kind::kRetry);
    CHECK(o.retry_after_s == 12);
    CHECK(o.reason == "429 error 130429: Rate limit hit");
  }
  SECTION("rate-limit codes retry whatever the HTTP status, backing off without a header") {
    for (int code : {130429, 131048, 131056, 4, 80007}) {
      INFO(code);
      auto o = h->classify({400, error(code, "rate limited"), {}});
      CHECK(o.kind == Kind::kRetry);
      CHECK(o.retry_after_s == 0);
    }
    CHECK(h->classify({400, error(131056, "pair"), {{"retry-after", "Wed, 21 Oct 2015"}}})
              .retry_after_s == 0);
  }
  SECTION("5xx and no answer retry with backoff") {
    auto o = h->classify({503, "<html>Service Unavailable</html>", {}});
    CHECK(o.kind == Kind::kRetry);
    CHECK(o.reason == "503");
    auto none = h->classify({0, "", {}});
    CHECK(none.kind == Kind::kRetry);
    CHECK(none.reason == "no response");
  }
  SECTION("131047 outside the window is permanent, saying no template is configured") {
    auto o = h->classify({400,
                          error(131047, "(#131047) Re-engagement message",
                                "Message failed to send because more than 24 hours have passed "
                                "since the customer last replied to this number."),
                          {}});
    CHECK(o.kind == Kind::kPermanent);
    CHECK_THAT(o.reason, Catch::StartsWith("400 error 131047: Re-engagement message: Message "
                                           "failed to send because more than 24 hours"));
    CHECK_THAT(o.reason, Catch::Contains("no platforms.whatsapp.templates.outside_window"));
    auto with_template =
        handler({{"outside_window", {{"name", "nivaran_update"}, {"language", "hi"}}}})
            ->classify({400, error(131047, "Re-engagement message"), {}});
    CHECK(with_template.kind == Kind::kPermanent);
    CHECK_THAT(with_template.reason, Catch::Contains("only a template may be sent"));
  }
  SECTION("131026 undeliverable is permanent with the API's message") {
    auto o = h->classify({400, error(131026, "Message Undeliverable."), {}});
    CHECK(o.kind == Kind::kPermanent);
    CHECK(o.reason == "400 error 131026: Message Undeliverable.");
  }
  SECTION("an expired access token is permanent") {
    auto o =
        h->classify({401, error(190, "Error validating access token: Session has expired"), {}});
    CHECK(o.kind == Kind::kPermanent);
    CHECK_THAT(o.reason, Catch::Contains("Session has expired"));
  }
  SECTION("a 4xx without a JSON body is permanent") {
    auto o = h->classify({404, "Not Found", {}});
    CHECK(o.kind == Kind::kPermanent);
    CHECK(o.reason == "404");
  }
}

}  // namespace
}  // namespace nivaran::whatsapp
