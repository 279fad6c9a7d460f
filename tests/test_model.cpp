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

// Quantized files: llama.cpp rounds the activations to 8 bits inside quantized matmuls, so logits move by up to a
// few tenths; compare the top-5 loosely and greedy ids until a near-tie.
TEST(ModelRefs, TinyLlamaQ8_0) {
  check_refs("fixtures/tiny-llama/model-q8_0.gguf", "fixtures/tiny-llama/refs/ref-q8_0-", 4, {1e-3f, 0.25f, 0.1f});
}
TEST(ModelRefs, TinyLlamaQ4_0) {
  check_refs("fixtures/tiny-llama/model-q4_0.gguf", "fixtures/tiny-llama/refs/ref-q4_0-", 4, {1e-3f, 0.5f, 0.2f});
}

TEST(ModelRefs, ThreadCountDoesNotChangeLogits) {
  auto md = load_weights("fixtures/tiny-llama/model-q8_0.gguf");
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
