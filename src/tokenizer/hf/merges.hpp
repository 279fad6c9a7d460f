// The BPE `model` of an HF tokenizer.json: its merge list, read once for both kinds of tokenizer.json
// (byte-level and SentencePiece-style). Internal to the library.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "tokenizer/bpe_merge.hpp"
#include "tokenizer/vocab.hpp"

namespace lmgen {

// Reads model.merges ("a b" strings or ["a", "b"] pairs; rank = position in the list; a later duplicate replaces
// an earlier one, as HF's map) into `merges`, naming tokens through `vocab`'s index. A string with several spaces (a token
// that contains a space) is split where both sides are tokens, if exactly one such split exists. Missing or null
// merges: none. Throws Error naming `path` on a malformed entry or a merge that names a token not in `vocab`.
void read_merges(const nlohmann::json& model, const std::string& path, const Vocab& vocab,
                 bpe::MergeTable& merges);

}  // namespace lmgen
