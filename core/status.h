// Status and Result: errors as values at layer boundaries.
//
// A Status carries a code that maps onto an HTTP status at the edge, and a message a user can
// act on (which field, what was expected). Result<T> is either a value or a non-ok Status.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace nivaran {

class Status {
 public:
  enum class Code {
    kOk,
    kInvalid,       // malformed input: 400
    kUnauthorized,  // bad or missing signature / credentials: 401
    kForbidden,     // authenticated but not allowed: 403
    kNotFound,      // 404
    kTooLarge,      // 413
    kRateLimited,   // 429
    kUnavailable,   // store or dependency down, retry later: 503
    kConflict,      // optimistic concurrency lost; caller retries
    kRefused,       // well-formed, but the current state does not allow it: 409
    kInternal,      // a bug; never shown to a platform as anything but 503
  };

  Status() = default;
  static Status ok() { return Status(); }
  static Status invalid(std::string m) { return Status(Code::kInvalid, std::move(m)); }
  static Status unauthorized(std::string m) { return Status(Code::kUnauthorized, std::move(m)); }
  static Status forbidden(std::string m) { return Status(Code::kForbidden, std::move(m)); }
  static Status not_found(std::string m) { return Status(Code::kNotFound, std::move(m)); }
  static Status too_large(std::string m) { return Status(Code::kTooLarge, std::move(m)); }
  static Status rate_limited(std::string m) { return Status(Code::kRateLimited, std::move(m)); }
  static Status unavailable(std::string m) { return Status(Code::kUnavailable, std::move(m)); }
  static Status conflict(std::string m) { return Status(Code::kConflict, std::move(m)); }
  static Status refused(std::string m) { return Status(Code::kRefused, std::move(m)); }
  static Status internal(std::string m) { return Status(Code::kInternal, std::move(m)); }

  bool is_ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // The HTTP status a webhook or API answers with for this outcome.
  int http_status() const;

 private:
  Status(Code c, std::string m) : code_(c), message_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

inline int Status::http_status() const {
  switch (code_) {
    case Code::kOk: return 200;
    case Code::kInvalid: return 400;
    case Code::kUnauthorized: return 401;
    case Code::kForbidden: return 403;
    case Code::kNotFound: return 404;
    case Code::kTooLarge: return 413;
    case Code::kRateLimited: return 429;
    case Code::kRefused: return 409;
    case Code::kConflict:
    case Code::kUnavailable:
    case Code::kInternal: return 503;
  }
  return 503;
}

// Either a T or a non-ok Status. Construct from either; check ok() before value().
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Status s) : v_(std::move(s)) {}

  bool ok() const { return std::holds_alternative<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T* operator->() const { return &std::get<T>(v_); }
  T* operator->() { return &std::get<T>(v_); }
  // The error; Status::ok() when a value is held.
  Status status() const { return ok() ? Status::ok() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace nivaran
