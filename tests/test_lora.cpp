// LoRA adapters merged at load (LoadOptions::lora) against llama.cpp's references for base + adapter
// (fixtures/tiny-llama-lora, tiny-qwen2-lora: refs computed on the merged weights, fixtures/README.md "LoRA
// adapters"), from every combination of base layout and adapter form: HF base (rotate-half q/k rows) and GGUF base
// (llama.cpp's permuted rows), PEFT directory and GGUF adapter; F32 and BF16 bases; a Q8_0 base against lmgen's own
// merged-then-Q8_0 model; and `convert --lora` (convert_hf_to_gguf with adapters).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <filesystem>
#include <fstream>

#include "convert/convert.hpp"
#include "format/safetensors_writer.hpp"
#include "kernels/quant.hpp"
#include "lmgen/error.hpp"
#include "lmgen/loader.hpp"
#include "refcheck.hpp"

using namespace lmgen;
using namespace lmgen::test;

namespace {

constexpr RefTolerance kLora{1e-3f, 1e-3f, 1e-2f};  // fixtures README: atol 1e-3 is ample (observed <= 1.6e-4)

std::shared_ptr<const ModelData> load_with(const std::string& base, std::vector<LoraSpec> lora,
                                           std::vector<std::string>* notes = nullptr) {
  LoadOptions lo;
  lo.load_tokenizer = false;
  lo.lora = std::move(lora);
  LoadedModel lm = load_model(base, lo);
  if (notes != nullptr) *notes = lm.lora_notes;
  return lm.model;
}

// Every public ref of `fixture` (a LoRA fixture) for the model; returns the largest full-row logit difference.
float check_refs(std::shared_ptr<const ModelData> md, const std::string& fixture, const RefTolerance& tol) {
  ModelOptions mo;
  mo.n_threads = 2;
  Model m(std::move(md), mo);
  float worst = 0;
  for (int i = 0; i < 4; ++i) {
    const std::string ref = shared_path("fixtures/" + fixture + "/refs/ref-f32-" + std::to_string(i) + ".json");
    const RefReport r = check_against_ref(m, ref, tol);
    std::printf("  %s: max full diff %.2e, top-5 %.2e, greedy steps %d\n", ref.c_str(), r.max_full_diff,
                r.max_top5_diff, r.greedy_compared);
    EXPECT_GT(r.greedy_compared, 0) << ref;
    worst = std::max({worst, r.max_full_diff, r.max_top5_diff});
  }
  return worst;
}

std::string llama_peft() { return shared_path("fixtures/tiny-llama-lora"); }
std::string llama_gguf_adapter() { return shared_path("fixtures/tiny-llama-lora/adapter-f32.gguf"); }

// Greedy ids of `n` steps after `prompt` (and the top1 - top2 logit margin of each step).
std::vector<int32_t> greedy(std::shared_ptr<const ModelData> md, const std::vector<int32_t>& prompt, int n,
                            std::vector<float>* margins = nullptr) {
  ModelOptions mo;
  mo.n_threads = 2;
  Model m(std::move(md), mo);
  std::vector<float> logits;
  m.eval(prompt, logits);
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(argmax_lowest(logits.data(), m.n_vocab()));
    if (margins != nullptr) {
      std::vector<float> top(logits.begin(), logits.end());
      std::partial_sort(top.begin(), top.begin() + 2, top.end(), std::greater<float>());
      margins->push_back(top[0] - top[1]);
    }
    m.eval(std::vector<int32_t>{out.back()}, logits);
  }
  return out;
}

std::vector<int32_t> ref_prompt(const std::string& fixture, int i) {
  const auto ref = nlohmann::json::parse(
      read_file(shared_path("fixtures/" + fixture + "/refs/ref-f32-" + std::to_string(i) + ".json")));
  return ref["prompt_ids"].get<std::vector<int32_t>>();
}

}  // namespace

TEST(LoraRefs, LlamaF32HfBasePeftAdapter) {
  std::vector<std::string> notes;
  check_refs(load_with(shared_path("fixtures/tiny-llama/hf"), {{llama_peft()}}, &notes), "tiny-llama-lora", kLora);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("PEFT, r 4, lora_alpha 8, alpha/r = 2"), std::string::npos) << notes[0];
  EXPECT_NE(notes[0].find("14 weight matrices"), std::string::npos) << notes[0];
}

// The GGUF adapter's q/k lora_b rows are in llama.cpp's permuted order; the HF base's are not.
TEST(LoraRefs, LlamaF32HfBaseGgufAdapter) {
  std::vector<std::string> notes;
  check_refs(load_with(shared_path("fixtures/tiny-llama/hf"), {{llama_gguf_adapter()}}, &notes), "tiny-llama-lora",
             kLora);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("GGUF, r 4, alpha 8"), std::string::npos) << notes[0];
}

