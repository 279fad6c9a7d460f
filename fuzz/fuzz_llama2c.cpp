// libFuzzer target: llama2.c checkpoints (format sniffing + loader) and llama2.c tokenizer.bin files.
// Input: one mode byte, then
//   mode even: a whole checkpoint file (llama2c_sniff, load_llama2c_model, and a forward step if it is small);
//   mode odd:  u16 n_vocab (little-endian, 0 -> 1), then a tokenizer.bin, loaded with that vocabulary size.
#include <string_view>

#include "common.hpp"
#include "lmgen/loader.hpp"
#include "lmgen/tokenizer.hpp"
#include "tokenizer/builders.hpp"
#include "load/loaders.hpp"

using namespace lmgen;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    const std::string path = fuzz::write_file("model.bin", in);
    try {
      (void)llama2c_sniff(path);
    } catch (const Error&) {
    }
    try {
      fuzz::exercise_model(std::make_shared<const ModelData>(load_llama2c_model(path)));
    } catch (const Error&) {
    }
  } else {
    if (in.size() < 2) return 0;
    int32_t n_vocab = static_cast<uint8_t>(in[0]) | (static_cast<uint8_t>(in[1]) << 8);
    if (n_vocab == 0) n_vocab = 1;
    in.remove_prefix(2);
    const std::string path = fuzz::write_file("tokenizer.bin", in);
    try {
      std::unique_ptr<Tokenizer> tok = load_llama2c_tokenizer(path, n_vocab);
      fuzz::exercise_tokenizer(*tok);
    } catch (const Error&) {
    }
  }
  return 0;
}
