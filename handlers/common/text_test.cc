// Splitting long replies at a platform's length limit, and numbering a reply's options.
#include "handlers/common/text.h"

#include <catch2/catch.hpp>
#include <random>

using namespace nivaran;
using namespace nivaran::handlers;

namespace {

// split_text as first written: every line cut into pieces at the limit, then the pieces joined
// into chunks. split_text takes a line within the limit whole instead; the results must agree.
std::vector<std::string> split_text_reference(std::string_view text, size_t limit) {
  std::vector<std::string> chunks;
  std::string cur;
  size_t cur_units = 0;
  auto flush = [&] {
    while (!cur.empty() && cur.back() == '\n') cur.pop_back();
    if (cur.find_first_not_of(" \t\r\n") != std::string::npos) chunks.push_back(cur);
    cur.clear();
    cur_units = 0;
  };
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    end = end == std::string_view::npos ? text.size() : end + 1;
    for (std::string_view piece : cut_at_code_points(text.substr(pos, end - pos), limit)) {
      size_t units = utf16_units(piece);
      if (cur_units + units > limit) flush();
      cur += piece;
      cur_units += units;
    }
    pos = end;
  }
  flush();
  return chunks;
}

}  // namespace

TEST_CASE("a reply within the limit is one chunk, without its trailing newlines", "[text]") {
  CHECK(split_text("आपकी शिकायत दर्ज हो गई है।\n\n", 4096) ==
        std::vector<std::string>{"आपकी शिकायत दर्ज हो गई है।"});
  CHECK(split_text(" \n\t\n", 4096).empty());
  CHECK(split_text("", 4096).empty());
}

TEST_CASE("long replies are split at lines, and lines longer than the limit at code points",
          "[text]") {
  // 4 units a line with its newline; the limit takes two lines.
  CHECK(split_text("abc\ndef\nghi\n", 8) == std::vector<std::string>{"abc\ndef", "ghi"});
  // "😀" is two UTF-16 units and is never cut in half.
  CHECK(split_text("a😀b😀", 3) == std::vector<std::string>{"a😀", "b😀"});
  CHECK(split_text("नमस्ते", 2) == std::vector<std::string>{"नम", "स्", "ते"});
}

TEST_CASE("splitting agrees with cutting every line first, on random texts", "[text]") {
  const std::vector<std::string> parts = {"a", "ब", "😀", "\n", " ", "१२", "ok ", "\n\n", "\xff"};
  std::mt19937 rng(20261129);
  for (int round = 0; round < 5000; ++round) {
    std::string text;
    const int n = std::uniform_int_distribution<int>(0, 40)(rng);
    for (int i = 0; i < n; ++i) {
      text += parts[std::uniform_int_distribution<size_t>(0, parts.size() - 1)(rng)];
    }
    const size_t limit = std::uniform_int_distribution<size_t>(2, 12)(rng);
    INFO(text << " / limit " << limit);
    REQUIRE(split_text(text, limit) == split_text_reference(text, limit));
    for (const auto& chunk : split_text(text, limit)) CHECK(utf16_units(chunk) <= limit);
  }
}

TEST_CASE("options are numbered after the text, one a line", "[text]") {
  Reply r{"ज़िला चुनें", {{"dist:bareilly", "बरेली"}, {"dist:badaun", "बदायूं"}}};
  CHECK(numbered_text(r) == "ज़िला चुनें\n\n1. बरेली\n2. बदायूं");
  CHECK(numbered_text(Reply{"", {{"yes", "हाँ"}}}) == "1. हाँ");
  CHECK(numbered_text(Reply{"बस इतना", {}}) == "बस इतना");
}
