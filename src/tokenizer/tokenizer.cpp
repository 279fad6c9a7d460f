// load_tokenizer: picks the builder (builders.hpp) for a path by looking at it (a directory, GGUF, JSON, or else a
// llama2.c tokenizer.bin).
#include <filesystem>
#include <fstream>

#include "lmgen/error.hpp"
#include "format/gguf.hpp"
#include "util/read_file.hpp"
#include "tokenizer/builders.hpp"

namespace lmgen {

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
  return load_llama2c_tokenizer(path, n_vocab);
}

}  // namespace lmgen
