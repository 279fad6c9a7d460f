// libFuzzer target: the GGUF reader, the GGUF model loader and the GGUF tokenizer.
// Input: a whole GGUF file.
#include <string_view>

#include "common.hpp"
#include "format/gguf.hpp"
#include "lmgen/loader.hpp"
#include "lmgen/tokenizer.hpp"
#include "tokenizer/builders.hpp"
#include "load/loaders.hpp"

using namespace lmgen;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_file("model.gguf", std::string_view(reinterpret_cast<const char*>(data), size));
  std::unique_ptr<GgufFile> g;
  try {
    g = std::make_unique<GgufFile>(path);
  } catch (const Error&) {
    return 0;
  }
  // Every metadata accessor on every key, whatever its type.
  for (const auto& [key, v] : g->metadata()) {
    try { (void)g->get_string(key); } catch (const Error&) {}
    try { (void)g->get_int(key); } catch (const Error&) {}
    try { (void)g->get_float(key); } catch (const Error&) {}
    try { (void)g->get_bool_opt(key); } catch (const Error&) {}
    try { (void)g->get_string_array(key); } catch (const Error&) {}
    try { (void)g->get_f32_array(key); } catch (const Error&) {}
    try { (void)g->get_i32_array(key); } catch (const Error&) {}
  }
  for (const GgufTensorInfo& ti : g->tensors()) {
    try {
      TensorView t = g->tensor(ti.name);
      // Touch the first and last byte the view claims: ASan catches a view that leaves the mapping.
      if (t.nbytes > 0) {
        volatile uint8_t first = t.data[0], last = t.data[t.nbytes - 1];
        (void)first;
        (void)last;
      }
    } catch (const Error&) {
    }
  }
  try {
    fuzz::exercise_model(std::make_shared<const ModelData>(load_gguf_model(path)));
  } catch (const Error&) {
  }
  try {
    std::unique_ptr<Tokenizer> tok = load_gguf_tokenizer(*g);
    fuzz::exercise_tokenizer(*tok);
  } catch (const Error&) {
  }
  return 0;
}
