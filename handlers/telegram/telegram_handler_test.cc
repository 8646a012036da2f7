// The Telegram handler against real-shaped Updates in testdata/ and Bot API answers.
#include "handlers/telegram/telegram_handler.h"

#include <algorithm>
#include <charconv>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "handlers/common/test_support.h"

namespace nivaran::telegram {
namespace {

using nlohmann::json;

std::string fixture(const std::string& name) {
  return handlers::testing::read_fixture("telegram", name);
}

std::shared_ptr<TelegramHandler> handler(const std::string& secret = "s3cr3t-Token_1") {
  auto h = TelegramHandler::create({{"token", "123456:ABC-test"},
                                    {"secret_token", secret},
                                    {"api_base", "http://127.0.0.1:9/"}});
  REQUIRE(h.ok());
  return h.value();
}

HttpRequest post(std::string body) {
  return handlers::testing::webhook_post("telegram", std::move(body));
}

// A message from the sender of most fixtures.
InboundMessage from_rahul(std::string update_id, int64_t date) {
  InboundMessage m;
  m.platform = "telegram";
  m.message_id = std::move(update_id);
  m.user_id = "5123456789";
  m.chat_id = "5123456789";
  m.display_name = "राहुल";
  m.sent_at_ms = date * 1000;
  return m;
}

Attachment attachment(std::string kind, std::string ref, std::string mime = "") {
  Attachment a;
  a.kind = std::move(kind);
  a.ref = std::move(ref);
  a.mime = std::move(mime);
  return a;
}

OutboundMessage reply_to(std::string chat_id, std::string text,
                         std::vector<ReplyOption> options = {}, std::string callback_id = "") {
  OutboundMessage m;
  m.platform = "telegram";
  m.chat_id = std::move(chat_id);
  m.reply.text = std::move(text);
  m.reply.options = std::move(options);
  m.callback_id = std::move(callback_id);
  return m;
}

struct ParseCase {
  const char* behaviour;
  const char* fixture;
  std::vector<InboundMessage> want;  // when error is empty
  const char* error = "";            // the invalid() message must contain this
};

std::vector<ParseCase> parse_cases() {
  auto devanagari = from_rahul("904318231", 1732780800);
  devanagari.display_name = "राहुल शर्मा";
  devanagari.text = "मेरा मोबाइल कल रात बरेली बस अड्डे पर चोरी हो गया";

  auto hinglish = from_rahul("904318232", 1732780860);
  hinglish.user_id = hinglish.chat_id = "6011223344";
  hinglish.display_name = "Pooja";
  hinglish.text = "sir mera phone chori ho gaya bareli me, FIR kaise karu?";

  auto start = from_rahul("904318233", 1732780700);
  start.text = "/start";

  auto press = from_rahul("904318234", 0);
  press.display_name = "राहुल शर्मा";
  press.button = "cyber_fraud";
  press.callback_id = "4382bfdwdsb323b2d9";

  auto inline_press = from_rahul("904318235", 0);
  inline_press.button = "theft";
  inline_press.callback_id = "4382bfdwdsb323b2da";

  auto photo = from_rahul("904318236", 1732781000);
  photo.display_name = "राहुल शर्मा";
  photo.text = "यह वही बाइक है जो चोरी हुई";
  photo.attachments = {attachment("photo", "AgACAgUAAxkBAAIBYmdH0_large")};

  auto voice = from_rahul("904318237", 1732781060);
  voice.attachments = {attachment("voice", "AwACAgUAAxkBAAIBZGdH1voice", "audio/ogg")};

  auto video = from_rahul("904318238", 1732781120);
  video.attachments = {attachment("video", "BAACAgUAAxkBAAIBZWdH1video", "video/mp4")};

  auto location = from_rahul("904318239", 1732781180);
  location.attachments = {attachment("location", "")};
  location.attachments[0].latitude = 28.367021;
  location.attachments[0].longitude = 79.430581;

  auto contact = from_rahul("904318240", 1732781240);
  contact.attachments = {attachment("contact", "919876543210")};

  auto document = from_rahul("904318241", 1732781300);
  document.text = "ऑनलाइन ठगी का सबूत";
  document.attachments = {attachment("document", "BQACAgUAAxkBAAIBZ2dH1doc", "application/pdf")};

  return {
      {"a Devanagari text message becomes one message with the sender's full name",
       "text_devanagari.json",
       {devanagari}},
      {"a Hinglish text message is passed through as typed", "text_hinglish.json", {hinglish}},
      {"/start arrives as plain text for the dialog to interpret", "command_start.json", {start}},
      {"a callback_query press becomes a button message with its callback id",
       "callback_query.json",
       {press}},
      {"a press on an inline-mode message replies to the presser's private chat",
       "callback_query_no_message.json",
       {inline_press}},
      {"a photo keeps its caption as text and only its largest size",
       "photo_caption.json",
       {photo}},
      {"a voice note becomes a voice attachment with its mime type", "voice.json", {voice}},
      {"a video becomes a video attachment", "video.json", {video}},
      {"a shared location becomes a location attachment", "location.json", {location}},
      {"a shared contact becomes a contact attachment holding the phone number",
       "contact.json",
       {contact}},
      {"a document keeps its mime type and caption", "document.json", {document}},
      {"an edited message is ignored", "edited_message.json", {}},
      {"a message in a group is ignored: the bot serves private chats only",
       "group_message.json",
       {}},
      {"a channel post is ignored", "channel_post.json", {}},
      {"the citizen blocking the bot (my_chat_member) is ignored", "my_chat_member.json", {}},
      {"a truncated body is not valid JSON", "bad_truncated.json", {}, "body is not valid JSON: "},
      {"a body with invalid UTF-8 is not valid JSON",
       "bad_invalid_utf8.json",
       {},
       "body is not valid JSON: "},
      {"a JSON array is not an Update", "bad_not_object.json", {}, "expected a JSON object"},
      {"an Update without update_id is refused",
       "bad_missing_update_id.json",
       {},
       "update_id: expected an integer"},
      {"a string update_id is refused",
       "bad_update_id_string.json",
       {},
       "update_id: expected an integer"},
      {"a string chat id is refused naming the field",
       "bad_chat_id_string.json",
       {},
       "message.chat.id: expected an integer"},
      {"a numeric text is refused naming the field",
       "bad_text_number.json",
       {},
       "message.text: expected a string"},
      {"a callback_query without id is refused",
       "bad_callback_without_id.json",
       {},
       "callback_query.id: expected a string"},
      {"an empty photo array is refused",
       "bad_photo_empty.json",
       {},
       "message.photo: expected a non-empty array"},
  };
}

TEST_CASE("every Telegram fixture parses to its expected messages or names what is wrong") {
  auto h = handler();
  for (const ParseCase& c : parse_cases()) {
    DYNAMIC_SECTION(c.behaviour << " (" << c.fixture << ")") {
      auto got = h->parse(post(fixture(c.fixture)));
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

TEST_CASE("hostile bodies get a clear invalid status, never a crash") {
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
  SECTION("objects nested 10,000 deep under message") {
    std::string body = R"({"update_id":1,"message":)";
    for (int i = 0; i < 10000; ++i) body += R"({"chat":)";
    body += "1" + std::string(10000, '}') + "}";
    auto got = h->parse(post(body));
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().code() == Status::Code::kInvalid);
  }
  SECTION("an update_id beyond 64 bits") {
    auto got = h->parse(post(R"({"update_id":18446744073709551615})"));
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().message() == "update_id: expected an integer");
  }
  SECTION("a date that would overflow milliseconds") {
    auto got = h->parse(post(
        R"({"update_id":1,"message":{"chat":{"id":1,"type":"private"},"date":9223372036854775807}})"));
    REQUIRE_FALSE(got.ok());
    CHECK_THAT(got.status().message(), Catch::StartsWith("message.date: "));
  }
}

TEST_CASE("verify checks the secret token header") {
  auto h = handler("s3cr3t-Token_1");
  HttpRequest req = post("{}");
  SECTION("a missing header is unauthorized") {
    Status s = h->verify(req);
    CHECK(s.code() == Status::Code::kUnauthorized);
    CHECK_THAT(s.message(), Catch::Contains("missing"));
  }
  SECTION("a wrong header is unauthorized") {
    req.headers["x-telegram-bot-api-secret-token"] = "s3cr3t-Token_2";
    CHECK(h->verify(req).code() == Status::Code::kUnauthorized);
    req.headers["x-telegram-bot-api-secret-token"] = "s3cr3t";
    CHECK(h->verify(req).code() == Status::Code::kUnauthorized);
  }
  SECTION("the right header is ok") {
    req.headers["x-telegram-bot-api-secret-token"] = "s3cr3t-Token_1";
    CHECK(h->verify(req).is_ok());
  }
  SECTION("an empty configured secret turns the check off") {
    CHECK(handler("")->verify(req).is_ok());
  }
}

TEST_CASE("the configuration block is validated naming the field") {
  struct Case {
    json block;
    const char* error;
  };
  std::vector<Case> cases = {
      {json::array(), "platforms.telegram: expected an object"},
      {{{"api_base", "https://api.telegram.org"}},
       "platforms.telegram.token: expected a non-empty string"},
      {{{"token", ""}}, "platforms.telegram.token: expected a non-empty string"},
      {{{"token", 42}}, "platforms.telegram.token: expected a non-empty string"},
      {{{"token", "t"}, {"api_base", "api.telegram.org"}}, "platforms.telegram.api_base: "},
      {{{"token", "t"}, {"api_base", 1}}, "platforms.telegram.api_base: "},
      {{{"token", "t"}, {"secret_token", 1}}, "platforms.telegram.secret_token: "},
      {{{"token", "t"}, {"secret_token", "has space"}}, "platforms.telegram.secret_token: "},
  };
  for (const Case& c : cases) {
    auto h = TelegramHandler::create(c.block);
    INFO(c.block.dump());
    REQUIRE_FALSE(h.ok());
    CHECK(h.status().code() == Status::Code::kInvalid);
    CHECK_THAT(h.status().message(), Catch::StartsWith(c.error));
  }
  auto ok = TelegramHandler::create({{"token", "t"}});
  REQUIRE(ok.ok());
  CHECK(ok.value()->render(reply_to("1", "x"))[0].url ==
        "https://api.telegram.org/bott/sendMessage");
}

TEST_CASE("make_handler builds telegram and refuses unknown platforms") {
  auto tg = make_handler("telegram", {{"token", "t"}});
  REQUIRE(tg.ok());
  CHECK(tg.value()->platform() == "telegram");
  CHECK(make_handler("telegram", {{"token", ""}}).status().code() == Status::Code::kInvalid);
  CHECK(make_handler("myspace", json::object()).status().code() == Status::Code::kNotFound);
}

json body_of(const ApiCall& call) { return json::parse(call.body); }

TEST_CASE("render turns a reply into sendMessage calls") {
  auto h = handler();
  const std::string send = "http://127.0.0.1:9/bot123456:ABC-test/sendMessage";

  SECTION("a plain reply is one sendMessage with a numeric chat id") {
    auto calls = h->render(reply_to("5123456789", "नमस्ते"));
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].method == "POST");
    CHECK(calls[0].url == send);
    CHECK(calls[0].headers ==
          std::vector<std::pair<std::string, std::string>>{{"Content-Type", "application/json"}});
    CHECK(body_of(calls[0]) == json{{"chat_id", 5123456789}, {"text", "नमस्ते"}});
  }
  SECTION("a chat id that is not a number is sent as a string") {
    auto calls = h->render(reply_to("@nivaran_test", "hi"));
    CHECK(body_of(calls[0])["chat_id"] == "@nivaran_test");
  }
  SECTION("options become a numbered fallback and one button per row") {
    auto calls = h->render(reply_to(
        "5123456789", "श्रेणी चुनें:", {{"theft", "चोरी / लूट"}, {"cyber_fraud", "साइबर अपराध"}}));
    REQUIRE(calls.size() == 1);
    json body = body_of(calls[0]);
    CHECK(body["text"] == "श्रेणी चुनें:\n\n1. चोरी / लूट\n2. साइबर अपराध");
    CHECK(body["reply_markup"]["inline_keyboard"] ==
          json::parse(R"([[{"text":"चोरी / लूट","callback_data":"theft"}],
                          [{"text":"साइबर अपराध","callback_data":"cyber_fraud"}]])"));
  }
  SECTION("more than eight options go in rows of two") {
    std::vector<ReplyOption> options;
    for (int i = 1; i <= 9; ++i) options.push_back({"o" + std::to_string(i), "T"});
    json rows =
        body_of(h->render(reply_to("1", "ज़िला", options))[0])["reply_markup"]["inline_keyboard"];
    REQUIRE(rows.size() == 5);
    CHECK(rows[0].size() == 2);
    CHECK(rows[4].size() == 1);
  }
  SECTION("an option id that is not short ASCII keeps its numbered line but loses its button") {
    auto calls = h->render(
        reply_to("1", "?", {{"ठीक", "हाँ"}, {std::string(65, 'x'), "लंबा"}, {"no", "नहीं"}}));
    json body = body_of(calls[0]);
    CHECK(body["text"] == "?\n\n1. हाँ\n2. लंबा\n3. नहीं");
    CHECK(body["reply_markup"]["inline_keyboard"] ==
          json::parse(R"([[{"text":"नहीं","callback_data":"no"}]])"));
  }
  SECTION("no valid button at all sends no keyboard") {
    auto calls = h->render(reply_to("1", "?", {{"", "a"}}));
    CHECK_FALSE(body_of(calls[0]).contains("reply_markup"));
  }
  SECTION("a button press is acknowledged before the reply is sent") {
    auto calls = h->render(reply_to("1", "ok", {}, "4382bf"));
    REQUIRE(calls.size() == 2);
    CHECK(calls[0].url == "http://127.0.0.1:9/bot123456:ABC-test/answerCallbackQuery");
    CHECK(body_of(calls[0]) == json{{"callback_query_id", "4382bf"}});
    CHECK(calls[1].url == send);
  }
  SECTION("text over 4096 UTF-16 units is split at line ends, keyboard on the last part") {
    std::string line = std::string(1000, 'a');  // five lines: 5004 units with newlines
    std::string text = line + "\n" + line + "\n" + line + "\n" + line + "\n" + line;
    auto calls = h->render(reply_to("1", text, {{"y", "Yes"}}));
    REQUIRE(calls.size() == 2);
    CHECK(body_of(calls[0])["text"] == line + "\n" + line + "\n" + line + "\n" + line);
    CHECK_FALSE(body_of(calls[0]).contains("reply_markup"));
    CHECK(body_of(calls[1])["text"] == line + "\n\n1. Yes");
    CHECK(body_of(calls[1]).contains("reply_markup"));
  }
  SECTION("Devanagari counts one unit per code point, emoji two") {
    std::string deva;
    for (int i = 0; i < 4096; ++i) deva += "क";  // 3 UTF-8 bytes, 1 UTF-16 unit each
    CHECK(h->render(reply_to("1", deva)).size() == 1);
    std::string emoji;
    for (int i = 0; i < 2049; ++i) emoji += "🚓";  // 4 bytes, 2 units: 4098 units
    auto calls = h->render(reply_to("1", emoji));
    REQUIRE(calls.size() == 2);
    CHECK(body_of(calls[0])["text"].get<std::string>().size() == 2048 * 4);
    CHECK(body_of(calls[1])["text"] == "🚓");
  }
  SECTION("an empty reply sends nothing but the acknowledgement") {
    auto calls = h->render(reply_to("1", "", {}, "c"));
    REQUIRE(calls.size() == 1);
    CHECK_THAT(calls[0].url, Catch::EndsWith("/answerCallbackQuery"));
  }
}

TEST_CASE("render writes each sendMessage body as the text nlohmann's dump() gives") {
  // The bodies are written as text, not built as trees; they must stay byte for byte what
  // dump() gives for the same object (keys sorted, escapes, invalid UTF-8 replaced).
  auto h = handler();
  auto expected = [](const std::string& chat, const std::string& text, const nlohmann::json& rows) {
    nlohmann::json body = {{"text", text}};
    int64_t n = 0;
    auto [end, ec] = std::from_chars(chat.data(), chat.data() + chat.size(), n);
    if (!chat.empty() && ec == std::errc() && end == chat.data() + chat.size()) {
      body["chat_id"] = n;
    } else {
      body["chat_id"] = chat;
    }
    if (!rows.is_null()) body["reply_markup"] = {{"inline_keyboard", rows}};
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  std::vector<ReplyOption> options = {{"a", "चोरी"}, {"b\"q", ""}, {"bad id with é", "x"}, {"c", "ग\xffलत"}};
  const std::string menu_text = "चुनें \"क्या\"\n\t\x01\xc3(";
  for (const std::string chat : {"5123456789", "-1001234567890", "007", "@nivaran_test", "+5", "", "12ab"}) {
    INFO("chat " << chat);
    CHECK(h->render(reply_to(chat, menu_text))[0].body == expected(chat, menu_text, nullptr));
    auto calls = h->render(reply_to(chat, menu_text, options));
    REQUIRE(calls.size() == 1);
    nlohmann::json rows = {{{{"callback_data", "a"}, {"text", "चोरी"}}},
                           {{{"callback_data", "b\"q"}, {"text", "2"}}},
                           {{{"callback_data", "c"}, {"text", "ग\xffलत"}}}};
    CHECK(calls[0].body == expected(chat, body_of(calls[0])["text"].get<std::string>(), rows));
  }
  // Over kMaxOneColumnRows buttons: two to a row, the last row short.
  std::vector<ReplyOption> many;
  nlohmann::json rows = nlohmann::json::array();
  for (int i = 1; i <= 11; ++i) {
    many.push_back({"o" + std::to_string(i), "विकल्प " + std::to_string(i)});
    nlohmann::json button = {{"callback_data", "o" + std::to_string(i)},
                             {"text", "विकल्प " + std::to_string(i)}};
    if (i % 2 == 1) {
      rows.push_back(nlohmann::json::array({button}));
    } else {
      rows.back().push_back(button);
    }
  }
  auto calls = h->render(reply_to("42", "menu", many));
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].body == expected("42", body_of(calls[0])["text"].get<std::string>(), rows));
  // A text split in two: the keyboard only on the last part.
  std::string line(3000, 'a');
  calls = h->render(reply_to("42", line + "\n" + line, {{"y", "हाँ"}}));
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].body == expected("42", line, nullptr));
  CHECK(calls[1].body == expected("42", line + "\n\n1. हाँ", {{{{"callback_data", "y"}, {"text", "हाँ"}}}}));
}

