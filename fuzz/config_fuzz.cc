// Fuzzes the JSON loaders on arbitrary bytes, each input written to a temporary file since they
// read paths: load_flow (+ validate_flow), load_reference_data as the districts file and as the
// categories file (the other being the real one), load_config (+ make_handler on each platform
// block, as the bot starts), and a stored Session read back as the pipeline reads it.
// What loads and validates is then used: a few steps of a conversation run on it.
// Seeds: fuzz/corpus/fuzz_config/, plus config/ and dialogs/flows/ given by fuzz/run.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include "bot/config.h"
#include "dialogs/engine.h"
#include "fuzz/fuzz_support.h"
#include "handlers/handler.h"

namespace nivaran::fuzz {
namespace {

using namespace dialogs;
using nlohmann::json;

// One file per process, rewritten for every input. It is unlinked at once and reached through
// /proc/self/fd, so nothing is left behind however libFuzzer exits.
const std::string& input_path() {
  static const std::string path = [] {
    char name[] = "/tmp/nivaran-fuzz-config-XXXXXX";
    int fd = mkstemp(name);
    check(fd >= 0, "cannot create a temporary file");
    unlink(name);
    return "/proc/self/fd/" + std::to_string(fd);
  }();
  return path;
}

void write_input(const uint8_t* data, size_t size) {
  std::ofstream out(input_path(), std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  check(out.good(), "cannot write " + input_path());
}

// A short conversation: greet, answer the first question, press the first option offered,
// ask for help, go back, cancel. A damaged session may make a step throw, which the pipeline
// turns into an apology (bot/pipeline.cc); memory errors and undefined behaviour still count.
void converse(const Flow& flow, const ReferenceData& ref, Session s, bool may_throw) {
  int64_t now = 1'795'840'200'000;
  std::string first_option;
  for (const char* text : {"नमस्ते", "1", "#", "बरेली", "help", "back", "cancel"}) {
    InboundMessage m;
    m.platform = "telegram";
    m.message_id = std::to_string(now);
    m.user_id = m.chat_id = "5123456789";
    m.text = text;
    if (m.text == "#") {
      m.text.clear();
      m.button = first_option;
    }
    StepResult r;
    try {
      r = step(flow, ref, s, m, {now, "ep-" + std::to_string(now), 330});
    } catch (const std::exception& e) {
      check(may_throw, std::string("step threw: ") + e.what());
      return;
    }
    for (const Reply& reply : r.replies) {
      check(is_utf8(reply.text), "step: a reply text is not UTF-8");
      if (!reply.options.empty()) first_option = reply.options.front().id;
    }
    s = r.session;
    now += 60'000;
  }
}

void fuzz_flow(const std::string& path) {
  auto flow = load_flow(path);
  if (!flow.ok()) {
    check(flow.status().message().starts_with(path + ": "), "load_flow: error without the file");
    return;
  }
  std::vector<std::string> errors = validate_flow(flow.value(), real_reference_data(), path);
  if (errors.empty()) converse(flow.value(), real_reference_data(), Session{}, false);
}

void fuzz_reference(const std::string& districts, const std::string& categories) {
  auto ref = load_reference_data(districts, categories);
  if (!ref.ok()) return;
  if (validate_flow(grievance_flow(), ref.value(), "grievance.json").empty()) {
    converse(grievance_flow(), ref.value(), Session{}, false);
  }
}

void fuzz_config(const std::string& path) {
  auto config = load_config(path);
  if (!config.ok()) return;
  for (const auto& [name, block] : config.value().platforms) {
    auto h = make_handler(name, block);
    if (!h.ok()) check(!h.status().message().empty(), "make_handler: error without a message");
  }
}

// The pipeline reads a stored session with json::parse and get<Session>(), which must never
// throw, and steps on whatever that gives.
void fuzz_session(const uint8_t* data, size_t size) {
  json j = json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return;
  Session s = j.get<Session>();
  json again = s;
  check(again.get<Session>() == s, "Session does not survive to_json/from_json");
  converse(grievance_flow(), real_reference_data(), s, /*may_throw=*/true);
}

}  // namespace
}  // namespace nivaran::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nivaran::fuzz;
  write_input(data, size);
  const std::string& path = input_path();
  fuzz_flow(path);
  fuzz_reference(path, source_path("config/categories.json"));
  fuzz_reference(source_path("config/districts.json"), path);
  fuzz_config(path);
  fuzz_session(data, size);
  return 0;
}
