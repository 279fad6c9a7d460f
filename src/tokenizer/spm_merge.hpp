// The score-ordered merge engine of the SentencePiece-style tokenizers (GGUF "llama", llama2.c tokenizer.bin):
// llama.cpp's / llama2.c's bigram merging over a Vocab's scores, and SentencePiece's "▁" text helpers (also used
// by tokenizer.json's SentencePiece-style pipeline). The rank-ordered BPE engine is bpe_merge.hpp. Internal to the
// library.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.hpp"

namespace lmgen::spm {

// The "▁" (U+2581) that SentencePiece uses for a space.
inline constexpr std::string_view kSpace = "\xE2\x96\x81";

// True if "▁" occurs in `token` only as a leading run ("▁▁ab" yes, "a▁b" no). When every token of a vocabulary
// has this form, no merge can join a character to a following "▁", so text can be merged word by word.
bool space_only_leading(std::string_view token);

// What the merge precomputes from a vocabulary: whether every token satisfies space_only_leading() (then text is
// merged chunk by chunk, same result) and the byte-fallback token of each byte (the "<0xNN>" token, else the
// one-byte token, else -1).
struct ScoreMergePrep {
  explicit ScoreMergePrep(const Vocab& vocab);
  bool word_split = false;
  std::array<int32_t, 256> byte_id{};
};

// llama.cpp llm_tokenizer_spm: `text` is already "▁"-escaped. Splits into UTF-8 characters, merges the adjacent
// pair whose joined text is the highest-scoring token of `vocab` (ties: leftmost) until none is left, and emits
// characters that are not tokens as byte-fallback tokens (unk_fallback if a byte has none; throws if that is -1).
// `prep` is ScoreMergePrep(vocab).
void encode_score_merge(const Vocab& vocab, const ScoreMergePrep& prep, std::string_view text,
                        std::vector<int32_t>& out, int32_t unk_fallback);

// Replaces every ' ' by "▁".
std::string escape_spaces(std::string_view s);
// Replaces every "▁" by ' '.
std::string unescape_spaces(std::string_view s);

}  // namespace lmgen::spm
