// HF directories -> canonical ModelConfig + Weights: the three fixture models (and the sharded copy), synthetic
// checkpoints, and broken directories built in a scratch dir. (config.json parsing alone: test_hf_config.cpp.)
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "common.hpp"
#include "lmgen/error.hpp"
#include "lmgen/loader.hpp"
#include "load/loaders.hpp"

namespace lmgen {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::expect_error;
using test::shared_path;

// Raw tensors of a safetensors file, read without the reader under test.
struct RawFile {
  std::string bytes;
  uint64_t data_start = 0;
  json header;
  explicit RawFile(const std::string& path) : bytes(test::read_file(path)) {
    uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    data_start = 8 + n;
    header = json::parse(bytes.substr(8, n));
  }
  // Element i (row-major) of tensor `name`, widened to float.
  float at(const std::string& name, size_t i) const {
    const json& e = header.at(name);
    const std::string dt = e["dtype"];
    const char* p = bytes.data() + data_start + e["data_offsets"][0].get<uint64_t>();
    if (dt == "F32") {
      float f;
      std::memcpy(&f, p + 4 * i, 4);
      return f;
    }
    uint16_t h;
    std::memcpy(&h, p + 2 * i, 2);
    return dt == "F16" ? fp16_to_fp32(h) : bf16_to_fp32(h);
  }
};

float mat_at(const Matrix& m, int64_t r, int64_t c) {
  const uint8_t* p = m.row(r);
  if (m.type == DType::F32) {
    float f;
    std::memcpy(&f, p + 4 * c, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, p + 2 * c, 2);
  return m.type == DType::F16 ? fp16_to_fp32(h) : bf16_to_fp32(h);
}

void expect_shape(const Matrix& m, DType t, int64_t rows, int64_t cols) {
  EXPECT_FALSE(m.empty());
  EXPECT_EQ(m.type, t);
  EXPECT_EQ(m.rows, rows);
  EXPECT_EQ(m.cols, cols);
  EXPECT_EQ(m.row_stride, static_cast<size_t>(cols) * (t == DType::F32 ? 4 : 2));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(m.data) % (t == DType::F32 ? 4 : 2), 0u);
}

// ---------------------------------------------------------------------------------------------------------------
// Fixtures

void check_tiny_llama(const ModelData& md) {
  const ModelConfig& c = md.config;
  EXPECT_EQ(c.arch, "llama");
  EXPECT_EQ(c.n_vocab, 32000);
  EXPECT_EQ(c.n_embd, 64);
  EXPECT_EQ(c.n_layer, 2);
  EXPECT_EQ(c.n_head, 4);
  EXPECT_EQ(c.n_head_kv, 2);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.n_ff, 160);
  EXPECT_EQ(c.n_ctx_train, 256);
  EXPECT_EQ(c.norm, NormKind::RMSNorm);
  EXPECT_FLOAT_EQ(c.norm_eps, 1e-5f);
  EXPECT_EQ(c.act, Activation::SwiGLU);
  EXPECT_EQ(c.rope, RopeStyle::Neox);
  EXPECT_FLOAT_EQ(c.rope_theta, 10000.0f);
  EXPECT_EQ(c.rope_dim, 16);
  EXPECT_FALSE(c.qkv_bias || c.out_bias || c.learned_pos || c.tied_head);
  const Weights& w = md.weights;
  expect_shape(w.tok_embd, DType::F32, 32000, 64);
  expect_shape(w.output, DType::F32, 32000, 64);
  EXPECT_NE(w.output.data, w.tok_embd.data);
  EXPECT_TRUE(w.pos_embd.empty());
  ASSERT_EQ(w.layers.size(), 2u);
  for (const auto& l : w.layers) {
    expect_shape(l.wq, DType::F32, 64, 64);
    expect_shape(l.wk, DType::F32, 32, 64);
    expect_shape(l.wv, DType::F32, 32, 64);
    expect_shape(l.wo, DType::F32, 64, 64);
    expect_shape(l.w_gate, DType::F32, 160, 64);
    expect_shape(l.w_up, DType::F32, 160, 64);
    expect_shape(l.w_down, DType::F32, 64, 160);
    EXPECT_EQ(l.attn_norm.n, 64);
    EXPECT_EQ(l.ffn_norm.n, 64);
    EXPECT_TRUE(l.bq.empty() && l.bo.empty() && l.attn_norm_b.empty());
  }
  EXPECT_EQ(w.out_norm.n, 64);
}

