// End to end: HF safetensors directories through the shared forward pass, against llama.cpp's f32 references
// (fixtures/<model>/refs/ref-f32-<n>.json: full logits at every prompt position where shipped, else the top-5),
// and against the GGUF file holding the same values.
#include <gtest/gtest.h>

#include <cstdio>

#include "lmgen/loader.hpp"
#include "refcheck.hpp"
#include "load/loaders.hpp"

using namespace lmgen;
using namespace lmgen::test;

namespace {

void check_hf_refs(const std::string& dir_rel, const std::string& model, const RefTolerance& tol) {
  auto md = std::make_shared<const ModelData>(load_hf_model(shared_path(dir_rel)));
  ModelOptions mo;
  mo.n_threads = 2;
  Model m(md, mo);
  for (int i = 0; i < 4; ++i) {
    const std::string ref = shared_path("fixtures/" + model + "/refs/ref-f32-" + std::to_string(i) + ".json");
    RefReport r = check_against_ref(m, ref, tol);
    std::printf("  %s: max full diff %.2e, max top-5 diff %.2e, greedy steps compared %d\n", ref.c_str(),
                r.max_full_diff, r.max_top5_diff, r.greedy_compared);
    EXPECT_GT(r.greedy_compared, 0) << ref;
  }
}

// All prompt logits of `ids` for a model.
std::vector<float> prompt_logits(std::shared_ptr<const ModelData> md, const std::vector<int32_t>& ids) {
  ModelOptions mo;
  mo.n_threads = 2;
  Model m(std::move(md), mo);
  std::vector<float> logits;
  m.eval(ids, logits, /*all_logits=*/true);
  return logits;
}

}  // namespace

// The numpy float64 cross-check of the HF weights differs from llama.cpp by < 1e-4 for llama and qwen2
// (fixtures/README.md), so 1e-3 on full rows and top-5 leaves room for float32 summation order only.
TEST(HfRefs, TinyLlama) { check_hf_refs("fixtures/tiny-llama/hf", "tiny-llama", {1e-3f, 1e-3f, 1e-2f}); }
TEST(HfRefs, TinyLlamaSharded) {
  check_hf_refs("fixtures/tiny-llama/hf-sharded", "tiny-llama", {1e-3f, 1e-3f, 1e-2f});
}
TEST(HfRefs, TinyQwen2) { check_hf_refs("fixtures/tiny-qwen2/hf", "tiny-qwen2", {1e-3f, 1e-3f, 1e-2f}); }
// llama.cpp evaluates GELU through an fp16 table; with the exact tanh GELU the cross-check saw up to 2.0e-2.
// Argmax / greedy comparisons are skipped where the reference margin is within twice that.
TEST(HfRefs, TinyGpt2) { check_hf_refs("fixtures/tiny-gpt2/hf", "tiny-gpt2", {3e-2f, 3e-2f, 6e-2f}); }

// The GGUF files hold exactly the HF values in the same element types (qwen2: BF16 matrices, unpermuted Q/K with
// NEOX rope; gpt2: F16 matrices transposed by the converter, norms/biases/positions widened to F32), so the same
// forward pass must give bit-identical logits from either source.
TEST(HfRefs, SameLogitsAsGguf) {
  struct Case {
    const char* hf;
    const char* gguf;
    std::vector<int32_t> ids;
  };
  const Case cases[] = {
      {"fixtures/tiny-qwen2/hf", "fixtures/tiny-qwen2/model-bf16.gguf", {9707, 1879, 13, 576, 3974, 13876}},
      {"fixtures/tiny-gpt2/hf", "fixtures/tiny-gpt2/model-f16.gguf", {15496, 995, 13, 383, 2068, 7586}},
  };
  for (const auto& c : cases) {
    auto hf = std::make_shared<const ModelData>(load_hf_model(shared_path(c.hf)));
    LoadOptions lo;
    lo.load_tokenizer = false;
    auto gguf = load_model(shared_path(c.gguf), lo).model;
    EXPECT_EQ(hf->config.n_vocab, gguf->config.n_vocab) << c.hf;
    EXPECT_EQ(hf->config.rope, gguf->config.rope) << c.hf;
    std::vector<float> a = prompt_logits(hf, c.ids), b = prompt_logits(gguf, c.ids);
    ASSERT_EQ(a.size(), b.size()) << c.hf;
    size_t differing = 0;
    float max_diff = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i] != b[i]) ++differing;
      max_diff = std::max(max_diff, std::fabs(a[i] - b[i]));
    }
    EXPECT_EQ(differing, 0u) << c.hf << " vs " << c.gguf << ": max diff " << max_diff;
  }
}

// hf-sharded holds the same bytes as hf/ (at other file offsets), so the logits must be identical.
TEST(HfRefs, ShardedSameLogitsAsSingleFile) {
  const std::vector<int32_t> ids = {1, 450, 4996, 17354, 1701, 29916, 432, 17204, 975, 278, 17366, 11203, 29889};
  auto a = prompt_logits(std::make_shared<const ModelData>(load_hf_model(shared_path("fixtures/tiny-llama/hf"))), ids);
  auto b = prompt_logits(
      std::make_shared<const ModelData>(load_hf_model(shared_path("fixtures/tiny-llama/hf-sharded"))), ids);
  ASSERT_EQ(a.size(), b.size());
  size_t differing = 0;
  float max_diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) ++differing;
    max_diff = std::max(max_diff, std::fabs(a[i] - b[i]));
  }
  EXPECT_EQ(differing, 0u) << "max diff " << max_diff;
}

// The tokenizer.json shipped in each fixture directory gives the prompt ids llama.cpp fed the model.
TEST(HfRefs, TokenizerJsonGivesReferencePromptIds) {
  for (const char* model : {"tiny-llama", "tiny-qwen2", "tiny-gpt2"}) {
    auto tok = lmgen::load_tokenizer(lmgen::test::shared_path(std::string("fixtures/") + model + "/hf"));
    for (int i = 0; i < 4; ++i) {
      const std::string variant = std::string(model) == "tiny-gpt2" ? "f16" : "f32";
      nlohmann::json ref = nlohmann::json::parse(lmgen::test::read_file(
          lmgen::test::shared_path(std::string("fixtures/") + model + "/refs/ref-" + variant + "-" + std::to_string(i) + ".json")));
      EXPECT_EQ(tok->encode(ref["prompt"].get<std::string>()), ref["prompt_ids"].get<std::vector<int32_t>>())
          << model << " prompt " << i;
    }
  }
}
