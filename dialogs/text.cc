#include "dialogs/text.h"

#include <unicode/normalizer2.h>
#include <unicode/translit.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace nivaran::dialogs {
namespace {

icu::UnicodeString nfc(std::string_view utf8) {
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) return u;
  // Most text arrives in NFC already: check before copying.
  if (n->spanQuickCheckYes(u, status) == u.length() && U_SUCCESS(status)) return u;
  status = U_ZERO_ERROR;
  icu::UnicodeString out = n->normalize(u, status);
  return U_FAILURE(status) ? u : out;
}

std::string to_utf8(const icu::UnicodeString& u) {
  std::string s;
  u.toUTF8String(s);
  return s;
}

// Appends code points as UTF-8, turning any white space run into one space and dropping
// leading and trailing space.
class SpaceCollapser {
 public:
  void add(UChar32 c) {
    if (u_isUWhiteSpace(c) || c == 0x200B) {
      pending_space_ = !out_.empty();
      return;
    }
    if (pending_space_) out_.push_back(' ');
    pending_space_ = false;
    if (c < 0x80) {
      out_.push_back(static_cast<char>(c));
      return;
    }
    char buf[U8_MAX_LENGTH];
    int32_t len = 0;
    U8_APPEND_UNSAFE(buf, len, c);
    out_.append(buf, static_cast<size_t>(len));
  }
  std::string& result() { return out_; }

 private:
  std::string out_;
  bool pending_space_ = false;
};

// Calls f(code point) for each code point of u.
template <typename F>
void for_each_code_point(const icu::UnicodeString& u, F f) {
  const char16_t* p = u.getBuffer();
  const int32_t n = u.length();
  for (int32_t i = 0; i < n;) {
    UChar32 c;
    U16_NEXT(p, i, n, c);
    f(c);
  }
}

// One "Any-Latin; Latin-ASCII" transliterator per thread: creating one parses rule files
// (milliseconds), cloning the process-wide prototype is cheap, and instances are not
// thread-safe.
icu::Transliterator& ascii_transliterator() {
  static const std::unique_ptr<icu::Transliterator> prototype = [] {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::Transliterator> t(
        icu::Transliterator::createInstance("Any-Latin; Latin-ASCII", UTRANS_FORWARD, status));
    if (U_FAILURE(status) || !t) throw std::runtime_error("ICU transliterator unavailable");
    return t;
  }();
  thread_local std::unique_ptr<icu::Transliterator> mine(prototype->clone());
  return *mine;
}

bool is_consonant(UChar32 c) {
  return (c >= 0x915 && c <= 0x939) || (c >= 0x958 && c <= 0x95F) || (c >= 0x978 && c <= 0x97F);
}
bool is_matra(UChar32 c) {
  return (c >= 0x93A && c <= 0x94C && c != 0x93C && c != 0x93D) || (c >= 0x94E && c <= 0x94F) ||
         (c >= 0x955 && c <= 0x957) || c == 0x962 || c == 0x963;
}
bool is_independent_vowel(UChar32 c) {
  return (c >= 0x904 && c <= 0x914) || c == 0x960 || c == 0x961 || (c >= 0x972 && c <= 0x977);
}
constexpr UChar32 kVirama = 0x94D;
constexpr UChar32 kNukta = 0x93C;

