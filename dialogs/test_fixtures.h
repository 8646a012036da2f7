// Test-only: the real flow and reference data from the source tree, loaded once.
#pragma once

#include <catch2/catch.hpp>
#include <string>

#include "dialogs/flow.h"
#include "dialogs/reference_data.h"

namespace nivaran::dialogs::testing {

inline std::string source_path(const std::string& relative) {
  return std::string(NIVARAN_SOURCE_DIR) + "/" + relative;
}

inline const ReferenceData& real_reference_data() {
  static const ReferenceData ref = [] {
    auto r = load_reference_data(source_path("config/districts.json"),
                                 source_path("config/categories.json"));
    if (!r.ok()) FAIL(r.status().message());
    return r.value();
  }();
  return ref;
}

inline const Flow& grievance_flow() {
  static const Flow flow = [] {
    auto f = load_flow(source_path("dialogs/flows/grievance.json"));
    if (!f.ok()) FAIL(f.status().message());
    return f.value();
  }();
  return flow;
}

}  // namespace nivaran::dialogs::testing