// A GGUF base (permuted q/k rows) with both adapter forms: the F32 GGUF is lmgen's own conversion of hf/.
TEST(LoraRefs, LlamaF32GgufBaseBothAdapterForms) {
  const std::string gguf = scratch_dir() + "/tiny-llama-f32.gguf";
  convert_hf_to_gguf(shared_path("fixtures/tiny-llama/hf"), gguf, DType::F32);
  check_refs(load_with(gguf, {{llama_peft()}}), "tiny-llama-lora", kLora);
  check_refs(load_with(gguf, {{llama_gguf_adapter()}}), "tiny-llama-lora", kLora);
}

// rslora scaling (lora_alpha / sqrt(r) = 8), on the BF16 HF directory and on the BF16 GGUF; the merged matrices
// are F32 so the merge adds no rounding.
TEST(LoraRefs, Qwen2Bf16RsloraHfAndGguf) {
  std::vector<std::string> notes;
  const std::string adapter = shared_path("fixtures/tiny-qwen2-lora");
  check_refs(load_with(shared_path("fixtures/tiny-qwen2/hf"), {{adapter}}, &notes), "tiny-qwen2-lora", kLora);
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_NE(notes[0].find("alpha/sqrt(r) = 8"), std::string::npos) << notes[0];
  EXPECT_NE(notes[1].find("8 bf16 matrices merged into F32 copies"), std::string::npos) << notes[1];
  check_refs(load_with(shared_path("fixtures/tiny-qwen2/model-bf16.gguf"), {{adapter}}), "tiny-qwen2-lora", kLora);
}

// Scales: two half-scale copies of an adapter = the adapter once; scale 0 = the base model.
TEST(LoraRefs, ScalesAddUp) {
  const std::string base = shared_path("fixtures/tiny-llama/hf");
  check_refs(load_with(base, {{llama_peft(), 0.5}, {llama_gguf_adapter(), 0.5}}), "tiny-llama-lora", kLora);
  const std::vector<int32_t> prompt = ref_prompt("tiny-llama-lora", 1);
  EXPECT_EQ(greedy(load_with(base, {{llama_peft(), 0.0}}), prompt, 8), greedy(load_with(base, {}), prompt, 8));
}

// Q8_0 base: dequantize, merge, re-quantize to Q8_0, against lmgen's own merged-then-Q8_0 conversion of the F32
// base + adapter (convert --lora --type q8_0), for both adapter forms. The two differ by one rounding of every
// adapted weight (Q8_0 of the dequantized base + delta, against Q8_0 of the exact base + delta); Q8_0 alone moves
// these tiny models' logits by up to ~0.5-1 (fixtures README), so greedy decoding (32 steps) must agree except after
// a step where the merged-then-Q8_0 model's own top1-top2 margin is below kQ8Tie; and the logits stay within
// kQ8Refs of the F32 references (README "Fine-tuned models" documents both).
TEST(LoraRefs, Q8_0BaseMatchesMergedThenQuantized) {
  constexpr float kQ8Tie = 1.0f, kQ8Refs = 4.0f;
  const std::string merged = scratch_dir() + "/tiny-llama-lora-q8_0.gguf";
  convert_hf_to_gguf(shared_path("fixtures/tiny-llama/hf"), merged, DType::Q8_0, {{llama_peft()}});
  const std::string q8 = shared_path("fixtures/tiny-llama/model-q8_0.gguf");
  std::vector<std::string> notes;
  auto peft = load_with(q8, {{llama_peft()}}, &notes);
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_NE(notes[1].find("14 q8_0 matrices dequantized, merged in float and re-quantized to q8_0"),
            std::string::npos)
      << notes[1];
  auto gguf_adapter = load_with(q8, {{llama_gguf_adapter()}});
  auto own = load_with(merged, {});
  int compared = 0;
  for (int i = 0; i < 4; ++i) {
    const std::vector<int32_t> prompt = ref_prompt("tiny-llama-lora", i);
    std::vector<float> margins;
    const std::vector<int32_t> want = greedy(own, prompt, 32, &margins);
    for (const auto& md : {peft, gguf_adapter}) {
      const std::vector<int32_t> got = greedy(md, prompt, 32);
      size_t d = 0;
      while (d < got.size() && got[d] == want[d]) ++d;
      if (d < got.size()) {
        EXPECT_LT(margins[d], kQ8Tie) << "prompt " << i << ": greedy step " << d << " differs, margin " << margins[d];
      }
      compared += static_cast<int>(d);
    }
  }
  std::printf("  Q8_0 base + adapter: greedy steps compared with merged-then-Q8_0: %d\n", compared);
  EXPECT_GE(compared, 40);  // measured 50 of 256 (8 runs x 32), every divergence at a near-tie
  const float refs = check_refs(peft, "tiny-llama-lora", {kQ8Refs, kQ8Refs, 2 * kQ8Refs});
  std::printf("  Q8_0 base + adapter vs F32 refs: max logit diff %.3f\n", refs);
}

