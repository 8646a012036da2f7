// Fuzzes one platform's webhook handler, built through make_handler as the bot builds it:
// FUZZ_PLATFORM is set per target by fuzz/CMakeLists.txt (fuzz_webhook_telegram, ...).
//
// Each input is used four ways:
//   1. handshake() on GETs whose verify token is the input's first line and whose challenge /
//      CRC token is the rest, with the configured token too, and with the first line as a query;
//   2. a POST with the first line as the signature header and the rest as the body: verify(),
//      and parse() when it passes (a forged signature must not);
//   3. the whole input as a POST body signed correctly, so that parse() always runs; every
//      message it returns goes back out through render(), and each API call through classify();
//   4. classify() on the input as an API's answer, with several HTTP statuses.
// Seeds: handlers/<platform>/testdata/ (bodies) and fuzz/corpus/fuzz_webhook_<platform>/.

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/message.h"
#include "fuzz/fuzz_support.h"
#include "handlers/common/signing.h"
#include "handlers/handler.h"

#ifndef FUZZ_PLATFORM
#error "build through fuzz/CMakeLists.txt, which sets FUZZ_PLATFORM (e.g. \"telegram\")"
#endif

namespace nivaran::fuzz {
namespace {

using nlohmann::json;

constexpr char kApiBase[] = "http://127.0.0.1:9";

// What the harness must know of a platform: its configuration block and how it signs.
struct Platform {
  std::string name;
  json block;
  std::string signature_header;  // lower-case, as HttpRequest::headers holds names
  std::string verify_token;      // the GET handshake's token, if the platform has one
  std::string (*sign)(const json& block, const std::string& body);
};

std::string sign_telegram(const json& block, const std::string&) {
  return block["secret_token"].get<std::string>();
}
std::string sign_hub(const json& block, const std::string& body) {  // WhatsApp, Messenger
  return "sha256=" +
         handlers::to_hex(handlers::hmac_sha256(block["app_secret"].get<std::string>(), body));
}
std::string sign_x(const json& block, const std::string& body) {
  return "sha256=" + handlers::to_base64(
                         handlers::hmac_sha256(block["consumer_secret"].get<std::string>(), body));
}

Platform platform_spec(const std::string& name) {
  if (name == "telegram") {
    return {name,
            {{"token", "123456:ABC-fuzz"}, {"secret_token", "fuzz-Secret_1"}, {"api_base", kApiBase}},
            "x-telegram-bot-api-secret-token",
            "",
            sign_telegram};
  }
  if (name == "whatsapp") {
    return {name,
            {{"verify_token", "fuzz-verify-token"},
             {"app_secret", "fuzz-app-secret"},
             {"access_token", "fuzz-access-token"},
             {"phone_number_id", "106540352242922"},  // as in handlers/whatsapp/testdata
             {"api_base", kApiBase},
             {"templates", {{"outside_window", {{"name", "nivaran_update"}, {"language", "hi"}}}}}},
            "x-hub-signature-256",
            "fuzz-verify-token",
            sign_hub};
  }
  if (name == "messenger") {
    return {name,
            {{"verify_token", "fuzz-verify-token"},
             {"app_secret", "fuzz-app-secret"},
             {"page_access_token", "fuzz-page-token"},
             {"api_base", kApiBase}},
            "x-hub-signature-256",
            "fuzz-verify-token",
            sign_hub};
  }
  if (name == "x") {
    return {name,
            {{"consumer_secret", "fuzz-consumer-secret"},
             {"bearer_token", "fuzz-bearer-token"},
             {"api_base", kApiBase},
             {"bot_user_id", "1460000000000000001"},  // as in handlers/x/testdata
             {"handle", "@BareillyPolice"}},
            "x-twitter-webhooks-signature",
            "",
            sign_x};
  }
  check(false, "fuzz/webhook_fuzz.cc has no config block for platform '" + name + "'");
  return {};
}

const Platform& platform() {
  static const Platform p = platform_spec(FUZZ_PLATFORM);
  return p;
}

const Handler& handler() {
  static const std::shared_ptr<Handler> h = [] {
    auto made = make_handler(platform().name, platform().block);
    check(made.ok(), "make_handler(" + platform().name + ") refused the fuzz config block: " +
                         made.status().message());
    return made.value();
  }();
  return *h;
}

HttpRequest request(const std::string& method, std::string body) {
  HttpRequest req;
  req.method = method;
  req.path = "/webhook/" + platform().name;
  req.headers["content-type"] = "application/json";
  req.body = std::move(body);
  return req;
}

void check_response(const HttpResponse& r, const char* what) {
  check(r.status >= 100 && r.status <= 599, std::string(what) + ": HTTP status out of range");
  if (r.content_type == "application/json") {
    check(json::accept(r.body), std::string(what) + ": content_type is JSON, body is not");
  }
}

void check_outcome(const SendOutcome& o) {
  check(o.retry_after_s >= 0, "classify: negative retry_after_s");
  check(o.kind == SendOutcome::Kind::kSent || o.kind == SendOutcome::Kind::kRetry ||
            o.kind == SendOutcome::Kind::kPermanent,
        "classify: invalid kind");
}

// The API calls that deliver `out` must be well-formed; each is then answered a few ways.
void render_and_classify(const OutboundMessage& out) {
  const Handler& h = handler();
  for (const ApiCall& call : h.render(out)) {
    check(!call.method.empty() && !call.url.empty(), "render: an API call without method or URL");
    for (const auto& [name, value] : call.headers) {
      if (lower_ascii(name) == "content-type" && value.starts_with("application/json")) {
        check(json::accept(call.body), "render: a JSON call whose body is not JSON");
      }
    }
    ApiResponse ok{200, R"({"ok":true,"result":{"message_id":1}})", {}};
    check_outcome(h.classify(ok));
    ApiResponse echoed{400, call.body, {{"retry-after", "3"}}};
    check_outcome(h.classify(echoed));
  }
}

// The reply the bot would send to `m`: its own text and names echoed back (as a summary does),
// with options whose ids come from the message too.
void answer(const InboundMessage& m) {
  OutboundMessage out;
  out.platform = m.platform;
  out.chat_id = m.chat_id;
  out.callback_id = m.callback_id;
  out.kind = m.kind;
  out.reply.text = m.text;
  out.reply.options = {{m.button, m.display_name},
                       {"cmd:help", m.text},
                       {m.message_id, ""},
                       {"yes", "हाँ"},
                       {"no", "नहीं"}};
  render_and_classify(out);
  out.outside_window = true;
  render_and_classify(out);

  // A long reply, split into several messages by platforms with a length limit.
  if (!m.text.empty()) {
    OutboundMessage longer = out;
    longer.outside_window = false;
    longer.reply.options.clear();
    while (longer.reply.text.size() < 9000) longer.reply.text += "\n" + m.text;
    render_and_classify(longer);
  }
}

void parse_and_answer(const HttpRequest& req) {
  auto parsed = handler().parse(req);
  if (!parsed.ok()) {
    check(!parsed.status().message().empty(), "parse: an error without a message");
    return;
  }
  for (const InboundMessage& m : parsed.value()) {
    check(m.platform == platform().name, "parse: a message of platform '" + m.platform + "'");
    // Messages are stored as JSON (dedupe, transcript, outbox) and read back.
    json j = m;
    check(j.get<InboundMessage>() == m, "InboundMessage does not survive to_json/from_json");
    json reread = json::parse(json_text(j));
    (void)reread.get<InboundMessage>();
    answer(m);
  }
}

// "k=v&k2=v2" as a query map (no percent-decoding: the server has done that already).
std::map<std::string, std::string> query_of(const std::string& s) {
  std::map<std::string, std::string> q;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t amp = s.find('&', pos);
    std::string pair = s.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    size_t eq = pair.find('=');
    q[pair.substr(0, eq)] = eq == std::string::npos ? "" : pair.substr(eq + 1);
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return q;
}

void handshakes(const std::string& first_line, const std::string& rest) {
  const Handler& h = handler();
  HttpRequest get = request("GET", "");
  get.query = {{"hub.mode", "subscribe"},
               {"hub.verify_token", first_line},
               {"hub.challenge", rest},
               {"crc_token", rest}};
  if (auto r = h.handshake(get)) check_response(*r, "handshake (fuzzed token)");
  if (!platform().verify_token.empty()) {
    get.query["hub.verify_token"] = platform().verify_token;
    if (auto r = h.handshake(get)) check_response(*r, "handshake (configured token)");
  }
  get.query = query_of(first_line);
  if (auto r = h.handshake(get)) check_response(*r, "handshake (fuzzed query)");
}

}  // namespace
}  // namespace nivaran::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nivaran;
  using namespace nivaran::fuzz;
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nl = input.find('\n');
  const std::string first_line = input.substr(0, nl);
  const std::string rest = nl == std::string::npos ? "" : input.substr(nl + 1);
  const Handler& h = handler();
  const Platform& p = platform();

  handshakes(first_line, rest);

  HttpRequest raw = request("POST", rest);
  raw.headers[p.signature_header] = first_line;
  if (auto r = h.handshake(raw)) check_response(*r, "handshake (POST)");
  Status raw_status = h.verify(raw);
  if (raw_status.is_ok()) {
    // Hex digits may be either case; any other difference is a forgery let through.
    check(lower_ascii(first_line) == lower_ascii(p.sign(p.block, rest)),
          "verify: accepted a wrong signature");
    parse_and_answer(raw);
  } else {
    check(raw_status.code() == Status::Code::kUnauthorized, "verify: refused with a non-401");
  }

  HttpRequest signed_req = request("POST", input);
  signed_req.headers[p.signature_header] = p.sign(p.block, input);
  Status st = h.verify(signed_req);
  check(st.is_ok(), "verify: refused a correctly signed body: " + st.message());
  parse_and_answer(signed_req);

  for (int status : {0, 200, 400, 403, 429, 500}) {
    ApiResponse resp{status,
                     input,
                     {{"retry-after", first_line},
                      {"x-rate-limit-reset", first_line},
                      {"date", "Sat, 28 Nov 2026 04:30:00 GMT"}}};
    check_outcome(h.classify(resp));
  }
  return 0;
}
