// The architecture fixtures (fixtures/tiny-{qwen3,llama3,gemma3,gemma2,phi3,gptneox}) against their references:
// the HF directory and the GGUF of the same values against the f32 refs, the Q8_0 GGUF against its own refs.
// Tolerances are the fixtures README's: 1e-3 where both sides compute the same math (llama3, qwen3, gemma3, phi3);
// gemma2 2e-2 and gptneox 3e-2, because llama.cpp's refs evaluate GELU through an fp16 table (and for gptneox with
// the tanh formula where HF, and lmgen, use the exact erf GELU). Argmax / greedy ids are compared where the
// reference's top1-top2 margin exceeds the tie margin.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>

#include "lmgen/loader.hpp"
#include "load/loaders.hpp"
#include "refcheck.hpp"

using namespace lmgen;
using namespace lmgen::test;

namespace {

std::shared_ptr<const ModelData> load_weights(const std::string& rel) {
  LoadOptions lo;
  lo.load_tokenizer = false;
  return load_model(shared_path(rel), lo).model;
}

void check_refs(const std::string& model, const std::string& file, const std::string& variant,
                const RefTolerance& tol) {
  auto md = load_weights("fixtures/" + model + "/" + file);
  ModelOptions mo;
  mo.n_threads = 2;
  Model m(md, mo);
  for (int i = 0; i < 4; ++i) {
    const std::string ref = shared_path("fixtures/" + model + "/refs/ref-" + variant + "-" + std::to_string(i) + ".json");
    RefReport r = check_against_ref(m, ref, tol);
    std::printf("  %s %s: max full diff %.2e, max top-5 diff %.2e, greedy steps compared %d\n", file.c_str(),
                ref.c_str(), r.max_full_diff, r.max_top5_diff, r.greedy_compared);
    EXPECT_GT(r.greedy_compared, 0) << ref;
  }
}


}  // namespace

TEST(FamilyRefs, Qwen3Hf) { check_refs("tiny-qwen3", "hf", "f32", kExact); }
TEST(FamilyRefs, Qwen3Bf16) { check_refs("tiny-qwen3", "model-bf16.gguf", "f32", kExact); }

TEST(FamilyRefs, Llama3Hf) { check_refs("tiny-llama3", "hf", "f32", kExact); }
TEST(FamilyRefs, Llama3Bf16) { check_refs("tiny-llama3", "model-bf16.gguf", "f32", kExact); }
TEST(FamilyRefs, Llama3Q8_0) { check_refs("tiny-llama3", "model-q8_0.gguf", "q8_0", kQuant); }

TEST(FamilyRefs, Gemma3Hf) { check_refs("tiny-gemma3", "hf", "f32", kExact); }
TEST(FamilyRefs, Gemma3Bf16) { check_refs("tiny-gemma3", "model-bf16.gguf", "f32", kExact); }

TEST(FamilyRefs, Gemma2Hf) { check_refs("tiny-gemma2", "hf", "f32", kGemma2); }
TEST(FamilyRefs, Gemma2Bf16) { check_refs("tiny-gemma2", "model-bf16.gguf", "f32", kGemma2); }
TEST(FamilyRefs, Gemma2Q8_0) { check_refs("tiny-gemma2", "model-q8_0.gguf", "q8_0", kQuant); }

TEST(FamilyRefs, Phi3Hf) { check_refs("tiny-phi3", "hf", "f32", kExact); }
TEST(FamilyRefs, Phi3Bf16) { check_refs("tiny-phi3", "model-bf16.gguf", "f32", kExact); }
TEST(FamilyRefs, Phi3Q8_0) { check_refs("tiny-phi3", "model-q8_0.gguf", "q8_0", kQuant); }

TEST(FamilyRefs, GptNeoxHf) { check_refs("tiny-gptneox", "hf", "f32", kGelu); }
TEST(FamilyRefs, GptNeoxF16) { check_refs("tiny-gptneox", "model-f16.gguf", "f32", kGelu); }
TEST(FamilyRefs, GptNeoxF16OwnRefs) { check_refs("tiny-gptneox", "model-f16.gguf", "f16", kGelu); }
TEST(FamilyRefs, GptNeoxQ8_0) { check_refs("tiny-gptneox", "model-q8_0.gguf", "q8_0", kQuant); }