TEST(LoaderHf, TinyLlama) {
  const std::string dir = shared_path("fixtures/tiny-llama/hf");
  ModelData md = load_hf_model(dir);
  check_tiny_llama(md);
  EXPECT_EQ(md.config.name, "hf");
  EXPECT_EQ(md.source, dir);
  RawFile raw(dir + "/model.safetensors");
  const Weights& w = md.weights;
  EXPECT_EQ(mat_at(w.layers[1].wk, 5, 7), raw.at("model.layers.1.self_attn.k_proj.weight", 5 * 64 + 7));
  EXPECT_EQ(mat_at(w.layers[0].w_down, 63, 159), raw.at("model.layers.0.mlp.down_proj.weight", 64 * 160 - 1));
  EXPECT_EQ(mat_at(w.output, 31999, 0), raw.at("lm_head.weight", 31999 * 64));
  EXPECT_EQ(mat_at(w.tok_embd, 1234, 33), raw.at("model.embed_tokens.weight", 1234 * 64 + 33));
  EXPECT_EQ(w.layers[0].ffn_norm.data[9], raw.at("model.layers.0.post_attention_layernorm.weight", 9));
  EXPECT_EQ(w.out_norm.data[63], raw.at("model.norm.weight", 63));
}

TEST(LoaderHf, TinyLlamaShardedEqualsSingle) {
  ModelData a = load_hf_model(shared_path("fixtures/tiny-llama/hf"));
  ModelData b = load_hf_model(shared_path("fixtures/tiny-llama/hf-sharded"));
  check_tiny_llama(b);
  auto same = [](const Matrix& x, const Matrix& y) {
    return x.rows == y.rows && x.cols == y.cols && x.type == y.type &&
           std::memcmp(x.data, y.data, x.row_stride * static_cast<size_t>(x.rows)) == 0;
  };
  auto same_v = [](const Vector& x, const Vector& y) {
    return x.n == y.n && std::memcmp(x.data, y.data, static_cast<size_t>(x.n) * 4) == 0;
  };
  EXPECT_TRUE(same(a.weights.tok_embd, b.weights.tok_embd));
  EXPECT_TRUE(same(a.weights.output, b.weights.output));
  EXPECT_TRUE(same_v(a.weights.out_norm, b.weights.out_norm));
  for (size_t i = 0; i < 2; ++i) {
    const LayerWeights &x = a.weights.layers[i], &y = b.weights.layers[i];
    EXPECT_TRUE(same(x.wq, y.wq) && same(x.wk, y.wk) && same(x.wv, y.wv) && same(x.wo, y.wo)) << i;
    EXPECT_TRUE(same(x.w_gate, y.w_gate) && same(x.w_up, y.w_up) && same(x.w_down, y.w_down)) << i;
    EXPECT_TRUE(same_v(x.attn_norm, y.attn_norm) && same_v(x.ffn_norm, y.ffn_norm)) << i;
  }
}

