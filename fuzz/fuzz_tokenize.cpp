// libFuzzer target: encode / decode of arbitrary bytes with real tokenizers (loaded once from the shared test
// material: GGUF SPM and BPE vocabularies with their different pre-tokenizers, HF tokenizer.json files and a
// llama2.c tokenizer.bin).
// Input: byte 0 selects the tokenizer (modulo their count); the rest is the text to encode. The same bytes are also
// read as little-endian u16 token ids (mapped into [-2, n_vocab + 2)) and decoded.
#include <cstdio>
#include <string_view>

#include "common.hpp"
#include "format/gguf.hpp"
#include "lmgen/tokenizer.hpp"
#include "tokenizer/builders.hpp"

using namespace lmgen;

namespace {

std::vector<std::unique_ptr<Tokenizer>>& tokenizers() {
  static std::vector<std::unique_ptr<Tokenizer>> v;
  return v;
}

std::string shared_dir() {
  const char* env = std::getenv("LMGEN_SHARED");
  return env && *env ? env : LMGEN_SHARED_DIR;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const std::string s = shared_dir();
  const char* gguf[] = {"models/stories260K/stories260K.gguf", "vocab/ggml-vocab-gpt-2.gguf",
                        "vocab/ggml-vocab-llama-spm.gguf",    "vocab/ggml-vocab-phi-3.gguf",
                        "vocab/ggml-vocab-deepseek-coder.gguf", "vocab/ggml-vocab-deepseek-llm.gguf",
                        "vocab/ggml-vocab-falcon.gguf",       "vocab/ggml-vocab-starcoder.gguf",
                        "vocab/ggml-vocab-mpt.gguf",          "vocab/ggml-vocab-refact.gguf",
                        "vocab/ggml-vocab-baichuan.gguf",     "vocab/ggml-vocab-gpt-neox.gguf"};
  const char* json[] = {"fixtures/tiny-qwen2/hf/tokenizer.json", "fixtures/tiny-gpt2/hf/tokenizer.json",
                        "fixtures/tiny-llama/hf/tokenizer.json", "fixtures/tiny-gemma2/hf/tokenizer.json"};
  // A tokenizer that does not load (a loader bug of the moment) is reported and skipped; most must load.
  auto add = [&](const std::string& p, auto&& load) {
    try {
      tokenizers().push_back(load(p));
    } catch (const Error& e) {
      std::fprintf(stderr, "fuzz_tokenize: skipping %s: %s\n", p.c_str(), e.what());
    }
  };
  for (const char* p : gguf)
    add(s + "/" + p, [](const std::string& path) {
      GgufFile g(path);
      return load_gguf_tokenizer(g);
    });
  for (const char* p : json) add(s + "/" + p, [](const std::string& path) { return load_hf_tokenizer(path); });
  add(s + "/models/stories260K/tok512.bin", [](const std::string& path) { return load_llama2c_tokenizer(path, 512); });
  std::fprintf(stderr, "fuzz_tokenize: %zu tokenizers loaded\n", tokenizers().size());
  if (tokenizers().size() < 12) {
    std::fprintf(stderr, "fuzz_tokenize: too few tokenizers loaded (set LMGEN_SHARED?)\n");
    std::abort();
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const Tokenizer& tok = *tokenizers()[data[0] % tokenizers().size()];
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  fuzz::exercise_text(tok, text);
  std::vector<int32_t> ids;
  const int64_t range = static_cast<int64_t>(tok.n_vocab()) + 4;
  for (size_t i = 0; i + 1 < text.size(); i += 2) {
    int64_t v = static_cast<uint8_t>(text[i]) | (static_cast<uint8_t>(text[i + 1]) << 8);
    ids.push_back(static_cast<int32_t>(v % range - 2));
  }
  try {
    (void)tok.decode(ids, false);
  } catch (const Error&) {
  }
  try {
    (void)tok.decode(ids, true);
  } catch (const Error&) {
  }
  int32_t prev = -1;
  for (int32_t id : ids) {
    try {
      (void)tok.stream_piece(id, prev, true);
    } catch (const Error&) {
    }
    prev = id;
  }
  return 0;
}
