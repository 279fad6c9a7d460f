// libFuzzer target: the safetensors reader, config.json -> ModelConfig and the Hugging Face directory loader.
// Input: one mode byte, then
//   mode % 3 == 0: a whole model.safetensors file;
//   mode % 3 == 1: the text of a config.json;
//   mode % 3 == 2: split2 layout (common.hpp): config.json text, then model.safetensors, loaded as a directory.
#include <string_view>

#include "common.hpp"
#include "load/hf_config.hpp"
#include "lmgen/loader.hpp"
#include "format/safetensors.hpp"
#include "load/loaders.hpp"

using namespace lmgen;

namespace {

void fuzz_safetensors(std::string_view bytes) {
  const std::string path = fuzz::write_file("model.safetensors", bytes);
  try {
    SafetensorsFile f(path);
    for (const SafetensorsTensorInfo& ti : f.tensors()) {
      if (f.find_tensor(ti.name) != &ti) std::abort();
      try {
        TensorView t = f.tensor(ti.name);
        if (t.nbytes > 0) {
          volatile uint8_t first = t.data[0], last = t.data[t.nbytes - 1];
          (void)first;
          (void)last;
        }
      } catch (const Error&) {
      }
    }
  } catch (const Error&) {
  }
}

void fuzz_config(std::string_view text) {
  try {
    ModelConfig c = hf_config_from_json(std::string(text), "config.json");
    c.validate("config.json");  // must already hold
  } catch (const Error&) {
  }
}

void fuzz_dir(std::string_view in) {
  fuzz::Split2 s = fuzz::split2(in);
  fuzz::write_file("config.json", s.a);
  fuzz::write_file("model.safetensors", s.b);
  try {
    fuzz::exercise_model(std::make_shared<const ModelData>(load_hf_model(fuzz::scratch_dir().string())));
  } catch (const Error&) {
  }
  fuzz::remove_file("config.json");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: fuzz_safetensors(in); break;
    case 1: fuzz_config(in); break;
    default: fuzz_dir(in); break;
  }
  return 0;
}
