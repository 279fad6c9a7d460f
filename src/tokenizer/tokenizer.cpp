// Tokenizer loaders: pick the implementation from the source's own description.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lmgen/error.hpp"
#include "util/json_limits.hpp"
#include "util/read_file.hpp"
#include "tokenizer/tokenizer_internal.hpp"
#include "tokenizer/builders.hpp"

namespace lmgen {

namespace {
nlohmann::json read_json_file(const std::string& path) {
  const std::string text = read_whole_file(path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path, std::string("invalid JSON: ") + json_error_text(e));
  }
  check_json_depth(j, path);  // before the builders (some recurse) walk it
  return j;
}
}  // namespace

std::unique_ptr<Tokenizer> load_gguf_tokenizer(const GgufFile& gguf) {
  std::string model = gguf.get_string_opt("tokenizer.ggml.model").value_or("");
  if (model == "llama") return make_gguf_spm_tokenizer(gguf);
  if (model == "gpt2") return make_gguf_bpe_tokenizer(gguf);
  if (model.empty()) throw Error(gguf.path(), "no tokenizer in this GGUF (tokenizer.ggml.model missing)");
  throw Error(gguf.path(), "unsupported tokenizer model '" + model + "' (supported: llama, gpt2)");
}

std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& tokenizer_json_path) {
  nlohmann::json tok = read_json_file(tokenizer_json_path);
  nlohmann::json config;
  auto cfg_path = std::filesystem::path(tokenizer_json_path).parent_path() / "tokenizer_config.json";
  if (std::filesystem::exists(cfg_path)) config = read_json_file(cfg_path.string());
  if (!tok.is_object() || !tok.contains("model") || !tok["model"].is_object())
    throw Error(tokenizer_json_path, "not a tokenizer.json (no \"model\" object)");
  std::string type = tok["model"].value("type", std::string("BPE"));
  if (type != "BPE") throw Error(tokenizer_json_path, "unsupported tokenizer model type '" + type + "' (supported: BPE)");
  return make_hf_tokenizer(tok, config, tokenizer_json_path);
}

std::unique_ptr<Tokenizer> load_llama2c_tokenizer(const std::string& path, int32_t n_vocab) {
  return make_llama2c_tokenizer(path, n_vocab);
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path, int32_t n_vocab) {
  namespace fs = std::filesystem;
  std::error_code ec;  // (a symlink loop is an error to tell, not std::filesystem's exception)
  if (fs::is_directory(path, ec)) {
    fs::path tj = fs::path(path) / "tokenizer.json";
    if (!fs::exists(tj, ec)) throw Error(path, "directory has no tokenizer.json");
    return load_hf_tokenizer(tj.string());
  }
  if (!fs::exists(path, ec)) throw Error(path, ec ? "cannot open: " + ec.message() : std::string("no such file"));
  if (GgufFile::sniff(path)) {
    GgufFile g(path);
    return load_gguf_tokenizer(g);
  }
  // JSON starts with '{' (possibly after whitespace); a llama2.c tokenizer.bin starts with a u32 max token length.
  const std::string head = read_file_head(path, 4096);
  const size_t first = head.find_first_not_of(" \n\r\t");
  if (first != std::string::npos && head[first] == '{') return load_hf_tokenizer(path);
  if (n_vocab <= 0) throw Error(path, "a llama2.c tokenizer.bin needs the model's vocabulary size");
  return make_llama2c_tokenizer(path, n_vocab);
}

}  // namespace lmgen
