// The one list of end-of-generation marker texts (the end-of-turn texts llama.cpp recognises), used by every
// tokenizer. Each vocabulary family reads its own contiguous part of the list: byte-level vocabularies also end
// on "<|end_of_text|>", SentencePiece-style ones on DeepSeek's "<｜end▁of▁sentence｜>" (a byte-level GGUF
// vocabulary treats that one separately, as llama.cpp does). Internal to the library.
#pragma once

#include <span>
#include <string_view>

namespace lmgen {

// DeepSeek's end-of-sentence text ("<｜end▁of▁sentence｜>").
inline constexpr std::string_view kEndOfSentenceText =
    "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>";

inline constexpr std::string_view kAllEogTexts[] = {
    "<|end_of_text|>",  // byte-level only
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>",
    kEndOfSentenceText,  // SentencePiece-style only
};

enum class EogFamily { ByteLevel, SentencePiece };

// The end-of-generation texts of a vocabulary family.
constexpr std::span<const std::string_view> eog_texts(EogFamily family) {
  std::span<const std::string_view> all(kAllEogTexts);
  return family == EogFamily::ByteLevel ? all.first(all.size() - 1) : all.last(all.size() - 1);
}

}  // namespace lmgen
