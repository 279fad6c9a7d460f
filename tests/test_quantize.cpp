// `lmgen quantize`: files written by the lmgen binary, re-read with GgufFile and the layout walker, compared with
// the files llama.cpp's llama-quantize wrote from the same source weights (fixtures), and run through lmgen::Model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>

#include "common.hpp"
#include "gguf_layout.hpp"
#include "format/gguf.hpp"
#include "lmgen/loader.hpp"
#include "lmgen/model.hpp"
#include "kernels/quant.hpp"
#include "lmgen_run.hpp"

namespace {

using lmgen::DType;
using lmgen::GgufFile;

std::string quantize(const std::string& in, const std::string& out_name, const std::string& type,
                     std::vector<std::string> extra = {}) {
  const std::string out = lmgen::test::scratch_dir() + "/" + out_name;
  std::vector<std::string> args = {"quantize", in, out, "--type", type, "-q"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = lmgen::test::run_lmgen(args, 120);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  return out;
}

std::map<std::string, std::string> type_table(const GgufFile& g) {
  std::map<std::string, std::string> m;
  for (const auto& t : g.tensors()) m[t.name] = lmgen::dtype_name(t.type);
  return m;
}

// Layout rules of a written file, checked with the independent walker.
void check_layout(const std::string& path) {
  GgufFile g(path);
  EXPECT_EQ(g.version(), 3u);
  const std::string bytes = lmgen::test::read_file(path);
  const auto L = lmgen::test::GgufLayout::parse(bytes);
  EXPECT_EQ(L.data_start % 32, 0u);
  uint64_t end = 0;
  for (const auto& t : L.tensors) {
    EXPECT_EQ(t.offset % 32, 0u) << t.name;
    EXPECT_GE(t.offset, end) << t.name << " overlaps the previous tensor";
    end = t.offset + g.find_tensor(t.name)->nbytes;
  }
  EXPECT_EQ(bytes.size(), L.data_start + (end + 31) / 32 * 32);
}

std::vector<float> all_logits(const std::string& path, const std::vector<int32_t>& ids) {
  lmgen::LoadOptions lo;
  lo.load_tokenizer = false;
  auto lm = lmgen::load_model(path, lo);
  lmgen::ModelOptions mo;
  mo.n_threads = 1;
  lmgen::Model m(lm.model, mo);
  std::vector<float> logits;
  m.eval(ids, logits, true);
  return logits;
}

// bf16 -> q8_0 must give exactly what llama-quantize gave from the same weights: same metadata keys, same tensor
// types, same bytes (both use ggml's reference Q8_0 rounding), hence the same logits.
TEST(Quantize, Qwen2Bf16ToQ8_0IsByteIdenticalToLlamaQuantize) {
  const std::string src = lmgen::test::shared_path("fixtures/tiny-qwen2/model-bf16.gguf");
  const std::string out = quantize(src, "qwen2-q8_0.gguf", "q8_0");
  check_layout(out);
  GgufFile mine(out), ref(lmgen::test::shared_path("fixtures/tiny-qwen2/model-q8_0.gguf"));
  EXPECT_EQ(mine.get_int("general.file_type"), 7);
  EXPECT_EQ(mine.get_int("general.quantization_version"), 2);
  std::vector<std::string> keys_mine, keys_ref;
  for (const auto& [k, v] : mine.metadata()) keys_mine.push_back(k);
  for (const auto& [k, v] : ref.metadata()) keys_ref.push_back(k);
  EXPECT_EQ(keys_mine, keys_ref);
  EXPECT_EQ(mine.get_string_array("tokenizer.ggml.merges"), ref.get_string_array("tokenizer.ggml.merges"));
  EXPECT_EQ(type_table(mine), type_table(ref));
  for (const auto& t : ref.tensors()) {
    const lmgen::TensorView a = mine.tensor(t.name), b = ref.tensor(t.name);
    ASSERT_EQ(a.shape, b.shape) << t.name;
    ASSERT_EQ(a.nbytes, b.nbytes) << t.name;
    EXPECT_EQ(std::memcmp(a.data, b.data, a.nbytes), 0) << t.name << " differs from llama-quantize's bytes";
  }
  const std::vector<int32_t> ids = {9707, 1879, 13, 576, 3974, 13876, 38835};
  EXPECT_EQ(all_logits(out, ids), all_logits(ref.path(), ids));
}

// Quantized logits stay close to the source model's. Each Q8_0 weight carries a rounding error of at most 1/254 of
// its block's largest magnitude (about 0.3% RMS of a Gaussian block), and lmgen also rounds activations to Q8_0
// for the products, so logits move by a fraction of a percent of their scale on average; this fixture's layer
// gains (> 1, chosen to make the distributions peaked) amplify the worst positions (measured: mean |diff| 0.5%,
// max 5% of max |logit| ~40). Bounds: mean <= 1.5%, max <= 10% of max |logit|, and the top token must agree
// wherever the source's top-2 margin exceeds twice the largest observed change (where it cannot legitimately flip).
TEST(Quantize, Qwen2Q8_0LogitsCloseToSource) {
  const std::string src = lmgen::test::shared_path("fixtures/tiny-qwen2/model-bf16.gguf");
  const std::string out = quantize(src, "qwen2-q8_0-b.gguf", "q8_0");
  const std::vector<int32_t> ids = {785, 3974, 13876, 38835, 34208, 916, 279, 15678, 5562, 13};
  const auto a = all_logits(src, ids), b = all_logits(out, ids);
  ASSERT_EQ(a.size(), b.size());
  const size_t V = a.size() / ids.size();
  double max_diff = 0, sum_diff = 0, max_logit = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    max_diff = std::max(max_diff, std::fabs(double(a[i]) - b[i]));
    sum_diff += std::fabs(double(a[i]) - b[i]);
    max_logit = std::max(max_logit, std::fabs(double(a[i])));
  }
  const double mean_diff = sum_diff / static_cast<double>(a.size());
  EXPECT_LE(mean_diff, 0.015 * max_logit);
  EXPECT_LE(max_diff, 0.10 * max_logit) << "mean " << mean_diff << " max|logit| " << max_logit;
  EXPECT_GT(max_diff, 0.0) << "quantization should change something";
  auto am = [&](const std::vector<float>& v, size_t off) {
    return std::max_element(v.begin() + off, v.begin() + off + V) - (v.begin() + off);
  };
  size_t agree = 0;
  for (size_t p = 0; p < ids.size(); ++p) {
    agree += am(a, p * V) == am(b, p * V);
    std::vector<float> sorted(a.begin() + p * V, a.begin() + (p + 1) * V);
    std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<float>());
    if (sorted[0] - sorted[1] > 2 * max_diff) {
      EXPECT_EQ(am(a, p * V), am(b, p * V)) << "position " << p;
    }
  }
  EXPECT_GE(agree, ids.size() * 8 / 10) << "top-1 agreement " << agree << "/" << ids.size();
}

