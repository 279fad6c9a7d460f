// The loaders' rule: a metadata key or tensor that changes the computation is applied, or the file is refused with
// an error naming it; never skipped. GGUF files are copies of fixtures with one key or tensor changed; HF configs
// are fixture configs with one key changed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "format/gguf.hpp"
#include "format/gguf_writer.hpp"
#include "lmgen/error.hpp"
#include "lmgen/model.hpp"
#include "load/hf_config.hpp"
#include "load/loaders.hpp"
#include "common.hpp"
#include "gguf_edit.hpp"

using namespace lmgen;
using namespace lmgen::test;
namespace fs = std::filesystem;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::vector<float> logits_of(const ModelData& md, const std::vector<int32_t>& ids) {
  ModelOptions mo;
  mo.n_threads = 1;
  Model m(std::make_shared<const ModelData>(md), mo);
  std::vector<float> out;
  m.eval(ids, out, true);
  return out;
}

const char* kLlama = "fixtures/tiny-llama/model-q8_0.gguf";

}  // namespace

TEST(Unapplied, GgufLinearRopeScalingIsApplied) {
  const std::string p = edited_gguf(shared_path(kLlama), "linear.gguf", [](GgufWriter& w) {
    w.set_string("llama.rope.scaling.type", "linear");
    w.set_f32("llama.rope.scaling.factor", 4.0f);
  });
  const ModelData scaled = load_gguf_model(p);
  ASSERT_EQ(scaled.config.rope_freq_div.size(), 8u);
  for (float f : scaled.config.rope_freq_div) EXPECT_EQ(f, 4.0f);
  const ModelData plain = load_gguf_model(shared_path(kLlama));
  const std::vector<int32_t> ids = {1, 450, 4996, 17354, 1701};
  const auto a = logits_of(plain, ids), b = logits_of(scaled, ids);
  const size_t V = static_cast<size_t>(plain.config.n_vocab);
  // Position 0 is not rotated, so its logits are equal; later positions see other angles.
  EXPECT_TRUE(std::equal(a.begin(), a.begin() + V, b.begin()));
  float diff = 0;
  for (size_t i = V; i < a.size(); ++i) diff = std::max(diff, std::fabs(a[i] - b[i]));
  EXPECT_GT(diff, 1e-3f);
}

TEST(Unapplied, GgufYarnIsRefusedByName) {
  const std::string p = edited_gguf(shared_path(kLlama), "yarn.gguf", [](GgufWriter& w) {
    w.set_string("llama.rope.scaling.type", "yarn");
    w.set_f32("llama.rope.scaling.factor", 4.0f);
  });
  EXPECT_NE(error_of([&] { load_gguf_model(p); }).find("llama.rope.scaling.type = 'yarn'"), std::string::npos);
}

TEST(Unapplied, GgufScalingFactorWithoutTypeIsRefused) {
  const std::string p = edited_gguf(shared_path(kLlama), "factor.gguf", [](GgufWriter& w) { w.set_f32("llama.rope.scaling.factor", 4.0f); });
  EXPECT_NE(error_of([&] { load_gguf_model(p); }).find("llama.rope.scaling.factor"), std::string::npos);
}

TEST(Unapplied, GgufUnknownArchKeyIsRefusedByName) {
  const std::string p = edited_gguf(shared_path(kLlama), "clamp.gguf", [](GgufWriter& w) { w.set_f32("llama.attention.clamp_kqv", 8.0f); });
  EXPECT_NE(error_of([&] { load_gguf_model(p); }).find("'llama.attention.clamp_kqv'"), std::string::npos);
}

TEST(Unapplied, GgufUnreadTensorIsRefusedByName) {
  const std::string p = edited_gguf(shared_path(kLlama), "extra.gguf", [](GgufWriter& w) {
    w.add_tensor("blk.0.attn_q.bias", DType::F32, {64}, [](uint8_t*, size_t) {});
  });
  EXPECT_NE(error_of([&] { load_gguf_model(p); }).find("'blk.0.attn_q.bias'"), std::string::npos);
}

// llama3's rope_freqs.weight used to be ignored: it is now read into the config (the refs test checks the math).
TEST(Unapplied, GgufRopeFreqsIsRead) {
  const ModelData md = load_gguf_model(shared_path("fixtures/tiny-llama3/model-bf16.gguf"));
  ASSERT_EQ(md.config.rope_freq_div.size(), 32u);
  EXPECT_EQ(md.config.rope_freq_div.front(), 1.0f);
  EXPECT_EQ(md.config.rope_freq_div.back(), 32.0f);
}

