// Typed, path-naming reads of webhook JSON, shared by the platform handlers. Reading a body
// checks every field a handler uses and names the field on a mismatch; fields it does not use
// are ignored, so platform additions never break parsing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/status.h"

namespace nivaran::handlers {

// Thrown while reading a body; a handler's parse() turns it into Status::invalid.
struct BadField {
  std::string message;
};

// Throws BadField{"<path>: expected <expected>"}.
[[noreturn]] void bad(const std::string& path, const char* expected);

// `path` + "[i]".
std::string indexed(const std::string& path, size_t i);

// A JSON object of the body with its path ("entry[0].messaging[1].message"), read with typed
// accessors that throw BadField naming the full path. A JSON null counts as absent.
class Fields {
 public:
  // Throws unless `j` is an object (named "body" when `path` is empty).
  Fields(const nlohmann::json& j, std::string path);

  std::string path(const std::string& key) const;

  // The value at `key`; nullptr when absent or null.
  const nlohmann::json* find(const std::string& key) const;

  bool has(const std::string& key) const { return find(key) != nullptr; }

  Fields object(const std::string& key) const;

  std::optional<Fields> optional_object(const std::string& key) const;

  // Any integer that fits int64_t.
  int64_t integer(const std::string& key) const;

  // A non-negative integer up to `max`, given as a number or as a digit string.
  int64_t count(const std::string& key, int64_t max) const;

  double number(const std::string& key) const;

  // true or false; absent is an error.
  bool boolean(const std::string& key) const;

  // true or false; absent is false.
  bool optional_boolean(const std::string& key) const;

  // True for true or "true" (X sends some flags as strings); absent is false.
  bool flag(const std::string& key) const;

  std::string string(const std::string& key) const;

  std::string nonempty_string(const std::string& key) const;

  // "" when absent.
  std::string optional_string(const std::string& key) const { return has(key) ? string(key) : ""; }

  const nlohmann::json& array(const std::string& key) const;

  // Element i of the array `key`, which must be an object.
  Fields element(const std::string& key, size_t i) const;

 private:
  const nlohmann::json* j_;
  std::string path_;
};

// The parser's message without its exception tag, made printable ASCII: it quotes the bytes
// it last read, which may be the very invalid UTF-8 it refuses.
std::string json_error_detail(const nlohmann::json::parse_error& e);

// A webhook body as JSON, or invalid("body is not valid JSON: ...") saying what is wrong.
// Never throws: a number beyond a double (1e400) is invalid too, not an exception.
Result<nlohmann::json> parse_json_body(const std::string& body);

}  // namespace nivaran::handlers