// convert --lora: the merged F32 GGUF gives the references without any adapter at load.
TEST(LoraConvert, MergedF32GgufGivesTheReferences) {
  const std::string out = scratch_dir() + "/tiny-qwen2-lora-f32.gguf";
  std::vector<std::string> notes;
  convert_hf_to_gguf(shared_path("fixtures/tiny-qwen2/hf"), out, DType::F32, {{shared_path("fixtures/tiny-qwen2-lora")}},
                     &notes);
  EXPECT_EQ(notes.size(), 2u);
  check_refs(load_with(out, {}), "tiny-qwen2-lora", kLora);
}

TEST(LoraSpecs, PathAndScale) {
  EXPECT_EQ(parse_lora_spec("a/b").path, "a/b");
  EXPECT_EQ(parse_lora_spec("a/b").scale, 1.0);
  EXPECT_EQ(parse_lora_spec("a/b:0.5").path, "a/b");
  EXPECT_EQ(parse_lora_spec("a/b:0.5").scale, 0.5);
  EXPECT_EQ(parse_lora_spec("a/b:-2").scale, -2.0);
  EXPECT_EQ(parse_lora_spec("c:/x").path, "c:/x");  // not a number after the colon: all path
  EXPECT_EQ(parse_lora_spec("a:b:2").path, "a:b");
  EXPECT_EQ(parse_lora_spec("dir:").path, "dir:");
  EXPECT_THROW(parse_lora_spec(":2"), UsageError);
  EXPECT_THROW(parse_lora_spec(""), UsageError);
}

// An adapter on lm_head of a tied model (tiny-qwen2) changes the LM head only: the merged head is a copy, the
// token embedding keeps the base values. Checked element by element against W + alpha/r * B A.
TEST(LoraRefs, LmHeadOfATiedModelLeavesTheEmbedding) {
  const std::string dir = scratch_dir() + "/lora-qwen2-lm-head";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const int64_t r = 2, E = 32, V = 151936;
  std::vector<float> a(static_cast<size_t>(r * E)), b(static_cast<size_t>(V * r));
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(static_cast<int>(i % 7) - 3) / 8.0f;
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(static_cast<int>(i % 5) - 2) / 4.0f;
  write_safetensors(dir + "/adapter_model.safetensors",
                    {{"base_model.model.lm_head.lora_A.weight", DType::F32, {r, E}, a},
                     {"base_model.model.lm_head.lora_B.weight", DType::F32, {V, r}, b}});
  std::ofstream(dir + "/adapter_config.json")
      << R"({"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": ["lm_head"], "bias": "none"})";
  const auto base = load_with(shared_path("fixtures/tiny-qwen2/hf"), {});
  const auto tuned = load_with(shared_path("fixtures/tiny-qwen2/hf"), {{dir}});
  ASSERT_TRUE(tuned->config.tied_head);
  const Matrix& emb = tuned->weights.tok_embd;
  const Matrix& head = tuned->weights.output;
  EXPECT_EQ(head.type, DType::F32);
  EXPECT_NE(head.data, emb.data);
  std::vector<float> be(static_cast<size_t>(E)), te(static_cast<size_t>(E));
  for (int64_t row : {int64_t{0}, int64_t{9707}, V - 1}) {
    dequantize_row(base->weights.tok_embd.type, base->weights.tok_embd.row(row), be.data(), E);
    dequantize_row(emb.type, emb.row(row), te.data(), E);
    EXPECT_EQ(be, te) << "embedding row " << row;
    const float* h = reinterpret_cast<const float*>(head.row(row));
    for (int64_t i = 0; i < E; ++i) {
      double d = 0;
      for (int64_t k = 0; k < r; ++k) d += 2.0 * b[static_cast<size_t>(row * r + k)] * a[static_cast<size_t>(k * E + i)];
      EXPECT_EQ(h[i], static_cast<float>(be[static_cast<size_t>(i)] + d)) << row << "," << i;
    }
  }
}
