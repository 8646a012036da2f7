// WhatsApp, Messenger and X end to end: the real `nivaran serve`, signed webhooks built from the
// handlers' own fixtures, replies arriving at a fake platform API on loopback in each platform's
// format.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "bot/redis.h"
#include "tests/e2e/bot_process.h"
#include "handlers/x/oauth1.h"
#include "tests/e2e/http_probe.h"
#include "tests/support/fake_platform.h"
#include "tests/support/redis_server.h"

using namespace nivaran::testing;
using nlohmann::json;

namespace {

const std::string kAppSecret = "e2e-app-secret";
const std::string kConsumerSecret = "e2e-consumer-secret";

std::string fixture(const std::string& platform, const std::string& name) {
  std::ifstream in(source_dir() + "/handlers/" + platform + "/testdata/" + name);
  std::stringstream s;
  s << in.rdbuf();
  REQUIRE_FALSE(s.str().empty());
  return s.str();
}

std::string hmac(const std::string& key, const std::string& data, bool base64) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  if (base64) {
    std::string out(4 * ((len + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac, static_cast<int>(len));
    out.resize(static_cast<size_t>(n));
    return out;
  }
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

struct Platforms {
  Platforms() {
    redis_server.start();
    fake.start();
    json config = test_config(redis_server.port(), fake.base_url());
    config["platforms"]["whatsapp"] = {{"verify_token", "wa-verify"},
                                       {"app_secret", kAppSecret},
                                       {"access_token", "wa-token"},
                                       {"phone_number_id", "106540352242922"},
                                       {"api_base", fake.base_url()}};
    config["platforms"]["messenger"] = {{"verify_token", "fb-verify"},
                                        {"app_secret", kAppSecret},
                                        {"page_access_token", "fb-token"},
                                        {"api_base", fake.base_url()}};
    // OAuth 1.0a, the credential that does not expire (a bearer token is covered by the
    // handler's unit tests).
    config["platforms"]["x"] = {{"consumer_secret", kConsumerSecret},
                                {"consumer_key", "x-app-key"},
                                {"access_token", "1460000000000000001-botTOKEN"},
                                {"access_token_secret", "x-token-secret"},
                                {"api_base", fake.base_url()},
                                {"bot_user_id", "1460000000000000001"}};
    bot = std::make_unique<BotProcess>(config);
    bot->start();
  }

  ProbeResponse meta_post(const std::string& platform, const std::string& body,
                          const std::string& signature) {
    return post(bot->port(), "/webhook/" + platform, body,
                {{"X-Hub-Signature-256", "sha256=" + signature}});
  }

  // The first request the fake API received whose path contains `part`, waiting for it.
  std::optional<RecordedRequest> sent_to(const std::string& part) {
    for (int i = 0; i < 100; ++i) {
      for (const auto& r : fake.requests()) {
        if (r.path.find(part) != std::string::npos) return r;
      }
      fake.wait_for_requests(fake.request_count() + 1, std::chrono::milliseconds(100));
    }
    return std::nullopt;
  }

  RedisServer redis_server;
  FakePlatform fake;
  std::unique_ptr<BotProcess> bot;
};

}  // namespace

TEST_CASE("WhatsApp: handshake, a signed message answered through the Cloud API, forgeries refused",
          "[e2e][whatsapp]") {
  Platforms p;
  auto shake = get(p.bot->port(),
                   "/webhook/whatsapp?hub.mode=subscribe&hub.verify_token=wa-verify&hub.challenge=4242");
  CHECK(shake.status == 200);
  CHECK(shake.body == "4242");
  CHECK(get(p.bot->port(),
            "/webhook/whatsapp?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1")
            .status == 403);

  const std::string body = fixture("whatsapp", "text_devanagari.json");
  CHECK(p.meta_post("whatsapp", body, hmac("forged", body, false)).status == 401);
  CHECK(post(p.bot->port(), "/webhook/whatsapp", body).status == 401);
  CHECK(p.fake.request_count() == 0);

  auto r = p.meta_post("whatsapp", body, hmac(kAppSecret, body, false));
  REQUIRE(r.status == 200);
  auto sent = p.sent_to("/106540352242922/messages");
  REQUIRE(sent);
  json call = json::parse(sent->body);
  CHECK(call["messaging_product"] == "whatsapp");
  CHECK(call["to"] == "919876543210");
  // A redelivery changes nothing and still gets 200.
  const size_t before = p.fake.request_count();
  CHECK(p.meta_post("whatsapp", body, hmac(kAppSecret, body, false)).status == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(p.fake.request_count() == before);

  // Statuses are answered 200, send nothing, and are recorded; a failed one as a dead letter.
  const std::string statuses = fixture("whatsapp", "statuses.json");
  CHECK(p.meta_post("whatsapp", statuses, hmac(kAppSecret, statuses, false)).status == 200);
  const std::string failed = fixture("whatsapp", "status_failed.json");
  CHECK(p.meta_post("whatsapp", failed, hmac(kAppSecret, failed, false)).status == 200);
  nivaran::Redis redis(nivaran::RedisEndpoint{"127.0.0.1", p.redis_server.port(), 0, 500});
  CHECK(redis.command({"XLEN", "nv:receipts"})->integer >= 1);
  auto dead = redis.command({"XRANGE", "nv:outbox:dead", "-", "+"});
  REQUIRE(dead->elements.size() == 1);
  CHECK(dead->elements[0].elements[1].elements[1].str.find("could not deliver") != std::string::npos);
  const std::string truncated = fixture("whatsapp", "bad_truncated.json");
  CHECK(p.meta_post("whatsapp", truncated, hmac(kAppSecret, truncated, false)).status == 400);
  CHECK(p.bot->stop() == 0);
}

TEST_CASE("Messenger: a signed message is answered through the Send API, echoes are ignored",
          "[e2e][messenger]") {
  Platforms p;
  auto shake = get(p.bot->port(),
                   "/webhook/messenger?hub.mode=subscribe&hub.verify_token=fb-verify&hub.challenge=77");
  CHECK(shake.status == 200);
  CHECK(shake.body == "77");

  const std::string echo = fixture("messenger", "echo.json");
  CHECK(p.meta_post("messenger", echo, hmac(kAppSecret, echo, false)).status == 200);
  const std::string body = fixture("messenger", "text_devanagari.json");
  CHECK(p.meta_post("messenger", body, hmac("forged", body, false)).status == 401);
  REQUIRE(p.meta_post("messenger", body, hmac(kAppSecret, body, false)).status == 200);
  auto sent = p.sent_to("/me/messages");
  REQUIRE(sent);
  json call = json::parse(sent->body);
  CHECK(call["messaging_type"] == "RESPONSE");
  CHECK_FALSE(call["recipient"]["id"].get<std::string>().empty());
  CHECK(p.fake.request_count() == 1);  // nothing for the echo
}

// %XX escapes back to bytes (the OAuth header's values).
std::string percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

TEST_CASE("X: the CRC check, a direct message answered by DM, a mention answered publicly",
          "[e2e][x]") {
  Platforms p;
  auto crc = get(p.bot->port(), "/webhook/x?crc_token=abc123");
  REQUIRE(crc.status == 200);
  CHECK(json::parse(crc.body)["response_token"] == "sha256=" + hmac(kConsumerSecret, "abc123", true));

  const std::string dm = fixture("x", "dm_text_devanagari.json");
  CHECK(post(p.bot->port(), "/webhook/x", dm,
             {{"x-twitter-webhooks-signature", "sha256=" + hmac("forged", dm, true)}})
            .status == 401);
  REQUIRE(post(p.bot->port(), "/webhook/x", dm,
               {{"x-twitter-webhooks-signature", "sha256=" + hmac(kConsumerSecret, dm, true)}})
              .status == 200);
  auto sent_dm = p.sent_to("/2/dm_conversations/with/");
  REQUIRE(sent_dm);
  // The Authorization header on the wire is an OAuth 1.0a signature of exactly this request.
  const std::string auth = sent_dm->header("authorization");
  REQUIRE(auth.rfind("OAuth ", 0) == 0);
  std::map<std::string, std::string> oauth;
  for (size_t pos = 6; pos < auth.size();) {
    size_t eq = auth.find("=\"", pos), end = auth.find('"', eq + 2);
    REQUIRE(eq != std::string::npos);
    REQUIRE(end != std::string::npos);
    oauth[auth.substr(pos, eq - pos)] = percent_decode(auth.substr(eq + 2, end - eq - 2));
    pos = end + 3;  // past '", '
  }
  CHECK(oauth["oauth_consumer_key"] == "x-app-key");
  CHECK(oauth["oauth_token"] == "1460000000000000001-botTOKEN");
  CHECK(oauth["oauth_signature_method"] == "HMAC-SHA1");
  CHECK(oauth["oauth_nonce"].size() == 32);
  nivaran::x::Params signed_params;
  for (const auto& [k, v] : oauth) {
    if (k != "oauth_signature") signed_params.emplace_back(k, v);
  }
  CHECK(oauth["oauth_signature"] == nivaran::x::oauth1_signature("POST", p.fake.base_url() + sent_dm->path,
                                                        signed_params, kConsumerSecret,
                                                        "x-token-secret"));

  const std::string mention = fixture("x", "mention.json");
  REQUIRE(post(p.bot->port(), "/webhook/x", mention,
               {{"x-twitter-webhooks-signature", "sha256=" + hmac(kConsumerSecret, mention, true)}})
              .status == 200);
  auto tweet = p.sent_to("/2/tweets");
  REQUIRE(tweet);
  json call = json::parse(tweet->body);
  CHECK(call["reply"]["in_reply_to_tweet_id"] == "1862100000000000001");
  CHECK(call["text"].get<std::string>().find("BRG-") != std::string::npos);  // the docket
}

TEST_CASE("a signed body with a number beyond a double is a 400 on every platform",
          "[e2e][whatsapp][messenger][x][input]") {
  Platforms p;
  const std::string body = R"({"object":"page","entry":[{"id":"1","time":1e400,"messaging":[]}]})";
  CHECK(p.meta_post("messenger", body, hmac(kAppSecret, body, false)).status == 400);
  CHECK(p.meta_post("whatsapp", body, hmac(kAppSecret, body, false)).status == 400);
  CHECK(post(p.bot->port(), "/webhook/x", body,
             {{"x-twitter-webhooks-signature", "sha256=" + hmac(kConsumerSecret, body, true)}})
            .status == 400);
  CHECK(post(p.bot->port(), "/webhook/telegram", R"({"update_id":1e400})",
             {{"X-Telegram-Bot-Api-Secret-Token", "test-secret"}})
            .status == 400);
  CHECK(get(p.bot->port(), "/healthz").status == 200);
  CHECK(p.bot->stop() == 0);
}