// The llama.cpp per-tensor rules: gpt2 f16 -> q4_k_m gives llama-quantize's exact type table (Q4_K on ffn_down of
// layer 0, Q6_K on the "more bits" layer 1, fused qkv Q5_K -> Q5_1 fallback, Q5_0 fallbacks for 64-wide rows,
// output Q8_0, position_embd/norms/biases F32).
TEST(Quantize, Gpt2Q4_K_MTypeTableMatchesLlamaQuantize) {
  const std::string src = lmgen::test::shared_path("fixtures/tiny-gpt2/model-f16.gguf");
  const std::string out = quantize(src, "gpt2-q4_k_m.gguf", "q4_k_m");
  check_layout(out);
  GgufFile mine(out), ref(lmgen::test::shared_path("fixtures/tiny-gpt2/model-q4_k.gguf"));
  EXPECT_EQ(type_table(mine), type_table(ref));
  EXPECT_EQ(mine.get_int("general.file_type"), 15);
  EXPECT_EQ(mine.get_int("general.file_type"), ref.get_int("general.file_type"));
  // Every re-encoded tensor dequantizes to values close to the source's.
  GgufFile s(src);
  for (const auto& t : s.tensors()) {
    const lmgen::TensorView a = s.tensor(t.name), b = mine.tensor(t.name);
    const int64_t cols = a.shape.back(), n = a.n_elements();
    std::vector<float> x(static_cast<size_t>(n)), y(static_cast<size_t>(n));
    for (int64_t r = 0; r < n / cols; ++r) {
      lmgen::dequantize_row(a.type, a.data + r * lmgen::row_bytes(a.type, cols), x.data() + r * cols, cols);
      lmgen::dequantize_row(b.type, b.data + r * lmgen::row_bytes(b.type, cols), y.data() + r * cols, cols);
    }
    double amax = 0, err = 0;
    for (int64_t i = 0; i < n; ++i) {
      amax = std::max(amax, std::fabs(double(x[i])));
      err = std::max(err, std::fabs(double(x[i]) - y[i]));
    }
    // 4-bit blocks: error <= about half a quantization step of the block range (range/15); be generous.
    EXPECT_LE(err, amax / 8 + 1e-6) << t.name << " as " << lmgen::dtype_name(b.type);
  }
}