// Hindi drops the inherent vowel (schwa) that Devanagari leaves unwritten at the end of a
// word and in the pattern vowel-C_C-vowel ("कोतवाली" is "kotvali", not "kotavali"). ICU's
// Devanagari-Latin writes every schwa, so mark the silent ones with a virama first. Anusvara
// and chandrabindu become "n" the way Hinglish writers spell them.
icu::UnicodeString delete_schwas(const std::vector<UChar32>& w) {
  const size_t n = w.size();
  // Index of the letter after consonant i, skipping a nukta.
  auto after = [&](size_t i) {
    size_t j = i + 1;
    if (j < n && w[j] == kNukta) ++j;
    return j;
  };
  std::vector<bool> schwa(n, false), silent(n, false);
  size_t syllables = 0;
  for (size_t i = 0; i < n; ++i) {
    if (is_consonant(w[i])) {
      size_t j = after(i);
      schwa[i] = !(j < n && (is_matra(w[j]) || w[j] == kVirama));
      if (schwa[i]) ++syllables;
    } else if (is_matra(w[i]) || is_independent_vowel(w[i])) {
      ++syllables;
    }
  }
  // Word-final schwa.
  for (size_t i = n; i-- > 0;) {
    if (!is_consonant(w[i])) continue;
    if (schwa[i] && after(i) >= n && syllables >= 2) silent[i] = true;
    break;
  }
  // Medial schwa, left to right, against what is already decided.
  auto vowel_sound_before = [&](size_t i) {
    if (i == 0) return false;
    size_t k = i - 1;
    if (w[k] == kNukta && k > 0) --k;
    if (is_matra(w[k]) || is_independent_vowel(w[k]) || w[k] == 0x901 || w[k] == 0x902) return true;
    return is_consonant(w[k]) && schwa[k] && !silent[k];
  };
  for (size_t i = 0; i < n; ++i) {
    if (!is_consonant(w[i]) || !schwa[i] || silent[i]) continue;
    size_t j = after(i);
    if (j >= n || !is_consonant(w[j])) continue;
    if (!vowel_sound_before(i)) continue;
    size_t k = after(j);
    bool next_has_vowel = (schwa[j] && !silent[j]) || (k < n && is_matra(w[k]));
    if (next_has_vowel) silent[i] = true;
  }
  icu::UnicodeString out;
  for (size_t i = 0; i < n; ++i) {
    UChar32 c = w[i];
    if (c == 0x901 || c == 0x902) {
      out.append(static_cast<UChar32>(0x928)).append(kVirama);
      continue;
    }
    if (c == 0x903) continue;  // visarga
    out.append(c);
    if (is_consonant(c) && silent[i]) {
      size_t j = after(i);
      if (j == i + 2) out.append(kNukta), ++i;
      out.append(kVirama);
    }
  }
  return out;
}

bool is_ascii_vowel(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
}

// Folds the spelling freedom of romanised Hindi in one ASCII word.
std::string fold_word(std::string w) {
  replace_all(w, "ee", "i");
  replace_all(w, "oo", "u");
  replace_all(w, "ph", "f");
  replace_all(w, "ck", "k");
  for (char& c : w) {
    if (c == 'w') c = 'v';
    if (c == 'z') c = 'j';
    if (c == 'q') c = 'k';
  }
  replace_all(w, "x", "ks");
  std::string out;
  for (size_t i = 0; i < w.size(); ++i) {
    char c = w[i];
    // Aspiration: "bh", "ch", "kh", "sh", "th", ... lose the "h".
    if (c == 'h' && i > 0 && !is_ascii_vowel(w[i - 1]) && w[i - 1] != 'h') continue;
    if (c == 'y' && i + 1 == w.size() && i > 0) c = 'i';
    if (!out.empty() && out.back() == c && !(c >= '0' && c <= '9')) continue;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string clean_text(std::string_view utf8) {
  icu::UnicodeString u = nfc(utf8);
  SpaceCollapser sc;
  for_each_code_point(u, [&sc](UChar32 c) { sc.add(c); });
  return std::move(sc.result());
}

std::string match_form(std::string_view utf8) {
  icu::UnicodeString u = nfc(utf8);
  u.foldCase();
  SpaceCollapser sc;
  for_each_code_point(u, [&sc](UChar32 c) {
    if (c >= 0x966 && c <= 0x96F) c = '0' + (c - 0x966);
    if (c == 0x901) c = 0x902;
    if (c == 0x200C || c == 0x200D || c == 0xFE0F) return;
    int8_t type = u_charType(c);
    bool punct = u_ispunct(c) || type == U_MATH_SYMBOL || type == U_CURRENCY_SYMBOL ||
                 type == U_MODIFIER_SYMBOL || type == U_OTHER_SYMBOL;
    sc.add(punct ? static_cast<UChar32>(' ') : c);
  });
  return std::move(sc.result());
}

std::string phonetic_key_uncached(std::string_view text) {
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  bool ascii = std::all_of(text.begin(), text.end(), [](char c) { return (c & 0x80) == 0; });
  if (!ascii) {
    icu::UnicodeString prepared;
    std::vector<UChar32> word;
    auto flush = [&] {
      prepared.append(delete_schwas(word));
      word.clear();
    };
    for (int32_t i = 0; i < u.length(); i = u.moveIndex32(i, 1)) {
      UChar32 c = u.char32At(i);
      if (c >= 0x900 && c <= 0x97F) {
        word.push_back(c);
      } else {
        flush();
        prepared.append(c);
      }
    }
    flush();
    ascii_transliterator().transliterate(prepared);
    u = prepared;
  }
  std::string latin = to_utf8(u);
  std::string out, word;
  auto flush = [&] {
    if (word.empty()) return;
    if (!out.empty()) out.push_back(' ');
    out += fold_word(word);
    word.clear();
  };
  for (char c : latin) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      word.push_back(c);
    } else if (c == '\'' || c == '`' || c == '~') {
      continue;  // ICU's syllable separator ("sa'ibara")
    } else {
      flush();
    }
  }
  flush();
  return out;
}