TEST(LoaderHf, TinyQwen2) {
  const std::string dir = shared_path("fixtures/tiny-qwen2/hf");
  ModelData md = load_hf_model(dir);
  const ModelConfig& c = md.config;
  EXPECT_EQ(c.arch, "qwen2");
  EXPECT_EQ(c.n_vocab, 151936);
  EXPECT_EQ(c.n_embd, 32);
  EXPECT_EQ(c.n_head, 4);
  EXPECT_EQ(c.n_head_kv, 2);
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_EQ(c.n_ff, 96);
  EXPECT_FLOAT_EQ(c.norm_eps, 1e-6f);
  EXPECT_FLOAT_EQ(c.rope_theta, 1e6f);
  EXPECT_EQ(c.rope, RopeStyle::Neox);
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_FALSE(c.out_bias);
  EXPECT_TRUE(c.tied_head);
  const Weights& w = md.weights;
  expect_shape(w.tok_embd, DType::BF16, 151936, 32);
  EXPECT_EQ(w.output.data, w.tok_embd.data);
  expect_shape(w.layers[1].wq, DType::BF16, 32, 32);
  expect_shape(w.layers[1].wk, DType::BF16, 16, 32);
  expect_shape(w.layers[1].w_down, DType::BF16, 32, 96);
  RawFile raw(dir + "/model.safetensors");
  const LayerWeights& l = w.layers[1];
  ASSERT_EQ(l.bq.n, 32);
  ASSERT_EQ(l.bk.n, 16);
  ASSERT_EQ(l.bv.n, 16);
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(l.bq.data[i + 16], raw.at("model.layers.1.self_attn.q_proj.bias", static_cast<size_t>(i + 16)));
    EXPECT_EQ(l.bk.data[i], raw.at("model.layers.1.self_attn.k_proj.bias", static_cast<size_t>(i)));
    EXPECT_EQ(l.bv.data[i], raw.at("model.layers.1.self_attn.v_proj.bias", static_cast<size_t>(i)));
  }
  EXPECT_EQ(l.attn_norm.data[31], raw.at("model.layers.1.input_layernorm.weight", 31));
  EXPECT_EQ(mat_at(l.w_gate, 95, 31), raw.at("model.layers.1.mlp.gate_proj.weight", 96 * 32 - 1));
  EXPECT_EQ(mat_at(w.tok_embd, 151935, 3), raw.at("model.embed_tokens.weight", 151935 * 32 + 3));
}

TEST(LoaderHf, TinyGpt2ConvTransposed) {
  const std::string dir = shared_path("fixtures/tiny-gpt2/hf");
  ModelData md = load_hf_model(dir);
  const ModelConfig& c = md.config;
  EXPECT_EQ(c.arch, "gpt2");
  EXPECT_EQ(c.n_vocab, 50257);
  EXPECT_EQ(c.n_embd, 64);
  EXPECT_EQ(c.n_layer, 2);
  EXPECT_EQ(c.n_head, 4);
  EXPECT_EQ(c.n_head_kv, 4);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.n_ff, 256);
  EXPECT_EQ(c.n_ctx_train, 256);
  EXPECT_EQ(c.norm, NormKind::LayerNorm);
  EXPECT_FLOAT_EQ(c.norm_eps, 1e-5f);
  EXPECT_EQ(c.act, Activation::GeluTanh);
  EXPECT_EQ(c.rope, RopeStyle::None);
  EXPECT_TRUE(c.qkv_bias && c.out_bias && c.learned_pos && c.tied_head);
  const Weights& w = md.weights;
  expect_shape(w.tok_embd, DType::F16, 50257, 64);
  expect_shape(w.pos_embd, DType::F16, 256, 64);
  EXPECT_EQ(w.output.data, w.tok_embd.data);
  RawFile raw(dir + "/model.safetensors");
  for (size_t li = 0; li < 2; ++li) {
    const LayerWeights& l = w.layers[li];
    const std::string p = "transformer.h." + std::to_string(li) + ".";
    expect_shape(l.wq, DType::F16, 64, 64);
    expect_shape(l.wk, DType::F16, 64, 64);
    expect_shape(l.wv, DType::F16, 64, 64);
    expect_shape(l.wo, DType::F16, 64, 64);
    expect_shape(l.w_up, DType::F16, 256, 64);
    expect_shape(l.w_down, DType::F16, 64, 256);
    EXPECT_TRUE(l.w_gate.empty());
    // canonical W[r][c] == Conv1D[c][r]; c_attn columns are q | k | v.
    for (int64_t r : {0, 17, 63})
      for (int64_t col : {0, 5, 63}) {
        const std::string qkv = p + "attn.c_attn.weight";
        EXPECT_EQ(mat_at(l.wq, r, col), raw.at(qkv, static_cast<size_t>(col * 192 + r)));
        EXPECT_EQ(mat_at(l.wk, r, col), raw.at(qkv, static_cast<size_t>(col * 192 + 64 + r)));
        EXPECT_EQ(mat_at(l.wv, r, col), raw.at(qkv, static_cast<size_t>(col * 192 + 128 + r)));
        EXPECT_EQ(mat_at(l.wo, r, col), raw.at(p + "attn.c_proj.weight", static_cast<size_t>(col * 64 + r)));
        EXPECT_EQ(mat_at(l.w_down, r, col * 4), raw.at(p + "mlp.c_proj.weight", static_cast<size_t>(col * 4 * 64 + r)));
        EXPECT_EQ(mat_at(l.w_up, r * 4, col), raw.at(p + "mlp.c_fc.weight", static_cast<size_t>(col * 256 + r * 4)));
      }
    for (int i : {0, 31, 63}) {
      EXPECT_EQ(l.bq.data[i], raw.at(p + "attn.c_attn.bias", static_cast<size_t>(i)));
      EXPECT_EQ(l.bk.data[i], raw.at(p + "attn.c_attn.bias", static_cast<size_t>(64 + i)));
      EXPECT_EQ(l.bv.data[i], raw.at(p + "attn.c_attn.bias", static_cast<size_t>(128 + i)));
      EXPECT_EQ(l.bo.data[i], raw.at(p + "attn.c_proj.bias", static_cast<size_t>(i)));
      EXPECT_EQ(l.b_down.data[i], raw.at(p + "mlp.c_proj.bias", static_cast<size_t>(i)));
      EXPECT_EQ(l.attn_norm_b.data[i], raw.at(p + "ln_1.bias", static_cast<size_t>(i)));
      EXPECT_EQ(l.ffn_norm.data[i], raw.at(p + "ln_2.weight", static_cast<size_t>(i)));
    }
    EXPECT_EQ(l.b_up.n, 256);
    EXPECT_EQ(l.b_up.data[255], raw.at(p + "mlp.c_fc.bias", 255));
  }
  EXPECT_EQ(w.out_norm_b.data[7], raw.at("transformer.ln_f.bias", 7));
  EXPECT_EQ(mat_at(w.pos_embd, 255, 63), raw.at("transformer.wpe.weight", 256 * 64 - 1));
}

