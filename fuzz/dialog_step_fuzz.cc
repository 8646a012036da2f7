// Fuzzes step(): a citizen's message, any bytes, at any point of the repository's grievance flow
// (dialogs/flows/grievance.json with config/districts.json and config/categories.json).
//
// The sessions it starts from are collected once by playing scripted conversations (Hindi,
// Hinglish, English; did-you-mean, category guess, edit from the summary, resume after a pause,
// a filed ticket), as the pipeline would store them. Input layout:
//   byte 0    which of those sessions (modulo their number);
//   byte 1    flags: 1 a photo, 2 a location, 4 a voice note attached; 8 sent after a long
//             pause; 16 the text up to the first '\n' is a pressed button's id;
//   the rest  the message text.
// Seeds in fuzz/corpus/fuzz_dialog_step/ use printable bytes 0 and 1 ('a'.., '@' = no flags).
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "dialogs/engine.h"
#include "fuzz/fuzz_support.h"

namespace nivaran::fuzz {
namespace {

using dialogs::Session;
using dialogs::StepContext;
using dialogs::StepResult;
using nlohmann::json;

constexpr int64_t kStart = 1'795'840'200'000;  // Saturday 2026-11-28 10:00 IST
constexpr int64_t kLongPause = 3 * 3600 * 1000;

StepResult run_step(const Session& s, const InboundMessage& m, const StepContext& ctx) {
  return dialogs::step(grievance_flow(), real_reference_data(), s, m, ctx);
}

InboundMessage message(std::string text, std::string button = "") {
  static int count = 0;
  InboundMessage m;
  m.platform = "telegram";
  m.message_id = "m" + std::to_string(++count);
  m.user_id = "5123456789";
  m.chat_id = "5123456789";
  m.text = std::move(text);
  m.button = std::move(button);
  return m;
}

// Plays conversations and keeps every distinct session they pass through.
class Sessions {
 public:
  Sessions() {
    add(Session{});
    // Hindi, question by question, then the summary: edit a field, confirm, file, attach more.
    play({"नमस्ते", "1", "बरेली", "पता नहीं", "स्टेशन रोड, सुभाष नगर", "कल रात 11 बजे",
          "कल रात मेरी बाइक घर के बाहर से चोरी हो गई", "राम कुमार", "९८७६५ ४३२१०", "हाँ",
          "नाम गलत है", "सीता देवी", "बदलें", "#edit:district", "बदायूं", "उझानी बस अड्डा", "#yes",
          "मेरे पास फोटो भी है", "स्थिति"});
    // Hinglish with typos and buttons; "did you mean" for districts and police stations.
    play({"hi", "#cat:cyber_fraud", "sahajhapur", "haan", "tilhar", "aaj subah", "xyz",
          "UPI se 20000 rupaye kat gaye, kisi ne bank wala bankar OTP maanga", "Anil Verma",
          "98765", "+91 98765-43210", "nahi", "#edit", "#edit:mobile", "9876501234", "#cancel"});
    play({"namaste sir", "2", "bareli", "#ps:unknown", "pata nahi", "परसों शाम", "qqq", "back",
          "पीछे", "help", "English", "Hindi", "#cmd:restart"});
    // A whole story in the first message: category guessed and confirmed.
    play({"कल रात बरेली के बारादरी इलाके में मेरा मोबाइल चोरी हो गया", "नहीं", "मोबाइल", "हाँ"});
    play({"mobile chori ho gaya aur UPI se paise bhi kat gaye", "3", "dist:other", "लखनऊ"});
    // English, an emergency, a status question.
    play({"My phone was stolen at the bus stand yesterday evening", "yes", "Bareilly", "don't know",
          "near the bus stand", "yesterday 7 pm", "status PBT-42"});
    play({"बचाओ! कुछ लोग मेरे भाई को मार रहे हैं", "1", "पीलीभीत", "puranpur"});
    // A pause long enough for the resume offer.
    play({"नमस्ते", "1", "बरेली", "!बारादरी", "वहीं से"});
  }