// Sliding window, soft-caps and the phi3 rope keys are read into the config from GGUF keys.
TEST(Unapplied, GgufGemmaAndPhi3KeysAreRead) {
  const ModelData g2 = load_gguf_model(shared_path("fixtures/tiny-gemma2/model-bf16.gguf"));
  EXPECT_EQ(g2.config.sliding_window, 8);
  EXPECT_EQ(g2.config.attn_softcap, 50.0f);
  EXPECT_EQ(g2.config.final_softcap, 30.0f);
  ASSERT_EQ(g2.config.layer_sliding.size(), 26u);
  EXPECT_TRUE(g2.config.layer_sliding[0]);
  EXPECT_FALSE(g2.config.layer_sliding[1]);
  const ModelData p3 = load_gguf_model(shared_path("fixtures/tiny-phi3/model-bf16.gguf"));
  EXPECT_EQ(p3.config.rope_orig_ctx, 256);
  EXPECT_NEAR(p3.config.rope_attn_factor, 1.2747549f, 1e-6f);
  EXPECT_EQ(p3.config.rope_freq_div_long.size(), 8u);
}

namespace {

nlohmann::json fixture_config(const std::string& model) {
  return nlohmann::json::parse(read_file(shared_path("fixtures/" + model + "/hf/config.json")));
}

}  // namespace

TEST(Unapplied, HfRopeScalingTypes) {
  nlohmann::json j = fixture_config("tiny-llama3");
  ModelConfig c = hf_config_from_json(j.dump(), "c.json");
  ASSERT_EQ(c.rope_freq_div.size(), 32u);
  EXPECT_EQ(c.rope_freq_div.front(), 1.0f);
  EXPECT_NEAR(c.rope_freq_div.back(), 32.0f, 1e-4f);
  j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 2.0}};
  c = hf_config_from_json(j.dump(), "c.json");
  for (float f : c.rope_freq_div) EXPECT_EQ(f, 2.0f);
  for (const char* t : {"yarn", "dynamic", "longrope"}) {
    j["rope_scaling"] = {{"rope_type", t}, {"factor", 4.0}};
    EXPECT_NE(error_of([&] { hf_config_from_json(j.dump(), "c.json"); }).find("rope_scaling"), std::string::npos) << t;
  }
}

TEST(Unapplied, HfGemmaKeys) {
  nlohmann::json j = fixture_config("tiny-gemma3");
  ModelConfig c = hf_config_from_json(j.dump(), "c.json");
  EXPECT_EQ(c.sliding_window, 8);
  EXPECT_EQ(c.rope_theta_local, 10000.0f);
  EXPECT_EQ(c.layer_sliding, (std::vector<bool>{true, true, true, true, true, false}));
  EXPECT_EQ(c.attn_scale, 1.0f / std::sqrt(32.0f));
  j["layer_types"] = {"full_attention", "sliding_attention", "full_attention", "sliding_attention",
                      "full_attention", "full_attention"};
  c = hf_config_from_json(j.dump(), "c.json");
  EXPECT_EQ(c.layer_sliding, (std::vector<bool>{false, true, false, true, false, false}));
  j["layer_types"] = {"chunked_attention"};
  EXPECT_NE(error_of([&] { hf_config_from_json(j.dump(), "c.json"); }).find("layer_types"), std::string::npos);
}

// A checkpoint tensor no weight is read from is refused by name (here: a q bias on a model without biases).
TEST(Unapplied, HfUnreadTensorIsRefusedByName) {
  const std::string dir = scratch_dir() + "/qwen3-extra";
  fs::create_directories(dir);
  fs::copy_file(shared_path("fixtures/tiny-qwen3/hf/config.json"), dir + "/config.json",
                fs::copy_options::overwrite_existing);
  // Rewrite the safetensors file with one extra tensor appended.
  const std::string src = read_file(shared_path("fixtures/tiny-qwen3/hf/model.safetensors"));
  uint64_t hlen = 0;
  std::memcpy(&hlen, src.data(), 8);
  nlohmann::json h = nlohmann::json::parse(src.substr(8, hlen));
  const size_t data_len = src.size() - 8 - hlen;
  h["model.layers.0.self_attn.q_proj.bias"] = {{"dtype", "F32"}, {"shape", {64}}, {"data_offsets", {data_len, data_len + 256}}};
  std::string header = h.dump();
  while (header.size() % 8) header += ' ';
  std::ofstream out(dir + "/model.safetensors", std::ios::binary);
  const uint64_t n = header.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << header;
  out.write(src.data() + 8 + hlen, static_cast<std::streamsize>(data_len));
  out << std::string(256, '\0');
  out.close();
  EXPECT_NE(error_of([&] { load_hf_model(dir); }).find("model.layers.0.self_attn.q_proj.bias"), std::string::npos);
}

// A zero expert count (written by some converters for dense models) applies nothing; a real one is refused.
TEST(Unapplied, GgufExpertCount) {
  const std::string zero = edited_gguf(shared_path(kLlama), "experts0.gguf", [](GgufWriter& w) { w.set_u32("llama.expert_count", 0); });
  EXPECT_NO_THROW(load_gguf_model(zero));
  const std::string eight = edited_gguf(shared_path(kLlama), "experts8.gguf", [](GgufWriter& w) { w.set_u32("llama.expert_count", 8); });
  EXPECT_NE(error_of([&] { load_gguf_model(eight); }).find("'llama.expert_count'"), std::string::npos);
}