// ---------------------------------------------------------------------------------------------------------------
// Synthetic checkpoints


struct StTensor {
  std::string name;
  std::string dtype;  // F32, F16, BF16
  std::vector<int64_t> shape;
  std::vector<float> values;  // row-major; converted to dtype
};

// Writes a safetensors file with the tensors in the given order (data packed without alignment padding).
void write_safetensors(const std::string& path, const std::vector<StTensor>& ts) {
  json h = json::object();
  std::string data;
  for (const auto& t : ts) {
    const size_t begin = data.size();
    for (float v : t.values) {
      if (t.dtype == "F32") {
        data.append(reinterpret_cast<const char*>(&v), 4);
      } else {
        const uint16_t u = t.dtype == "F16" ? fp32_to_fp16(v) : fp32_to_bf16(v);
        data.append(reinterpret_cast<const char*>(&u), 2);
      }
    }
    h[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {begin, data.size()}}};
  }
  std::string hs = h.dump();
  while (hs.size() % 8) hs += ' ';
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  const uint64_t n = hs.size();
  f.write(reinterpret_cast<const char*>(&n), 8);
  f << hs << data;
}

// Values that identify their tensor and position: v = tag + index / 1024 (exact in F32, F16 for small sizes).
StTensor make(const std::string& name, const std::string& dtype, std::vector<int64_t> shape, float tag) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  StTensor t{name, dtype, std::move(shape), {}};
  for (int64_t i = 0; i < n; ++i) t.values.push_back(tag + static_cast<float>(i) / 1024.0f);
  return t;
}

std::string make_dir(const std::string& name, const json& cfg, const std::vector<StTensor>& ts) {
  const std::string dir = test::scratch_dir() + "/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir + "/config.json") << cfg.dump(2);
  write_safetensors(dir + "/model.safetensors", ts);
  return dir;
}

