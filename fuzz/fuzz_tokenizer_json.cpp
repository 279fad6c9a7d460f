// libFuzzer target: the Hugging Face tokenizer.json loader (+ tokenizer_config.json beside it), then encode/decode
// with whatever loaded.
// Input: split2 layout (common.hpp): tokenizer_config.json text (empty = no such file), then tokenizer.json text.
#include <string_view>

#include "common.hpp"
#include "lmgen/tokenizer.hpp"
#include "tokenizer/builders.hpp"

using namespace lmgen;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Split2 s = fuzz::split2(std::string_view(reinterpret_cast<const char*>(data), size));
  if (s.a.empty())
    fuzz::remove_file("tokenizer_config.json");
  else
    fuzz::write_file("tokenizer_config.json", s.a);
  const std::string path = fuzz::write_file("tokenizer.json", s.b);
  try {
    std::unique_ptr<Tokenizer> tok = load_hf_tokenizer(path);
    fuzz::exercise_tokenizer(*tok);
  } catch (const Error&) {
  }
  return 0;
}
