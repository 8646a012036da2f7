#include "core/json_write.h"

#include <cstdio>

namespace nivaran {

namespace {

// Whether `s` is well-formed UTF-8 (Unicode 15, table 3-7: no overlong forms, no surrogates,
// nothing above U+10FFFF), the same rule nlohmann's serializer applies.
bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (static_cast<size_t>(end - p) <= n) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (size_t i = 2; i <= n; ++i) {
      if (p[i] < 0x80 || p[i] > 0xBF) return false;
    }
    p += n + 1;
  }
  return true;
}

void key(std::string& out, const char* k) {
  out += '"';
  out += k;
  out += "\":";
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  if (!valid_utf8(s)) {
    // Rare (a citizen's broken text): nlohmann's own replacement rules, exactly.
    out += json_text(nlohmann::json(std::string(s)));
    return;
  }
  out.reserve(out.size() + s.size() + 2);
  out += '"';
  size_t plain = 0;  // start of the run of characters copied as they are
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const char* esc = nullptr;
    switch (c) {
      case '"': esc = "\\\""; break;
      case '\\': esc = "\\\\"; break;
      case '\b': esc = "\\b"; break;
      case '\f': esc = "\\f"; break;
      case '\n': esc = "\\n"; break;
      case '\r': esc = "\\r"; break;
      case '\t': esc = "\\t"; break;
      default:
        if (c >= 0x20) continue;
    }
    out.append(s.data() + plain, i - plain);
    plain = i + 1;
    if (esc) {
      out += esc;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    }
  }
  out.append(s.data() + plain, s.size() - plain);
  out += '"';
}

void append_json(std::string& out, const nlohmann::json& j) { out += json_text(j); }

void append_json(std::string& out, const Attachment& a) {
  // Keys in nlohmann's (sorted) order: kind, lat, lon, mime, ref.
  out += '{';
  key(out, "kind");
  append_json_string(out, a.kind);
  if (a.kind == "location") {
    out += ',';
    key(out, "lat");
    append_json(out, nlohmann::json(a.latitude));
    out += ',';
    key(out, "lon");
    append_json(out, nlohmann::json(a.longitude));
  }
  if (!a.mime.empty()) {
    out += ',';
    key(out, "mime");
    append_json_string(out, a.mime);
  }
  out += ',';
  key(out, "ref");
  append_json_string(out, a.ref);
  out += '}';
}

void append_json(std::string& out, const InboundMessage& m) {
  // Keys in sorted order, as to_json(json&, const InboundMessage&) gives them.
  out += '{';
  if (!m.attachments.empty()) {
    key(out, "attachments");
    out += '[';
    for (size_t i = 0; i < m.attachments.size(); ++i) {
      if (i > 0) out += ',';
      append_json(out, m.attachments[i]);
    }
    out += "],";
  }
  if (!m.button.empty()) {
    key(out, "button");
    append_json_string(out, m.button);
    out += ',';
  }
  if (!m.callback_id.empty()) {
    key(out, "callback_id");
    append_json_string(out, m.callback_id);
    out += ',';
  }
  key(out, "chat_id");
  append_json_string(out, m.chat_id);
  out += ',';
  if (!m.display_name.empty()) {
    key(out, "display_name");
    append_json_string(out, m.display_name);
    out += ',';
  }
  if (!m.kind.empty()) {
    key(out, "kind");
    append_json_string(out, m.kind);
    out += ',';
  }
  key(out, "message_id");
  append_json_string(out, m.message_id);
  out += ',';
  key(out, "platform");
  append_json_string(out, m.platform);
  out += ',';
  key(out, "sent_at_ms");
  out += std::to_string(m.sent_at_ms);
  out += ',';
  key(out, "text");
  append_json_string(out, m.text);
  out += ',';
  key(out, "user_id");
  append_json_string(out, m.user_id);
  out += '}';
}

void append_json(std::string& out, const Reply& r) {
  out += '{';
  if (!r.options.empty()) {
    key(out, "options");
    out += '[';
    for (size_t i = 0; i < r.options.size(); ++i) {
      if (i > 0) out += ',';
      out += '{';
      key(out, "id");
      append_json_string(out, r.options[i].id);
      out += ',';
      key(out, "title");
      append_json_string(out, r.options[i].title);
      out += '}';
    }
    out += "],";
  }
  key(out, "text");
  append_json_string(out, r.text);
  out += '}';
}

}  // namespace nivaran
