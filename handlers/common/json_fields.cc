#include "handlers/common/json_fields.h"

#include <charconv>
#include <limits>
#include <string_view>
#include <system_error>
#include <utility>

namespace nivaran::handlers {

using nlohmann::json;

void bad(const std::string& path, const char* expected) {
  throw BadField{path + ": expected " + expected};
}

std::string indexed(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

Fields::Fields(const json& j, std::string path) : j_(&j), path_(std::move(path)) {
  if (!j.is_object()) bad(path_.empty() ? "body" : path_, "an object");
}

std::string Fields::path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

const json* Fields::find(const std::string& key) const {
  auto it = j_->find(key);
  return it == j_->end() || it->is_null() ? nullptr : &*it;
}

Fields Fields::object(const std::string& key) const {
  const json* v = find(key);
  if (!v) bad(path(key), "an object");
  return Fields(*v, path(key));
}

std::optional<Fields> Fields::optional_object(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return object(key);
}

int64_t Fields::integer(const std::string& key) const {
  const json* v = find(key);
  if (!v || !v->is_number_integer() ||
      (v->is_number_unsigned() &&
       v->get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))) {
    bad(path(key), "an integer");
  }
  return v->get<int64_t>();
}

int64_t Fields::count(const std::string& key, int64_t max) const {
  const json* v = find(key);
  int64_t n = -1;
  if (v && v->is_number_integer()) {
    if (!v->is_number_unsigned() || v->get<uint64_t>() <= uint64_t(max)) n = v->get<int64_t>();
  } else if (v && v->is_string()) {
    const std::string& s = v->get_ref<const std::string&>();
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty()) n = -1;
  }
  if (n < 0 || n > max) bad(path(key), "a non-negative integer");
  return n;
}

double Fields::number(const std::string& key) const {
  const json* v = find(key);
  if (!v || !v->is_number()) bad(path(key), "a number");
  return v->get<double>();
}

bool Fields::boolean(const std::string& key) const {
  const json* v = find(key);
  if (!v || !v->is_boolean()) bad(path(key), "true or false");
  return v->get<bool>();
}

bool Fields::optional_boolean(const std::string& key) const { return has(key) && boolean(key); }

bool Fields::flag(const std::string& key) const {
  const json* v = find(key);
  if (!v) return false;
  if (v->is_boolean()) return v->get<bool>();
  if (v->is_string()) return v->get_ref<const std::string&>() == "true";
  bad(path(key), "true or false");
}

std::string Fields::string(const std::string& key) const {
  const json* v = find(key);
  if (!v || !v->is_string()) bad(path(key), "a string");
  return v->get<std::string>();
}

std::string Fields::nonempty_string(const std::string& key) const {
  std::string s = string(key);
  if (s.empty()) bad(path(key), "a non-empty string");
  return s;
}

const json& Fields::array(const std::string& key) const {
  const json* v = find(key);
  if (!v || !v->is_array()) bad(path(key), "an array");
  return *v;
}

Fields Fields::element(const std::string& key, size_t i) const {
  return Fields(array(key)[i], indexed(path(key), i));
}

std::string json_error_detail(const json::parse_error& e) {
  std::string_view what = e.what();  // "[json.exception.parse_error.101] parse error at ..."
  if (auto end = what.find("] "); end != std::string_view::npos) what.remove_prefix(end + 2);
  std::string detail(what);
  for (char& c : detail) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
  }
  return detail;
}

Result<json> parse_json_body(const std::string& body) {
  try {
    return json::parse(body);
  } catch (const json::parse_error& e) {
    return Status::invalid("body is not valid JSON: " + json_error_detail(e));
  } catch (const json::exception&) {  // e.g. out_of_range: a number beyond a double, 1e400
    return Status::invalid("body is not valid JSON: a number is out of range");
  }
}

}  // namespace nivaran::handlers
