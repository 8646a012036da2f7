// Shared by the fuzz targets: the repository's real flow and reference data, and check(), which
// turns a broken promise into a crash libFuzzer reports with its input.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "dialogs/flow.h"
#include "dialogs/reference_data.h"

namespace nivaran::fuzz {

// Aborts with `what` when `ok` is false: a promise of the code under test did not hold.
inline void check(bool ok, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz check failed: %s\n", what.c_str());
  std::abort();
}

inline std::string source_path(const std::string& relative) {
  return std::string(NIVARAN_SOURCE_DIR) + "/" + relative;
}

inline const dialogs::ReferenceData& real_reference_data() {
  static const dialogs::ReferenceData ref = [] {
    auto r = dialogs::load_reference_data(source_path("config/districts.json"),
                                          source_path("config/categories.json"));
    check(r.ok(), "cannot load the reference data: " + r.status().message());
    return r.value();
  }();
  return ref;
}

inline const dialogs::Flow& grievance_flow() {
  static const dialogs::Flow flow = [] {
    auto f = dialogs::load_flow(source_path("dialogs/flows/grievance.json"));
    check(f.ok(), "cannot load the flow: " + f.status().message());
    return f.value();
  }();
  return flow;
}

// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code points > U+10FFFF).
inline bool is_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    unsigned cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < len; ++k) {
      unsigned char d = s[i + k];
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    static const unsigned kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

}  // namespace nivaran::fuzz
