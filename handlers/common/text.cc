#include "handlers/common/text.h"

namespace nivaran::handlers {

size_t utf16_units(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if (is_utf8_lead(c)) n += c >= 0xF0 ? 2 : 1;
  }
  return n;
}

std::vector<std::string_view> cut_at_code_points(std::string_view s, size_t limit) {
  std::vector<std::string_view> pieces;
  size_t start = 0, units = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = s[i];
    if (!is_utf8_lead(c)) continue;
    size_t w = c >= 0xF0 ? 2 : 1;
    if (units + w > limit) {
      pieces.push_back(s.substr(start, i - start));
      start = i;
      units = 0;
    }
    units += w;
  }
  if (start < s.size()) pieces.push_back(s.substr(start));
  return pieces;
}

std::vector<std::string> split_text(std::string_view text, size_t limit) {
  std::vector<std::string> chunks;
  std::string cur;
  size_t cur_units = 0;
  auto flush = [&] {
    while (!cur.empty() && cur.back() == '\n') cur.pop_back();
    if (cur.find_first_not_of(" \t\r\n") != std::string::npos) chunks.push_back(std::move(cur));
    cur.clear();
    cur_units = 0;
  };
  auto add = [&](std::string_view piece, size_t units) {
    if (cur_units + units > limit) flush();
    cur += piece;
    cur_units += units;
  };
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    end = end == std::string_view::npos ? text.size() : end + 1;  // keep the '\n'
    const std::string_view line = text.substr(pos, end - pos);
    // A line within the limit is one piece (as cut_at_code_points would give it), without a
    // vector of pieces for every line of every reply.
    if (size_t units = utf16_units(line); units <= limit) {
      add(line, units);
    } else {
      for (std::string_view piece : cut_at_code_points(line, limit)) add(piece, utf16_units(piece));
    }
    pos = end;
  }
  flush();
  return chunks;
}

std::string numbered_text(const Reply& reply) {
  std::string text = reply.text;
  for (size_t i = 0; i < reply.options.size(); ++i) {
    text += i == 0 ? (text.empty() ? "" : "\n\n") : "\n";
    text += std::to_string(i + 1);
    text += ". ";
    text += reply.options[i].title;
  }
  return text;
}

}  // namespace nivaran::handlers