// With rows that hold whole 256-element blocks (tiny-llama-kq: hidden 256, ffn 512, tied head) the K-quant mixtures
// are real: q5_k_m and q4_1 of the (re-encoded) q4_k_m file give llama-quantize's type tables for those targets
// (Q6_K for the tied token_embd and for the "more bits" layer-1 attn_v / ffn_down), and so do the 2- to 4-bit types
// (q3_k_m: Q5_K attn_v, Q4_K attn_output / ffn_down; q2_k: Q3_K attn_v / attn_output / ffn_down).
TEST(Quantize, KQuantMixturesMatchLlamaQuantizeTypeTables) {
  const std::string src = lmgen::test::shared_path("fixtures/tiny-llama-kq/model-q4_k_m.gguf");
  for (const std::string type : {"q5_k_m", "q4_1", "q4_k_m", "q3_k_m", "q3_k_s", "q2_k", "iq4_nl", "iq4_xs"}) {
    const std::string out = quantize(src, "kq-" + type + ".gguf", type);
    GgufFile mine(out), ref(lmgen::test::shared_path("fixtures/tiny-llama-kq/model-" + type + ".gguf"));
    EXPECT_EQ(type_table(mine), type_table(ref)) << type;
    EXPECT_EQ(mine.get_int("general.file_type"), ref.get_int("general.file_type")) << type;
  }
}

// q8_0 -> f32 is exact (dequantization), and f32 -> q8_0 then gives back the original bytes.
TEST(Quantize, Q8_0ToF32AndBackIsLossless) {
  const std::string src = lmgen::test::shared_path("fixtures/tiny-llama/model-q8_0.gguf");
  const std::string f32 = quantize(src, "llama-f32.gguf", "f32");
  const std::string back = quantize(f32, "llama-q8_0-again.gguf", "q8_0");
  GgufFile a(src), b(f32), c(back);
  EXPECT_EQ(b.get_int("general.file_type"), 0);
  EXPECT_EQ(b.get_int("general.quantization_version"), 2);
  for (const auto& t : b.tensors()) EXPECT_EQ(t.type, DType::F32) << t.name;
  EXPECT_EQ(type_table(a), type_table(c));
  for (const auto& t : a.tensors()) {
    const lmgen::TensorView x = a.tensor(t.name), z = c.tensor(t.name);
    ASSERT_EQ(x.nbytes, z.nbytes) << t.name;
    EXPECT_EQ(std::memcmp(x.data, z.data, x.nbytes), 0) << t.name;
  }
  const std::vector<int32_t> ids = {1, 15043, 3186};
  EXPECT_EQ(all_logits(src, ids), all_logits(back, ids));
}

// A Hugging Face directory is converted (convert/convert.hpp) and quantized: the same types as from the GGUF of
// the same weights (tiny-llama: every 2-D weight Q8_0), and the temporary F32 file is gone.
TEST(Quantize, AcceptsHuggingFaceDirectory) {
  const std::string dir = lmgen::test::shared_path("fixtures/tiny-llama/hf");
  const std::string out = lmgen::test::scratch_dir() + "/x.gguf";
  auto r = lmgen::test::run_lmgen({"quantize", dir, out, "--type", "q8_0"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  lmgen::GgufFile g(out);
  int n_q8 = 0;
  for (const auto& t : g.tensors()) n_q8 += t.type == lmgen::DType::Q8_0;
  EXPECT_EQ(n_q8, 16);  // token_embd, output, 2 layers x 7 matrices
  EXPECT_FALSE(std::filesystem::exists(out + ".f32-tmp.gguf"));
}

TEST(Quantize, RejectsBadInput) {
  auto r = lmgen::test::run_lmgen({"quantize", "/nonexistent-dir/", lmgen::test::scratch_dir() + "/x.gguf", "--type", "q8_0"});
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  const std::string src = lmgen::test::shared_path("fixtures/tiny-llama/model-q8_0.gguf");
  r = lmgen::test::run_lmgen({"quantize", src, lmgen::test::scratch_dir() + "/y.gguf", "--type", "q3_k_xl"});
  EXPECT_EQ(r.exit_code, 2) << r.describe();
  EXPECT_NE(r.err.find("q4_k_m"), std::string::npos) << r.err;
  r = lmgen::test::run_lmgen({"quantize", src, src, "--type", "q4_0"});
  EXPECT_EQ(r.exit_code, 2) << r.describe();
  EXPECT_FALSE(std::filesystem::exists(lmgen::test::scratch_dir() + "/y.gguf"));
}

}  // namespace
