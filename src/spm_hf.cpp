// HF tokenizer.json SentencePiece-style BPE (Llama-2 family): being written.
#include "lmgen/error.hpp"
#include "tokenizer_internal.hpp"

namespace lmgen {
std::unique_ptr<Tokenizer> make_hf_spm_tokenizer(const nlohmann::json&, const nlohmann::json&, const std::string& path) {
  throw Error(path, "HF SentencePiece-style tokenizer.json not implemented yet");
}
}  // namespace lmgen
