// Text helpers shared by the platform handlers: UTF-16 lengths of UTF-8 text, splitting a long
// reply into messages, and a reply's options as numbered lines.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/message.h"

namespace nivaran::handlers {

// True for a byte that starts a UTF-8 sequence (anything but a continuation byte).
inline bool is_utf8_lead(unsigned char c) { return (c & 0xC0) != 0x80; }

// UTF-16 code units of a UTF-8 string: two for a 4-byte sequence, one for any other.
size_t utf16_units(std::string_view s);

// Cuts `s` into pieces of at most `limit` UTF-16 units, at code point boundaries.
std::vector<std::string_view> cut_at_code_points(std::string_view s, size_t limit);

// Splits `text` into messages of at most `limit` UTF-16 units, at line ends where it can.
// Blank chunks are dropped: the platforms refuse an empty text.
std::vector<std::string> split_text(std::string_view text, size_t limit);

// The reply's text with its options appended as "1. title" lines, the fallback for every client.
std::string numbered_text(const Reply& reply);

}  // namespace nivaran::handlers
