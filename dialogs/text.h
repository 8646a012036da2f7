// Text normalisation for matching what citizens type against what the flow and reference data
// expect, in Devanagari, Latin (Hinglish, English) or a mix of both.
//
// Two forms are used. match_form() keeps the script (NFC, case-folded, ASCII digits, no
// punctuation, single spaces) and is what commands, menu titles and yes/no words are compared
// in. phonetic_key() goes one step further and spells the text in plain ASCII the way Hinglish
// writers do ("पीलीभीत" and "Pilibhit" both become "pilibit"), so names written in either script
// compare by edit distance. ICU does the Unicode work; transliterators are cached per thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace nivaran::dialogs {

// NFC, trimmed, runs of white space collapsed to one space; case and punctuation kept.
// Invalid UTF-8 sequences become U+FFFD. For free text stored in a ticket.
std::string clean_text(std::string_view utf8);

// clean_text plus case folding, Devanagari digits (०-९) as ASCII, nukta and chandrabindu
// folded (ज़ → ज, ँ → ं), and punctuation turned into spaces.
std::string match_form(std::string_view utf8);

// The ASCII phonetic spelling of a match_form() text: Devanagari transliterated with Hindi
// schwa deletion, then aspiration, doubled letters and common Hinglish variants folded
// ("chori"/"चोरी" → "cori", "bareilly"/"बरेली" → "bareli"). Words stay separated by spaces.
// Keys of words are remembered per thread (bounded), since transliteration is slow.
std::string phonetic_key(std::string_view match_form_text);

// The same, transliterating the whole text at once with no cache; for tests that check the
// word-by-word result against it.
std::string phonetic_key_uncached(std::string_view match_form_text);

// Words of a match_form() or phonetic_key() text.
std::vector<std::string> split_words(std::string_view text);

// Edit distance (Levenshtein plus swapped neighbours) over bytes, for ASCII keys, stopping
// early above `limit`; returns
// limit + 1 when the distance is larger than limit.
int edit_distance(std::string_view a, std::string_view b, int limit);

// Typo budget for a key of this length: 0 up to 3 letters, 1 up to 6, then 2.
int typo_budget(size_t key_length);

// True when `phrase` occurs in `text` on word boundaries (both already in the same form).
bool contains_phrase(std::string_view text, std::string_view phrase);

// True when the text contains any Devanagari letter.
bool has_devanagari(std::string_view utf8);

}  // namespace nivaran::dialogs