  const std::vector<Session>& all() const { return sessions_; }

 private:
  // "#id" presses a button, "!text" is said after a long pause.
  void play(const std::vector<std::string>& lines) {
    Session s;
    int64_t now = kStart;
    for (const std::string& line : lines) {
      StepContext ctx{now, "ep-" + std::to_string(++episodes_), 330};
      InboundMessage m = message(line);
      if (line.starts_with("#")) m = message("", line.substr(1));
      if (line.starts_with("!")) {
        m = message(line.substr(1));
        ctx.now_ms += kLongPause;
      }
      StepResult r = run_step(s, m, ctx);
      s = r.session;
      for (const auto& e : r.effects) {
        if (e.type == "create_ticket") s.open_ticket = "BLY-26-000042";  // as the pipeline does
      }
      now = ctx.now_ms + 60'000;
      add(s);
    }
  }

  void add(const Session& s) {
    if (seen_.insert(json(s).dump()).second) sessions_.push_back(s);
  }

  std::vector<Session> sessions_;
  std::set<std::string> seen_;
  int episodes_ = 0;
};

const std::vector<Session>& sessions() {
  static const Sessions s = [] {
    Sessions made;
    std::fprintf(stderr, "fuzz_dialog_step: %zu starting sessions\n", made.all().size());
    return made;
  }();
  return s.all();
}

// What the pipeline relies on after a step.
void check_result(const StepResult& r) {
  const dialogs::Flow& flow = grievance_flow();
  const Session& s = r.session;
  check(s.node.empty() || flow.node(s.node), "step: session at unknown node '" + s.node + "'");
  check(std::find(flow.languages.begin(), flow.languages.end(), s.lang) != flow.languages.end(),
        "step: session language '" + s.lang + "'");
  check(s.slots.is_object(), "step: slots are not an object");
  for (const Reply& reply : r.replies) {
    check(is_utf8(reply.text), "step: a reply text is not UTF-8");
    for (const ReplyOption& o : reply.options) {
      check(!o.id.empty() && o.id.size() <= 64, "step: an option id of " +
                                                    std::to_string(o.id.size()) + " bytes");
    }
  }
  // The store keeps the session as JSON text and reads it back.
  json stored = json::parse(json_text(json(s)));
  check(stored.get<Session>() == s, "step: the session does not survive json_text and back");
}

}  // namespace
}  // namespace nivaran::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nivaran;
  using namespace nivaran::fuzz;
  const auto& all = sessions();
  if (size < 2) return 0;
  const dialogs::Session& start = all[data[0] % all.size()];
  const uint8_t flags = data[1];
  std::string text(reinterpret_cast<const char*>(data + 2), size - 2);
  std::string button;
  if (flags & 16) {
    size_t nl = text.find('\n');
    button = text.substr(0, nl);
    text = nl == std::string::npos ? "" : text.substr(nl + 1);
  }
  InboundMessage m = message(text, button);
  if (flags & 1) m.attachments.push_back({"photo", "AgACAgUAAxkBAAIB", "image/jpeg", 0, 0});
  if (flags & 2) m.attachments.push_back({"location", "", "", 28.3670, 79.4304});
  if (flags & 4) m.attachments.push_back({"voice", "AwACAgUAAxkBAAIC", "audio/ogg", 0, 0});
  int64_t now = (start.updated_at_ms ? start.updated_at_ms : kStart) + 60'000;
  if (flags & 8) now += kLongPause;

  dialogs::StepResult r = run_step(start, m, {now, "ep-fuzz", 330});
  check_result(r);
  // The session it left must carry on: answer the next question with a plain "1".
  dialogs::StepResult next = run_step(r.session, message("1"), {now + 60'000, "ep-next", 330});
  check_result(next);
  return 0;
}
