// Forward pass against llama.cpp references: stories260K (GGUF and llama2.c .bin) and the tiny-llama GGUFs.
#include <gtest/gtest.h>

#include "lmgen/loader.hpp"
#include "refcheck.hpp"

using namespace lmgen;
using namespace lmgen::test;

namespace {

std::shared_ptr<const ModelData> load_weights(const std::string& rel) {
  LoadOptions lo;
  lo.load_tokenizer = false;
  return load_model(shared_path(rel), lo).model;
}

void check_refs(const std::string& model_rel, const std::string& ref_prefix, int n_refs, const RefTolerance& tol,
                int n_threads = 2) {
  auto md = load_weights(model_rel);
  ModelOptions mo;
  mo.n_threads = n_threads;
  Model model(md, mo);
  for (int i = 0; i < n_refs; ++i) {
    std::string ref = shared_path(ref_prefix + std::to_string(i) + ".json");
    RefReport r = check_against_ref(model, ref, tol);
    std::printf("  %s: max full diff %.2e, max top-5 diff %.2e, greedy steps compared %d\n", ref.c_str(),
                r.max_full_diff, r.max_top5_diff, r.greedy_compared);
    EXPECT_GT(r.greedy_compared, 0) << ref;
  }
}

}  // namespace

// Full logits within 1e-3: the independent float64 cross-check in fixtures/ differs from llama.cpp by < 1e-5 on
// these models (logits up to ~19-43), so 1e-3 leaves room for float32 summation order and nothing more.
TEST(ModelRefs, Stories260KGguf) { check_refs("models/stories260K/stories260K.gguf", "fixtures/stories260K/refs/ref-f32-", 4, {}); }

TEST(ModelRefs, Stories260KLlama2cBin) {
  check_refs("models/stories260K/stories260K.bin", "fixtures/stories260K/refs/ref-f32-", 4, {});
}

TEST(ModelRefs, Stories260KBos200) {
  auto md = load_weights("models/stories260K/stories260K.gguf");
  Model model(md);
  RefReport r = check_against_ref(model, shared_path("fixtures/stories260K/refs/ref-f32-bos200.json"), {});
  EXPECT_GT(r.greedy_compared, 100);
}

// Quantized files: tolerances kQuant (refcheck.hpp).
TEST(ModelRefs, TinyLlamaQ8_0) {
  check_refs("fixtures/tiny-llama/model-q8_0.gguf", "fixtures/tiny-llama/refs/ref-q8_0-", 4, kQuant);
}
TEST(ModelRefs, TinyLlamaQ4_0) {
  check_refs("fixtures/tiny-llama/model-q4_0.gguf", "fixtures/tiny-llama/refs/ref-q4_0-", 4, kQuant);
}

TEST(ModelRefs, ThreadCountDoesNotChangeLogits) {
  for (const char* rel : {"fixtures/tiny-llama/model-q8_0.gguf", "fixtures/tiny-llama-kq/model-q3_k_m.gguf",
                          "fixtures/tiny-llama-kq/model-iq4_nl.gguf", "fixtures/tiny-llama-kq/model-iq3_s.gguf"}) {
    SCOPED_TRACE(rel);
    auto md = load_weights(rel);
    std::vector<int32_t> prompt = {1, 450, 4996, 17354, 1701, 29916, 432, 17204, 975, 278, 17366, 11203, 29889};
    std::vector<std::vector<float>> results;
    for (int t : {1, 2, 3}) {
      for (int64_t batch : {1, 5, 64}) {
        ModelOptions mo;
        mo.n_threads = t;
        mo.n_batch = batch;
        Model m(md, mo);
        std::vector<float> logits;
        m.eval(prompt, logits, true);
        results.push_back(logits);
      }
    }
    for (size_t i = 1; i < results.size(); ++i) EXPECT_EQ(results[i], results[0]) << "configuration " << i;
  }
}

// --no-mmap (weights read into anonymous memory) computes exactly what the memory map does, for each format.
TEST(ModelRefs, ReadIntoMemoryGivesIdenticalLogits) {
  for (const char* rel : {"fixtures/tiny-llama/model-q4_0.gguf", "fixtures/tiny-llama/hf",
                          "models/stories260K/stories260K.bin"}) {
    SCOPED_TRACE(rel);
    std::vector<std::vector<float>> out;
    for (FileAccess access : {FileAccess::Map, FileAccess::Read}) {
      LoadOptions lo;
      lo.load_tokenizer = false;
      lo.access = access;
      auto md = load_model(shared_path(rel), lo).model;
      Model m(md, ModelOptions{});
      std::vector<float> logits;
      m.eval(std::vector<int32_t>{1, 45, 67, 89, 12}, logits, true);
      out.push_back(logits);
    }
    ASSERT_FALSE(out[0].empty());
    EXPECT_EQ(out[0], out[1]);
  }
}

