// One dialog step, including normalisation and matching, over the real flow and reference data.
// Target (issue 3): median under 20 µs. Run: build/bench/bench_dialog_step
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "dialogs/engine.h"
#include "dialogs/flow.h"
#include "dialogs/reference_data.h"

namespace {

using namespace nivaran;

const dialogs::Flow& flow() {
  static const auto f = dialogs::load_flow(NIVARAN_SOURCE_DIR "/dialogs/flows/grievance.json");
  return f.value();
}

const dialogs::ReferenceData& ref() {
  static const auto r = dialogs::load_reference_data(
      NIVARAN_SOURCE_DIR "/config/districts.json", NIVARAN_SOURCE_DIR "/config/categories.json");
  return r.value();
}

// The session just before `answer` is given: the conversation replayed up to that point.
dialogs::Session session_before(const std::vector<std::string>& answers) {
  dialogs::Session s;
  dialogs::StepContext ctx{.now_ms = 1795000000000, .fresh_episode = "ep", .utc_offset_minutes = 330};
  for (const auto& a : answers) {
    InboundMessage m;
    m.platform = "telegram";
    m.text = a;
    s = dialogs::step(flow(), ref(), s, m, ctx).session;
  }
  return s;
}

void run_step(benchmark::State& state, const std::vector<std::string>& before,
              const std::string& text) {
  const dialogs::Session s = session_before(before);
  dialogs::StepContext ctx{.now_ms = 1795000000000, .fresh_episode = "ep2", .utc_offset_minutes = 330};
  InboundMessage m;
  m.platform = "telegram";
  m.text = text;
  for (auto _ : state) {
    auto r = dialogs::step(flow(), ref(), s, m, ctx);
    benchmark::DoNotOptimize(r);
  }
}

void BM_Greeting(benchmark::State& state) { run_step(state, {}, "नमस्ते"); }
void BM_MenuChoiceDevanagariDigit(benchmark::State& state) { run_step(state, {"नमस्ते"}, "१"); }
void BM_DistrictWithTypo(benchmark::State& state) { run_step(state, {"नमस्ते", "1"}, "bareli"); }
void BM_Mobile(benchmark::State& state) {
  run_step(state,
           {"नमस्ते", "1", "बरेली", "पता नहीं", "किला पुल के पास", "कल रात 11 बजे",
            "कल रात मेरी मोटरसाइकिल घर के बाहर से चोरी हो गई", "राम कुमार"},
           "+91 98765-43210");
}
void BM_StoryInOneMessage(benchmark::State& state) {
  run_step(state, {},
           "मेरा नाम राम है, कल रात पीलीभीत में बस अड्डे के पास मेरा मोबाइल फ़ोन चोरी हो गया");
}

void BM_StoryHinglish(benchmark::State& state) {
  run_step(state, {},
           "kal raat 9 baje shahjahanpur mein chowk kotwali ke paas mera mobile chori ho gaya, "
           "please madad kijiye");
}
void BM_TextAfterFiling(benchmark::State& state) {
  run_step(state,
           {"नमस्ते", "1", "बरेली", "पता नहीं", "किला पुल के पास", "कल रात 11 बजे",
            "कल रात मेरी मोटरसाइकिल घर के बाहर से चोरी हो गई", "राम कुमार", "9876543210", "हाँ",
            "हाँ"},
           "मैं बताना भूल गया, बाइक का नंबर UP25 AB 1234 है");
}

}  // namespace

BENCHMARK(BM_Greeting)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_MenuChoiceDevanagariDigit)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_DistrictWithTypo)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_Mobile)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_StoryInOneMessage)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_StoryHinglish)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_TextAfterFiling)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK_MAIN();
