// Writing JSON text straight from the pipeline's structs, without building an nlohmann tree.
//
// Every message writes its session, its transcript entries and its outbox entry as JSON; built
// as nlohmann trees first, that was one heap allocation per key and value. These writers give
// exactly the text `json_text(json(x))` gives (keys in sorted order, the same escapes, invalid
// UTF-8 replaced by U+FFFD), which a test checks on many inputs.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/message.h"

namespace nivaran {

// Appends `s` as a JSON string (quotes included).
void append_json_string(std::string& out, std::string_view s);
// Appends the compact text of `j` (what json_text(j) returns).
void append_json(std::string& out, const nlohmann::json& j);

void append_json(std::string& out, const Attachment& a);
void append_json(std::string& out, const InboundMessage& m);
void append_json(std::string& out, const Reply& r);

}  // namespace nivaran