// qwen2 (NEOX RoPE, q/k/v biases, tied head) and gpt2 (LayerNorm, GELU, learned positions, fused qkv) from GGUF.
// The BF16 GGUF holds exactly the values of the f32 refs' weights, so full logits must agree to 1e-3.
TEST(ModelRefs, TinyQwen2Bf16) {
  check_refs("fixtures/tiny-qwen2/model-bf16.gguf", "fixtures/tiny-qwen2/refs/ref-f32-", 4, {1e-3f, 1e-3f, 1e-2f});
}
TEST(ModelRefs, TinyQwen2Q8_0) {
  check_refs("fixtures/tiny-qwen2/model-q8_0.gguf", "fixtures/tiny-qwen2/refs/ref-q8_0-", 4, kQuant);
}
// GPT-2: llama.cpp evaluates GELU through an fp16 table; with the exact GELU the fixtures measured up to 2e-2.
TEST(ModelRefs, TinyGpt2F16) {
  check_refs("fixtures/tiny-gpt2/model-f16.gguf", "fixtures/tiny-gpt2/refs/ref-f16-", 4, {3e-2f, 3e-2f, 0.1f});
}
TEST(ModelRefs, TinyGpt2Q8_0) {
  check_refs("fixtures/tiny-gpt2/model-q8_0.gguf", "fixtures/tiny-gpt2/refs/ref-q8_0-", 4, kQuant);
}
TEST(ModelRefs, TinyGpt2Q4_K_M) {
  check_refs("fixtures/tiny-gpt2/model-q4_k.gguf", "fixtures/tiny-gpt2/refs/ref-q4_k-", 4, kQuant);
}
// Real K-quant blocks (Q4_K, Q5_K, Q6_K) and Q4_1.
TEST(ModelRefs, TinyLlamaKqQ4_K_M) {
  check_refs("fixtures/tiny-llama-kq/model-q4_k_m.gguf", "fixtures/tiny-llama-kq/refs/ref-q4_k_m-", 4, kQuant);
}
TEST(ModelRefs, TinyLlamaKqQ5_K_M) {
  check_refs("fixtures/tiny-llama-kq/model-q5_k_m.gguf", "fixtures/tiny-llama-kq/refs/ref-q5_k_m-", 4, kQuant);
}
TEST(ModelRefs, TinyLlamaKqQ4_1) {
  check_refs("fixtures/tiny-llama-kq/model-q4_1.gguf", "fixtures/tiny-llama-kq/refs/ref-q4_1-", 4, kQuant);
}
// The 2- and 3-bit K-quants and the i-quants, each with its own integer kernel and ggml's activation type (Q8_K;
// Q8_0 for IQ4_NL); refs from an AVX2 build of llama.cpp (kQuantAvx2Refs).
TEST(ModelRefs, TinyLlamaKqQ3_K_M) {
  check_refs("fixtures/tiny-llama-kq/model-q3_k_m.gguf", "fixtures/tiny-llama-kq/refs/ref-q3_k_m-", 4, kQuantAvx2Refs);
}
TEST(ModelRefs, TinyLlamaKqQ3_K_S) {
  check_refs("fixtures/tiny-llama-kq/model-q3_k_s.gguf", "fixtures/tiny-llama-kq/refs/ref-q3_k_s-", 4, kQuantAvx2Refs);
}
TEST(ModelRefs, TinyLlamaKqQ2_K) {
  check_refs("fixtures/tiny-llama-kq/model-q2_k.gguf", "fixtures/tiny-llama-kq/refs/ref-q2_k-", 4, kQuantAvx2Refs);
}
TEST(ModelRefs, TinyLlamaKqIQ4_NL) {
  check_refs("fixtures/tiny-llama-kq/model-iq4_nl.gguf", "fixtures/tiny-llama-kq/refs/ref-iq4_nl-", 4, kQuantAvx2Refs);
}
TEST(ModelRefs, TinyLlamaKqIQ4_XS) {
  check_refs("fixtures/tiny-llama-kq/model-iq4_xs.gguf", "fixtures/tiny-llama-kq/refs/ref-iq4_xs-", 4, kQuantAvx2Refs);
}
TEST(ModelRefs, TinyLlamaKqIQ3_S) {
  check_refs("fixtures/tiny-llama-kq/model-iq3_s.gguf", "fixtures/tiny-llama-kq/refs/ref-iq3_s-", 4, kQuantAvx2Refs);
}
