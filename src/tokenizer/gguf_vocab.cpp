// GGUF vocabulary reader (gguf_vocab.hpp): token texts, token types, special-token ids.
#include "tokenizer/gguf_vocab.hpp"

#include "format/gguf.hpp"
#include "lmgen/error.hpp"

namespace lmgen {

std::vector<std::string> read_gguf_tokens(const GgufFile& gguf) {
  const std::string& path = gguf.path();
  if (!gguf.has("tokenizer.ggml.tokens")) throw Error(path, "tokenizer.ggml.tokens missing");
  const auto& toks = gguf.get_string_array("tokenizer.ggml.tokens");
  if (toks.empty()) throw Error(path, "tokenizer.ggml.tokens is empty");
  if (toks.size() > (1u << 24)) throw Error(path, "tokenizer.ggml.tokens: too many tokens");
  std::vector<std::string> texts;
  texts.reserve(toks.size());
  for (size_t i = 0; i < toks.size(); ++i) {
    texts.emplace_back(toks[i]);
    if (texts.back().empty()) texts.back() = "[EMPTY_" + std::to_string(i) + "]";
  }
  return texts;
}

std::optional<std::vector<int32_t>> read_gguf_token_types(const GgufFile& gguf, size_t n_tokens) {
  if (!gguf.has("tokenizer.ggml.token_type")) return std::nullopt;
  std::vector<int32_t> types = gguf.get_i32_array("tokenizer.ggml.token_type");
  if (types.size() != n_tokens)
    throw Error(gguf.path(), "tokenizer.ggml.token_type has " + std::to_string(types.size()) + " entries for " +
                                 std::to_string(n_tokens) + " tokens");
  return types;
}

std::optional<int64_t> read_gguf_special_id(const GgufFile& gguf, const std::string& name) {
  auto v = gguf.get_int_opt("tokenizer.ggml." + name + "_token_id");
  if (v && (*v == -1 || *v == 0xFFFFFFFFll)) return -1;
  return v;
}

}  // namespace lmgen