std::string phonetic_key(std::string_view text) {
  // Transliteration is most of a step's cost, and citizens use the same few thousand words
  // over and over: each thread remembers the keys of the words it has seen. Words are
  // transliterated independently (nothing in Any-Latin looks across a space), so the key of a
  // text is the keys of its words joined; a test checks this against the whole-text result.
  constexpr size_t kMaxCachedWords = 50'000;
  constexpr size_t kMaxCachedWordBytes = 64;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view v) const { return std::hash<std::string_view>{}(v); }
  };
  thread_local std::unordered_map<std::string, std::string, Hash, std::equal_to<>> cache;
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    size_t j = i;
    while (j < text.size() && text[j] != ' ') ++j;
    if (j == i) break;
    const std::string_view word = text.substr(i, j - i);
    i = j;
    std::string key;
    if (word.size() > kMaxCachedWordBytes) {
      key = phonetic_key_uncached(word);
    } else if (auto it = cache.find(word); it != cache.end()) {
      key = it->second;
    } else {
      key = phonetic_key_uncached(word);
      if (cache.size() >= kMaxCachedWords) cache.clear();
      cache.emplace(word, key);
    }
    if (key.empty()) continue;
    if (!out.empty()) out.push_back(' ');
    out += key;
  }
  return out;
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    size_t j = i;
    while (j < text.size() && text[j] != ' ') ++j;
    if (j > i) words.emplace_back(text.substr(i, j - i));
    i = j;
  }
  return words;
}

int edit_distance(std::string_view a, std::string_view b, int limit) {
  const int la = static_cast<int>(a.size()), lb = static_cast<int>(b.size());
  if (std::abs(la - lb) > limit) return limit + 1;
  if (limit <= 0) return a == b ? 0 : limit + 1;
  // Optimal string alignment: insert, delete, substitute, swap two neighbours.
  thread_local std::vector<int> before, prev, cur;  // reused: this runs thousands of times a step
  before.assign(lb + 1, 0);
  prev.assign(lb + 1, 0);
  cur.assign(lb + 1, 0);
  for (int j = 0; j <= lb; ++j) prev[j] = j;
  for (int i = 1; i <= la; ++i) {
    cur[0] = i;
    int row_min = cur[0];
    for (int j = 1; j <= lb; ++j) {
      int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        cur[j] = std::min(cur[j], before[j - 2] + 1);
      row_min = std::min(row_min, cur[j]);
    }
    if (row_min > limit) return limit + 1;
    std::swap(before, prev);
    std::swap(prev, cur);
  }
  return std::min(prev[lb], limit + 1);
}

int typo_budget(size_t key_length) {
  if (key_length <= 3) return 0;
  if (key_length <= 6) return 1;
  return 2;
}

bool contains_phrase(std::string_view text, std::string_view phrase) {
  if (phrase.empty()) return false;
  size_t pos = 0;
  while ((pos = text.find(phrase, pos)) != std::string_view::npos) {
    bool left = pos == 0 || text[pos - 1] == ' ';
    size_t end = pos + phrase.size();
    bool right = end == text.size() || text[end] == ' ';
    if (left && right) return true;
    ++pos;
  }
  return false;
}

bool has_devanagari(std::string_view utf8) {
  // Devanagari is U+0900..U+097F: UTF-8 lead byte 0xE0 followed by 0xA4 or 0xA5.
  for (size_t i = 0; i + 1 < utf8.size(); ++i) {
    if (static_cast<unsigned char>(utf8[i]) == 0xE0 &&
        (static_cast<unsigned char>(utf8[i + 1]) == 0xA4 ||
         static_cast<unsigned char>(utf8[i + 1]) == 0xA5))
      return true;
  }
  return false;
}

}  // namespace nivaran::dialogs
