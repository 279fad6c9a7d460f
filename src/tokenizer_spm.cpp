// Placeholder: the SentencePiece-style tokenizer is being written (owner: SPM tokenizer work).
#include "lmgen/error.hpp"
#include "tokenizer_internal.hpp"

namespace lmgen {
std::unique_ptr<Tokenizer> make_gguf_spm_tokenizer(const GgufFile& gguf) {
  throw Error(gguf.path(), "SentencePiece tokenizer not implemented yet");
}
std::unique_ptr<Tokenizer> make_llama2c_tokenizer(const std::string& path, int32_t) {
  throw Error(path, "llama2.c tokenizer not implemented yet");
}
std::unique_ptr<Tokenizer> make_hf_spm_tokenizer(const nlohmann::json&, const nlohmann::json&, const std::string& path) {
  throw Error(path, "SentencePiece tokenizer not implemented yet");
}
}  // namespace lmgen
