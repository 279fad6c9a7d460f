// Placeholder: the byte-level BPE tokenizer is being written (owner: BPE tokenizer work).
#include "lmgen/error.hpp"
#include "tokenizer_internal.hpp"

namespace lmgen {
std::unique_ptr<Tokenizer> make_gguf_bpe_tokenizer(const GgufFile& gguf) {
  throw Error(gguf.path(), "BPE tokenizer not implemented yet");
}
std::unique_ptr<Tokenizer> make_hf_bpe_tokenizer(const nlohmann::json&, const nlohmann::json&, const std::string& path) {
  throw Error(path, "BPE tokenizer not implemented yet");
}
bool hf_tokenizer_is_byte_level(const nlohmann::json& tokenizer) {
  auto has_bytelevel = [](const nlohmann::json& j) { return j.dump().find("\"ByteLevel\"") != std::string::npos; };
  return tokenizer.contains("pre_tokenizer") && has_bytelevel(tokenizer["pre_tokenizer"]);
}
}  // namespace lmgen