TEST_CASE("classify maps Bot API answers to send outcomes") {
  auto h = handler();
  using Kind = SendOutcome::Kind;
  SECTION("200 is sent") {
    auto o = h->classify({200, R"({"ok":true,"result":{"message_id":1026}})", {}});
    CHECK(o.kind == Kind::kSent);
  }
  SECTION("429 retries after parameters.retry_after") {
    auto o = h->classify(
        {429,
         R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 35","parameters":{"retry_after":35}})",
         {{"retry-after", "10"}}});
    CHECK(o.kind == Kind::kRetry);
    CHECK(o.retry_after_s == 35);
    CHECK(o.reason == "429 Too Many Requests: retry after 35");
  }
  SECTION("429 without parameters falls back to the Retry-After header, then to 1") {
    CHECK(h->classify({429, "", {{"retry-after", "7"}}}).retry_after_s == 7);
    CHECK(h->classify({429, "<html>", {}}).retry_after_s == 1);
  }
  SECTION("403 blocked by the user is permanent") {
    auto o = h->classify(
        {403,
         R"({"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"})",
         {}});
    CHECK(o.kind == Kind::kPermanent);
    CHECK(o.reason == "403 Forbidden: bot was blocked by the user");
  }
  SECTION("400 chat not found is permanent") {
    auto o = h->classify(
        {400, R"({"ok":false,"error_code":400,"description":"Bad Request: chat not found"})", {}});
    CHECK(o.kind == Kind::kPermanent);
    CHECK(o.reason == "400 Bad Request: chat not found");
  }
  SECTION("an expired callback query counts as sent") {
    auto o = h->classify(
        {400,
         R"({"ok":false,"error_code":400,"description":"Bad Request: query is too old and response timeout expired or query ID is invalid"})",
         {}});
    CHECK(o.kind == Kind::kSent);
    CHECK_THAT(o.reason, Catch::Contains("query is too old"));
  }
  SECTION("500 retries with backoff") {
    auto o = h->classify({502, "<html>Bad Gateway</html>", {}});
    CHECK(o.kind == Kind::kRetry);
    CHECK(o.retry_after_s == 0);
    CHECK(o.reason == "502");
  }
  SECTION("no answer at all retries with backoff") {
    auto o = h->classify({0, "", {}});
    CHECK(o.kind == Kind::kRetry);
    CHECK(o.retry_after_s == 0);
    CHECK(o.reason == "no response");
  }
}

}  // namespace
}  // namespace nivaran::telegram
