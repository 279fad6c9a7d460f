// UTF-8: the one small helper the tokenizers use to step through, validate, repair and write UTF-8.
// (Unicode properties and normal forms come from utf8proc, in tokenizer/hf/normalizer.cpp.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lmgen::utf8 {

// Byte length of the sequence a lead byte announces, from its top bits alone (1 for ASCII, continuation and
// invalid bytes), as llama.cpp and SentencePiece step through text. Does not validate.
inline size_t lead_len(unsigned char c) {
  static constexpr uint8_t lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return lookup[c >> 4];
}

// Length of the well-formed sequence at s[i] (1..4), or -(length of the maximal ill-formed subpart, at least 1)
// (Unicode 3.9 "maximal subpart": no overlongs, surrogates or code points past U+10FFFF).
long seq_len(std::string_view s, size_t i);

// Decodes the code point at s[i] and advances i past it; an ill-formed byte gives -1 and advances by 1.
int32_t decode(std::string_view s, size_t& i);

// Appends the UTF-8 encoding of code point cp (< 0x110000).
void append(std::string& out, uint32_t cp);

// True if s is well-formed UTF-8 (as Rust's String::from_utf8 accepts).
bool valid(std::string_view s);

// Unicode White_Space (Rust's char::is_whitespace).
inline bool is_white_space(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Like Rust's String::from_utf8_lossy: each maximal ill-formed subpart becomes U+FFFD.
std::string lossy(std::string_view s);

}  // namespace lmgen::utf8