// A complete tiny llama (E 8, 2 heads of 4, 1 kv head, ffn 12, vocab 16) with one tensor optionally replaced.
std::vector<StTensor> tiny_llama_tensors(const std::string& dtype) {
  std::vector<StTensor> ts;
  ts.push_back(make("model.norm.weight", "F16", {8}, 1.0f));  // 16 bytes, keeps the next tensor aligned
  // 2 bytes, so everything after is at offset 2 mod 4 (a RoPE buffer some checkpoints carry: no weight, ignored).
  ts.push_back(make("model.layers.0.self_attn.rotary_emb.inv_freq", "F16", {1}, 0.0f));
  ts.push_back(make("model.embed_tokens.weight", dtype, {16, 8}, 2.0f));
  ts.push_back(make("lm_head.weight", dtype, {16, 8}, 3.0f));
  const std::string p = "model.layers.0.";
  ts.push_back(make(p + "input_layernorm.weight", "F32", {8}, 4.0f));
  ts.push_back(make(p + "post_attention_layernorm.weight", "BF16", {8}, 5.0f));
  ts.push_back(make(p + "self_attn.q_proj.weight", dtype, {8, 8}, 6.0f));
  ts.push_back(make(p + "self_attn.k_proj.weight", dtype, {4, 8}, 7.0f));
  ts.push_back(make(p + "self_attn.v_proj.weight", dtype, {4, 8}, 8.0f));
  ts.push_back(make(p + "self_attn.o_proj.weight", dtype, {8, 8}, 9.0f));
  ts.push_back(make(p + "mlp.gate_proj.weight", dtype, {12, 8}, 10.0f));
  ts.push_back(make(p + "mlp.up_proj.weight", dtype, {12, 8}, 11.0f));
  ts.push_back(make(p + "mlp.down_proj.weight", dtype, {8, 12}, 12.0f));
  return ts;
}

TEST(LoaderHf, SyntheticUnalignedF32IsCopiedAligned) {
  const std::string dir = make_dir("syn-llama", test::tiny_llama_config(), tiny_llama_tensors("F32"));
  ModelData md = load_hf_model(dir);
  EXPECT_EQ(md.config.name, "syn-llama");
  const LayerWeights& l = md.weights.layers[0];
  expect_shape(l.w_up, DType::F32, 12, 8);
  expect_shape(md.weights.tok_embd, DType::F32, 16, 8);
  EXPECT_EQ(mat_at(l.w_up, 3, 5), 11.0f + 29.0f / 1024.0f);
  EXPECT_EQ(mat_at(l.w_down, 7, 11), 12.0f + 95.0f / 1024.0f);
  EXPECT_EQ(mat_at(md.weights.output, 15, 7), 3.0f + 127.0f / 1024.0f);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(l.attn_norm.data) % 4, 0u);
  EXPECT_EQ(l.attn_norm.data[6], 4.0f + 6.0f / 1024.0f);
  EXPECT_EQ(l.ffn_norm.data[2], bf16_to_fp32(fp32_to_bf16(5.0f + 2.0f / 1024.0f)));  // BF16 widened
  EXPECT_EQ(md.weights.out_norm.data[7], 1.0f + 7.0f / 1024.0f);  // F16 widened
}

TEST(LoaderHf, SyntheticBF16StaysBF16) {
  json cfg = test::tiny_llama_config();
  cfg["tie_word_embeddings"] = true;
  auto ts = tiny_llama_tensors("BF16");
  const std::string dir = make_dir("syn-llama-bf16", cfg, ts);
  ModelData md = load_hf_model(dir);
  EXPECT_TRUE(md.config.tied_head);
  EXPECT_EQ(md.weights.output.data, md.weights.tok_embd.data);  // lm_head.weight present but tied: ignored
  expect_shape(md.weights.layers[0].wq, DType::BF16, 8, 8);
  EXPECT_EQ(mat_at(md.weights.layers[0].wq, 1, 0), bf16_to_fp32(fp32_to_bf16(6.0f + 8.0f / 1024.0f)));
  EXPECT_NE(mat_at(md.weights.layers[0].wq, 7, 7), mat_at(md.weights.layers[0].wq, 0, 0));
}

