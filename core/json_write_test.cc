#include "core/json_write.h"

#include <catch2/catch.hpp>
#include <random>

namespace nivaran {
namespace {

using nlohmann::json;

std::string written_string(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

template <typename T>
std::string written(const T& x) {
  std::string out;
  append_json(out, x);
  return out;
}

}  // namespace

TEST_CASE("JSON strings are written as nlohmann writes them", "[json_write]") {
  const std::vector<std::string> samples = {
      "",
      "plain ascii",
      "मेरा फ़ोन चोरी हो गया है",
      "quote \" backslash \\ slash / tab \t newline \n cr \r bs \b ff \f",
      std::string("nul \0 one \x01 unit sep \x1f del \x7f", 32),
      "emoji 🙏 and ₹",
      "\xC0\x80 overlong",
      "\xED\xA0\x80 surrogate",
      "\xF4\x90\x80\x80 above U+10FFFF",
      "cut short \xE0\xA4",
      "\x80 lone continuation",
      "\xFF\xFE",
      "mixed \xE0\xA4\xAE\xE0 broken",
  };
  for (const auto& s : samples) {
    INFO(json(std::vector<unsigned char>(s.begin(), s.end())).dump());
    CHECK(written_string(s) == json_text(json(s)));
  }
}

TEST_CASE("random byte strings are written as nlohmann writes them", "[json_write]") {
  std::mt19937 rng(20261129);
  // Bytes drawn mostly from ASCII, Devanagari's lead bytes and continuation bytes, so that
  // valid and invalid sequences both occur often.
  const std::string alphabet = std::string("aZ \"\\\n\x01\x7f", 8) + "\xE0\xA4\xA5\x80\xBF\xC2\xED\xF0\xF4\xFF";
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    const int n = std::uniform_int_distribution<int>(0, 12)(rng);
    for (int k = 0; k < n; ++k) {
      s += alphabet[std::uniform_int_distribution<size_t>(0, alphabet.size() - 1)(rng)];
    }
    INFO(json(std::vector<unsigned char>(s.begin(), s.end())).dump());
    REQUIRE(written_string(s) == json_text(json(s)));
  }
}

TEST_CASE("messages, attachments and replies are written as json_text(json(x)) writes them",
          "[json_write]") {
  InboundMessage bare;
  CHECK(written(bare) == json_text(json(bare)));

  InboundMessage full;
  full.platform = "telegram";
  full.message_id = "update:77";
  full.user_id = "42";
  full.chat_id = "42";
  full.text = "बरेली में \"चोरी\"\n";
  full.button = "cat:theft";
  full.callback_id = "cb-1";
  full.display_name = "राम \xFF";
  full.kind = "mention";
  full.sent_at_ms = 1764380000123;
  Attachment photo{.kind = "photo", .ref = "AgAD", .mime = "image/jpeg"};
  Attachment place{.kind = "location", .ref = "", .mime = "", .latitude = 28.367, .longitude = 79.4304};
  Attachment odd{.kind = "location", .ref = "x", .mime = "", .latitude = -0.0, .longitude = 1e-7};
  full.attachments = {photo, place, odd};
  CHECK(written(full) == json_text(json(full)));
  for (const auto& a : full.attachments) CHECK(written(a) == json_text(json(a)));

  Reply text_only{.text = "धन्यवाद।", .options = {}};
  CHECK(written(text_only) == json_text(json(text_only)));
  Reply menu{.text = "श्रेणी चुनें:",
             .options = {{"cat:theft", "चोरी"}, {"cat:\"odd\"", "ठगी \\ धोखा"}}};
  CHECK(written(menu) == json_text(json(menu)));
}

}  // namespace nivaran