// The HF directory and the GGUF holding the same values configure the same computation.
TEST(FamilyRefs, HfAndGgufConfigsAgree) {
  for (const char* m : {"tiny-qwen3", "tiny-llama3", "tiny-gemma3", "tiny-gemma2", "tiny-phi3"}) {
    auto hf = load_weights(std::string("fixtures/") + m + "/hf");
    auto gg = load_weights(std::string("fixtures/") + m + "/model-bf16.gguf");
    const ModelConfig &a = hf->config, &b = gg->config;
    EXPECT_EQ(a.arch, b.arch) << m;
    EXPECT_EQ(a.head_dim, b.head_dim) << m;
    EXPECT_EQ(a.rope_dim, b.rope_dim) << m;
    EXPECT_EQ(a.qk_norm, b.qk_norm) << m;
    EXPECT_EQ(a.post_norms, b.post_norms) << m;
    EXPECT_EQ(a.act, b.act) << m;
    EXPECT_EQ(a.embd_scale, b.embd_scale) << m;
    EXPECT_EQ(a.attn_softcap, b.attn_softcap) << m;
    EXPECT_EQ(a.final_softcap, b.final_softcap) << m;
    EXPECT_EQ(a.layer_sliding, b.layer_sliding) << m;
    EXPECT_EQ(a.rope_theta_local, b.rope_theta_local) << m;
    ASSERT_EQ(a.rope_freq_div.size(), b.rope_freq_div.size()) << m;
    for (size_t i = 0; i < a.rope_freq_div.size(); ++i)
      EXPECT_NEAR(a.rope_freq_div[i], b.rope_freq_div[i], 1e-5f * b.rope_freq_div[i]) << m << " factor " << i;
    EXPECT_NEAR(a.rope_attn_factor, b.rope_attn_factor, 1e-6f) << m;
  }
}

// Sliding layers keep a ring of about the window in the KV cache once that is smaller than the context; over a
// sequence that crosses the window many times the logits are bit-identical to a cache holding every position.
TEST(FamilyRefs, SlidingRingGivesSameLogitsAsFullCache) {
  auto md = load_weights("fixtures/tiny-gemma3/hf");
  std::vector<int32_t> ids;
  for (int i = 0; i < 100; ++i) ids.push_back(static_cast<int32_t>((i * 7919 + 13) % 32000));
  auto run = [&](int64_t n_ctx, int64_t n_batch) {
    ModelOptions mo;
    mo.n_threads = 2;
    mo.n_ctx = n_ctx;
    mo.n_batch = n_batch;
    Model m(md, mo);
    std::vector<float> all, step;
    for (size_t t = 0; t < ids.size(); t += 3) {  // chunks of 3 tokens
      std::vector<int32_t> chunk(ids.begin() + t, ids.begin() + std::min(ids.size(), t + 3));
      m.eval(chunk, step, true);
      all.insert(all.end(), step.begin(), step.end());
    }
    return all;
  };
  // n_ctx 128, n_batch 64: the ring (2 x 96 positions) would not be smaller, so every position is kept.
  const auto full = run(128, 64);
  // n_batch 4: a ring of 2 x 32 positions for the five sliding layers.
  const auto ring = run(128, 4);
  ASSERT_EQ(full.size(), ring.size());
  EXPECT_EQ(std::memcmp(full.data(), ring.data(), full.size() * sizeof(float)), 0);
}

// phi3 longrope: the short factors hold while the sequence fits the original context (256 positions), the long
// factors for a chunk that goes beyond it (as transformers decides per forward call). A model whose long factors
// are replaced by the short ones gives the same logits up to position 256 and different ones after.
TEST(FamilyRefs, Phi3LongFactorsAfterTheOriginalContext) {
  auto md = load_weights("fixtures/tiny-phi3/model-bf16.gguf");
  auto short_only = std::make_shared<ModelData>(*md);
  short_only->config.rope_freq_div_long = short_only->config.rope_freq_div;
  ASSERT_NE(md->config.rope_freq_div_long, md->config.rope_freq_div);
  ASSERT_EQ(md->config.rope_orig_ctx, 256);
  auto run = [](std::shared_ptr<const ModelData> m) {
    ModelOptions mo;
    mo.n_threads = 2;
    mo.n_ctx = 300;
    Model model(std::move(m), mo);
    std::vector<float> a, b;
    std::vector<int32_t> ids(256);
    for (int i = 0; i < 256; ++i) ids[i] = 100 + (i * 37) % 3000;
    model.eval(ids, a, false);  // positions 0..255: within the original context
    model.eval(std::vector<int32_t>{500, 600}, b, false);  // positions 256, 257: beyond it
    return std::make_pair(a, b);
  };
  const auto [a1, b1] = run(md);
  const auto [a2, b2] = run(short_only);
  EXPECT_EQ(a1, a2);
  float diff = 0;
  for (size_t i = 0; i < b1.size(); ++i) diff = std::max(diff, std::fabs(b1[i] - b2[i]));
  EXPECT_GT(diff, 1e-2f);
}
