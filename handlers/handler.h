// The one interface every messaging platform implements.
//
// A handler is a pure translator: it verifies a webhook request on its raw bytes, parses it into
// platform-neutral InboundMessages, renders an OutboundMessage into the platform's API calls, and
// classifies the API's answer. It does no I/O and keeps no state beyond its configuration, so
// each platform is tested from payload fixtures alone (handlers/<platform>/testdata/).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/http.h"
#include "core/message.h"
#include "core/status.h"

namespace nivaran {

// How one API call went, as far as retrying is concerned.
struct SendOutcome {
  enum class Kind {
    kSent,       // delivered (2xx)
    kRetry,      // transient: 5xx, 429, network error; try again after retry_after_s (0: backoff)
    kPermanent,  // will never succeed: blocked by user, chat not found, bad request
  };
  Kind kind = Kind::kSent;
  int retry_after_s = 0;
  std::string reason;  // for the dead-letter record, e.g. "403 Forbidden: bot was blocked by the user"
};

class Handler {
 public:
  virtual ~Handler() = default;

  // The platform's name as used in paths, keys and messages: "telegram".
  virtual const std::string& platform() const = 0;

  // Answers a verification handshake (e.g. WhatsApp's GET hub.challenge); nullopt when `req` is
  // not one. Called before verify() for GET requests.
  virtual std::optional<HttpResponse> handshake(const HttpRequest& req) const {
    (void)req;
    return std::nullopt;
  }

  // Checks that `req` really comes from the platform, on the raw body, in constant time.
  // Returns unauthorized() with the reason when it does not.
  virtual Status verify(const HttpRequest& req) const = 0;

  // Parses a verified request into zero or more messages. A body that is not JSON or has the
  // wrong shape is invalid() with a message saying what is wrong. Updates the bot does not act
  // on (e.g. edits, statuses) yield an empty list, not an error.
  virtual Result<std::vector<InboundMessage>> parse(const HttpRequest& req) const = 0;

  // The API calls that deliver `msg`, in order (e.g. acknowledge a button press, then send).
  virtual std::vector<ApiCall> render(const OutboundMessage& msg) const = 0;

  // Classifies the API's answer to one call from render().
  virtual SendOutcome classify(const ApiResponse& resp) const = 0;
};

// Builds the handler for `platform` from its configuration block; not_found() for an unknown
// platform, invalid() naming the field when the block is unusable.
Result<std::shared_ptr<Handler>> make_handler(const std::string& platform,
                                              const nlohmann::json& block);

}  // namespace nivaran