TEST(LoaderHf, SyntheticWrongShapeAndMissingTensor) {
  auto ts = tiny_llama_tensors("F32");
  for (auto& t : ts)
    if (t.name == "model.layers.0.mlp.up_proj.weight") t.shape = {8, 12};
  std::string dir = make_dir("syn-wrong-shape", test::tiny_llama_config(), ts);
  expect_error([&] { load_hf_model(dir); },
               {"expected [12, 8], found [8, 12] in model.layers.0.mlp.up_proj.weight (" + dir + "/model.safetensors)"});

  ts = tiny_llama_tensors("F32");
  std::erase_if(ts, [](const StTensor& t) { return t.name == "model.layers.0.mlp.up_proj.weight"; });
  dir = make_dir("syn-missing", test::tiny_llama_config(), ts);
  expect_error([&] { load_hf_model(dir); },
               {dir + "/model.safetensors: missing tensor model.layers.0.mlp.up_proj.weight"});

  ts = tiny_llama_tensors("F32");
  std::erase_if(ts, [](const StTensor& t) { return t.name == "lm_head.weight"; });
  dir = make_dir("syn-no-head", test::tiny_llama_config(), ts);
  expect_error([&] { load_hf_model(dir); }, {"missing tensor lm_head.weight"});

  json cfg = test::tiny_llama_config();
  cfg["vocab_size"] = 17;  // config disagrees with the embedding
  dir = make_dir("syn-vocab", cfg, tiny_llama_tensors("F32"));
  expect_error([&] { load_hf_model(dir); }, {"expected [17, 8], found [16, 8] in model.embed_tokens.weight"});
}

TEST(LoaderHf, SyntheticGpt2WithoutPrefix) {
  json cfg = {{"architectures", {"GPT2LMHeadModel"}}, {"model_type", "gpt2"}, {"vocab_size", 10}, {"n_embd", 4},
              {"n_layer", 1},  {"n_head", 2},  {"n_positions", 6}, {"n_inner", nullptr},
              {"activation_function", "gelu_new"}, {"layer_norm_epsilon", 1e-5}};
  std::vector<StTensor> ts = {
      make("wte.weight", "F32", {10, 4}, 1.0f),          make("wpe.weight", "F32", {6, 4}, 2.0f),
      make("h.0.ln_1.weight", "F32", {4}, 3.0f),         make("h.0.ln_1.bias", "F32", {4}, 4.0f),
      make("h.0.attn.c_attn.weight", "F32", {4, 12}, 5.0f), make("h.0.attn.c_attn.bias", "F16", {12}, 0.5f),
      make("h.0.attn.c_proj.weight", "F32", {4, 4}, 7.0f), make("h.0.attn.c_proj.bias", "F32", {4}, 8.0f),
      make("h.0.ln_2.weight", "F32", {4}, 9.0f),         make("h.0.ln_2.bias", "F32", {4}, 10.0f),
      make("h.0.mlp.c_fc.weight", "F32", {4, 16}, 11.0f), make("h.0.mlp.c_fc.bias", "F32", {16}, 12.0f),
      make("h.0.mlp.c_proj.weight", "F32", {16, 4}, 13.0f), make("h.0.mlp.c_proj.bias", "F32", {4}, 14.0f),
      make("ln_f.weight", "F32", {4}, 15.0f),            make("ln_f.bias", "F32", {4}, 16.0f),
  };
  const std::string dir = make_dir("syn-gpt2", cfg, ts);
  ModelData md = load_hf_model(dir);
  EXPECT_EQ(md.config.n_ff, 16);
  const LayerWeights& l = md.weights.layers[0];
  // c_attn [in 4, out 12]: element (i, o) = 5 + (i*12 + o)/1024; wk row r = output 4 + r.
  for (int r = 0; r < 4; ++r)
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(mat_at(l.wq, r, i), 5.0f + static_cast<float>(i * 12 + r) / 1024.0f);
      EXPECT_EQ(mat_at(l.wk, r, i), 5.0f + static_cast<float>(i * 12 + 4 + r) / 1024.0f);
      EXPECT_EQ(mat_at(l.wv, r, i), 5.0f + static_cast<float>(i * 12 + 8 + r) / 1024.0f);
    }
  expect_shape(l.w_up, DType::F32, 16, 4);
  expect_shape(l.w_down, DType::F32, 4, 16);
  EXPECT_EQ(mat_at(l.w_up, 9, 2), 11.0f + static_cast<float>(2 * 16 + 9) / 1024.0f);
  EXPECT_EQ(mat_at(l.w_down, 3, 15), 13.0f + static_cast<float>(15 * 4 + 3) / 1024.0f);
  EXPECT_EQ(l.bv.data[1], 0.5f + 9.0f / 1024.0f);  // F16 bias widened (exact in F16)
  EXPECT_EQ(md.weights.output.data, md.weights.tok_embd.data);
  expect_shape(md.weights.pos_embd, DType::F32, 6, 4);
}

// ---------------------------------------------------------------------------------------------------------------
// Broken directories built from the fixtures

std::string fixture_copy(const std::string& name, const std::string& fixture, const std::function<void(json&)>& edit,
                         const std::vector<std::string>& links) {
  const std::string src = shared_path(fixture);
  const std::string dir = test::scratch_dir() + "/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  json cfg = json::parse(test::read_file(src + "/config.json"));
  edit(cfg);
  std::ofstream(dir + "/config.json") << cfg.dump(2);
  for (const auto& l : links) fs::create_symlink(src + "/" + l, dir + "/" + l);
  return dir;
}

TEST(LoaderHf, BrokenDirectories) {
  const std::string empty = test::scratch_dir() + "/no-config";
  fs::create_directories(empty);
  expect_error([&] { load_hf_model(empty); }, {empty, "config.json"});
  expect_error([&] { load_hf_model(empty + "/nonexistent"); }, {empty + "/nonexistent", "not a directory"});

  std::string dir = fixture_copy("edited-arch", "fixtures/tiny-llama/hf",
                                 [](json& j) { j["architectures"] = {"PhiForCausalLM"}; }, {"model.safetensors"});
  expect_error([&] { load_hf_model(dir); },
               {dir + "/config.json: unsupported architecture 'PhiForCausalLM' (supported: "});

  dir = fixture_copy("missing-shards", "fixtures/tiny-llama/hf-sharded", [](json&) {},
                     {"model.safetensors.index.json", "model-00001-of-00002.safetensors"});
  expect_error([&] { load_hf_model(dir); },
               {dir + "/model-00002-of-00002.safetensors", "missing shard", "model.safetensors.index.json"});

  dir = fixture_copy("no-weights", "fixtures/tiny-qwen2/hf", [](json&) {}, {});
  expect_error([&] { load_hf_model(dir); }, {dir, "model.safetensors"});

  // Config says untied but qwen2's checkpoint has no lm_head.
  dir = fixture_copy("qwen2-untied", "fixtures/tiny-qwen2/hf", [](json& j) { j["tie_word_embeddings"] = false; },
                     {"model.safetensors"});
  expect_error([&] { load_hf_model(dir); }, {dir + "/model.safetensors: missing tensor lm_head.weight"});

  // Wrong layer count: layer 2 does not exist in the file.
  dir = fixture_copy("gpt2-3-layers", "fixtures/tiny-gpt2/hf", [](json& j) { j["n_layer"] = 3; },
                     {"model.safetensors"});
  expect_error([&] { load_hf_model(dir); }, {"missing tensor transformer.h.2.ln_1.weight"});

  // Fewer layers in config.json than in the checkpoint: refused, not silently truncated.
  dir = fixture_copy("gpt2-1-layer", "fixtures/tiny-gpt2/hf", [](json& j) { j["n_layer"] = 1; }, {"model.safetensors"});
  expect_error([&] { load_hf_model(dir); },
               {dir + "/model.safetensors: tensor transformer.h.1.", "belongs to layer 1", "declares 1 layers"});
  dir = fixture_copy("llama-1-layer", "fixtures/tiny-llama/hf-sharded", [](json& j) { j["num_hidden_layers"] = 1; },
                     {"model.safetensors.index.json", "model-00001-of-00002.safetensors",
                      "model-00002-of-00002.safetensors"});
  expect_error([&] { load_hf_model(dir); }, {"model-00002-of-00002.safetensors: tensor model.layers.1."});
}

TEST(LoaderHf, LoadModelDispatchesDirectories) {
  LoadOptions opt;
  opt.load_tokenizer = false;
  LoadedModel m = load_model(shared_path("fixtures/tiny-gpt2/hf"), opt);
  ASSERT_TRUE(m.model);
  EXPECT_EQ(m.model->config.arch, "gpt2");
  EXPECT_EQ(m.model->weights.layers.size(), 2u);
}

}  // namespace
}  // namespace lmgen
