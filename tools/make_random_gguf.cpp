// make_random_gguf — a GGUF model with random weights and the shape of a real model, for benchmarks.
//
//   make_random_gguf --config CONFIG.json --vocab VOCAB.gguf --out OUT.gguf [--type f32|f16|bf16|q8_0|...]
//                    [--n-vocab N] [--seed N] [--threads N]
//
// CONFIG.json is a Hugging Face config.json (model_type llama, qwen2, qwen3, gemma3_text or gpt2; e.g.
// /work/shared/configs/*, tools/configs/*). The vocabulary — and so n_vocab — comes from VOCAB.gguf: every
// tokenizer.* key is copied (e.g. /work/shared/vocab/ggml-vocab-llama-spm.gguf, 32000 tokens); with --n-vocab N
// the token list is padded to N with unused "[PADi]" tokens (Gemma 3's 262144 rows from a smaller vocabulary). Metadata and
// tensor names are those llama.cpp's convert_hf_to_gguf writes for the architecture; the LM head is tied
// (no output.weight) when the config says tie_word_embeddings (gpt2 always).
// Weights: ~N(0, 0.02) (Irwin-Hall sum of four uniforms: bounded at ±0.07, so nothing overflows in F16),
// norm gains 1, biases 0. Matrices are written as --type (default f32; a quantized type is applied to every
// matrix, with no per-tensor rules — use `lmgen quantize` on the F32/F16 file for llama.cpp-style mixtures).
// Deterministic for a given seed, whatever the thread count.
//
// Build (tools/bench.sh does this):
//   g++ -O2 -march=native -std=c++20 -Iinclude tools/make_random_gguf.cpp BUILD/liblmgen.a -lpthread
//       $(pkg-config --libs libpcre2-8 libutf8proc) -o BUILD/make_random_gguf      (one command line)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "lmgen/error.hpp"
#include "format/gguf.hpp"
#include "format/gguf_writer.hpp"
#include "kernels/quant.hpp"

using lmgen::DType;

namespace {

struct Args {
  std::string config, vocab, out, type = "f32";
  int64_t n_vocab = 0;
  uint64_t seed = 1;
  int threads = 0;
};

uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Fills a row with ~N(0, sd): sum of four 16-bit uniforms per 64-bit draw (mean 2, variance 1/3).
void random_row(uint64_t seed, float* x, int64_t n, float sd) {
  uint64_t s = seed;
  const float scale = sd * std::sqrt(3.0f) / 65536.0f;
  for (int64_t i = 0; i < n; ++i) {
    uint64_t r = splitmix(s);
    float sum = static_cast<float>((r & 0xffff) + ((r >> 16) & 0xffff) + ((r >> 32) & 0xffff) + (r >> 48));
    x[i] = (sum - 2.0f * 65536.0f) * scale;
  }
}

int64_t jint(const nlohmann::json& c, const char* key, int64_t dflt = -1) {
  if (c.contains(key) && c[key].is_number_integer()) return c[key].get<int64_t>();
  if (dflt < 0) throw lmgen::Error(std::string("config.json: missing integer '") + key + "'");
  return dflt;
}

double jnum(const nlohmann::json& c, const char* key, double dflt) {
  return c.contains(key) && c[key].is_number() ? c[key].get<double>() : dflt;
}

// The vocabulary's token list (and token_type / scores when present) padded to n tokens with unused "[PADi]".
void pad_vocab(lmgen::GgufWriter& w, const lmgen::GgufFile& voc, int64_t n) {
  std::vector<std::string> tokens;
  for (auto t : voc.get_string_array("tokenizer.ggml.tokens")) tokens.emplace_back(t);
  const size_t n0 = tokens.size();
  for (size_t i = n0; i < static_cast<size_t>(n); ++i) tokens.push_back("[PAD" + std::to_string(i) + "]");
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  if (const lmgen::GgufValue* tt = voc.find("tokenizer.ggml.token_type")) {
    std::vector<int32_t> types(static_cast<size_t>(n), 5);
    std::memcpy(types.data(), tt->elems, 4 * n0);
    w.set_i32_array("tokenizer.ggml.token_type", types);
  }
  if (const lmgen::GgufValue* sc = voc.find("tokenizer.ggml.scores")) {
    std::vector<float> scores(static_cast<size_t>(n), 0.0f);
    std::memcpy(scores.data(), sc->elems, 4 * n0);
    w.set_f32_array("tokenizer.ggml.scores", scores);
  }
}

int run(const Args& a) {
  std::ifstream in(a.config);
  if (!in) throw lmgen::Error(a.config, "cannot open");
  nlohmann::json c = nlohmann::json::parse(in);
  std::string arch = c.value("model_type", "");
  if (arch == "gemma3_text") arch = "gemma3";
  if (arch != "llama" && arch != "qwen2" && arch != "qwen3" && arch != "gemma3" && arch != "gpt2")
    throw lmgen::Error(a.config, "model_type '" + arch + "' not supported (llama, qwen2, qwen3, gemma3_text, gpt2)");
  const bool qk_norm = arch == "qwen3" || arch == "gemma3", gemma = arch == "gemma3";
  const bool gpt2 = arch == "gpt2";
  const int64_t E = gpt2 ? jint(c, "n_embd") : jint(c, "hidden_size");
  const int64_t L = gpt2 ? jint(c, "n_layer") : jint(c, "num_hidden_layers");
  const int64_t H = gpt2 ? jint(c, "n_head") : jint(c, "num_attention_heads");
  const int64_t Hkv = gpt2 ? H : jint(c, "num_key_value_heads", H);
  const int64_t head_dim = gpt2 ? E / H : jint(c, "head_dim", E / H);
  const int64_t F = gpt2 ? (c.contains("n_inner") && c["n_inner"].is_number_integer() ? c["n_inner"].get<int64_t>() : 4 * E)
                         : jint(c, "intermediate_size");
  const int64_t n_ctx = gpt2 ? jint(c, "n_positions") : jint(c, "max_position_embeddings");
  const bool tied = gpt2 || c.value("tie_word_embeddings", gemma);
  const DType wtype = lmgen::dtype_from_name(a.type);

  lmgen::GgufFile voc(a.vocab);
  const int64_t V_file = static_cast<int64_t>(voc.get_string_array("tokenizer.ggml.tokens").size());
  const int64_t V = std::max(V_file, a.n_vocab);

  lmgen::GgufWriter w;
  w.set_string("general.architecture", arch);
  std::string name = c.value("_name_or_path", std::string());
  if (name.empty()) name = std::filesystem::path(a.config).parent_path().filename().string();
  w.set_string("general.name", name + " (random weights)");
  uint32_t ftype = wtype == DType::F32 ? 0 : wtype == DType::F16 ? 1 : wtype == DType::BF16 ? 32
                 : wtype == DType::Q8_0 ? 7 : wtype == DType::Q4_0 ? 2 : wtype == DType::Q4_1 ? 3
                 : wtype == DType::Q5_0 ? 8 : wtype == DType::Q5_1 ? 9 : wtype == DType::Q6_K ? 18 : 0;
  w.set_u32("general.file_type", ftype);
  const std::string k = arch + ".";
  w.set_u32(k + "context_length", static_cast<uint32_t>(n_ctx));
  w.set_u32(k + "embedding_length", static_cast<uint32_t>(E));
  w.set_u32(k + "feed_forward_length", static_cast<uint32_t>(F));
  w.set_u32(k + "block_count", static_cast<uint32_t>(L));
  w.set_u32(k + "attention.head_count", static_cast<uint32_t>(H));
  if (gpt2) {
    w.set_f32(k + "attention.layer_norm_epsilon", static_cast<float>(jnum(c, "layer_norm_epsilon", 1e-5)));
  } else {
    w.set_u32(k + "attention.head_count_kv", static_cast<uint32_t>(Hkv));
    w.set_f32(k + "rope.freq_base", static_cast<float>(jnum(c, "rope_theta", 10000.0)));
    w.set_f32(k + "attention.layer_norm_rms_epsilon", static_cast<float>(jnum(c, "rms_norm_eps", 1e-5)));
    if (head_dim != E / H) {
      w.set_u32(k + "attention.key_length", static_cast<uint32_t>(head_dim));
      w.set_u32(k + "attention.value_length", static_cast<uint32_t>(head_dim));
    }
    if (arch == "llama") {
      w.set_u32(k + "vocab_size", static_cast<uint32_t>(V));
      w.set_u32(k + "rope.dimension_count", static_cast<uint32_t>(head_dim));
    }
    if (gemma) w.set_u32(k + "attention.sliding_window", static_cast<uint32_t>(jint(c, "sliding_window", 512)));
  }
  if (wtype != DType::F32 && wtype != DType::F16 && wtype != DType::BF16) w.set_u32("general.quantization_version", 2);
  for (const auto& [key, value] : voc.metadata())
    if (key.rfind("tokenizer.", 0) == 0) w.set_value(key, value);
  if (V > V_file) pad_vocab(w, voc, V);

  const int n_threads = a.threads > 0 ? a.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  uint64_t tensor_seed = a.seed * 0x100000001b3ULL;
  auto matrix = [&](const std::string& tname, int64_t rows, int64_t cols) {
    const uint64_t base = splitmix(tensor_seed);
    w.add_tensor(tname, wtype, {rows, cols}, [=](uint8_t* dst, size_t) {
      const size_t rb = lmgen::row_bytes(wtype, cols);
      auto work = [&](int64_t r0, int64_t r1) {
        std::vector<float> buf(static_cast<size_t>(cols));
        for (int64_t r = r0; r < r1; ++r) {
          random_row(base ^ (static_cast<uint64_t>(r) * 0xd1b54a32d192ed03ULL), buf.data(), cols, 0.02f);
          lmgen::quantize_row(wtype, buf.data(), dst + static_cast<size_t>(r) * rb, cols);
        }
      };
      std::vector<std::thread> th;
      for (int t = 0; t < n_threads; ++t) th.emplace_back(work, rows * t / n_threads, rows * (t + 1) / n_threads);
      for (auto& t : th) t.join();
    });
  };
  auto vector = [&](const std::string& tname, int64_t n, float value) {
    w.add_tensor(tname, DType::F32, {n}, [=](uint8_t* dst, size_t) {
      for (int64_t i = 0; i < n; ++i) std::memcpy(dst + 4 * i, &value, 4);
    });
  };

  const int64_t q_dim = H * head_dim, kv_dim = Hkv * head_dim;
  matrix("token_embd.weight", V, E);
  if (gpt2) matrix("position_embd.weight", n_ctx, E);
  for (int64_t i = 0; i < L; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    vector(p + "attn_norm.weight", E, 1.0f);
    if (gpt2) {
      vector(p + "attn_norm.bias", E, 0.0f);
      matrix(p + "attn_qkv.weight", q_dim + 2 * kv_dim, E);
      vector(p + "attn_qkv.bias", q_dim + 2 * kv_dim, 0.0f);
      matrix(p + "attn_output.weight", E, q_dim);
      vector(p + "attn_output.bias", E, 0.0f);
      vector(p + "ffn_norm.weight", E, 1.0f);
      vector(p + "ffn_norm.bias", E, 0.0f);
      matrix(p + "ffn_up.weight", F, E);
      vector(p + "ffn_up.bias", F, 0.0f);
      matrix(p + "ffn_down.weight", E, F);
      vector(p + "ffn_down.bias", E, 0.0f);
      continue;
    }
    matrix(p + "attn_q.weight", q_dim, E);
    matrix(p + "attn_k.weight", kv_dim, E);
    matrix(p + "attn_v.weight", kv_dim, E);
    if (arch == "qwen2") {
      vector(p + "attn_q.bias", q_dim, 0.0f);
      vector(p + "attn_k.bias", kv_dim, 0.0f);
      vector(p + "attn_v.bias", kv_dim, 0.0f);
    }
    if (qk_norm) {
      vector(p + "attn_q_norm.weight", head_dim, 1.0f);
      vector(p + "attn_k_norm.weight", head_dim, 1.0f);
    }
    matrix(p + "attn_output.weight", E, q_dim);
    if (gemma) vector(p + "post_attention_norm.weight", E, 1.0f);
    vector(p + "ffn_norm.weight", E, 1.0f);
    if (gemma) vector(p + "post_ffw_norm.weight", E, 1.0f);
    matrix(p + "ffn_gate.weight", F, E);
    matrix(p + "ffn_up.weight", F, E);
    matrix(p + "ffn_down.weight", E, F);
  }
  vector("output_norm.weight", E, 1.0f);
  if (gpt2) vector("output_norm.bias", E, 0.0f);
  if (!tied) matrix("output.weight", V, E);
  w.write(a.out);
  std::fprintf(stderr, "make_random_gguf: wrote %s: %s, %lld layers, n_embd %lld, heads %lld/%lld, n_ff %lld, vocab %lld, %s%s\n",
               a.out.c_str(), arch.c_str(), static_cast<long long>(L), static_cast<long long>(E),
               static_cast<long long>(H), static_cast<long long>(Hkv), static_cast<long long>(F),
               static_cast<long long>(V), lmgen::dtype_name(wtype), tied ? ", tied head" : "");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  auto usage = [] {
    std::fprintf(stderr,
                 "usage: make_random_gguf --config CONFIG.json --vocab VOCAB.gguf --out OUT.gguf "
                 "[--type f32|f16|bf16|q8_0|q4_0|...] [--n-vocab N] [--seed N] [--threads N]\n");
    return 2;
  };
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) throw lmgen::UsageError(s + " needs a value");
      return argv[++i];
    };
    try {
      if (s == "--config") a.config = val();
      else if (s == "--vocab") a.vocab = val();
      else if (s == "--out") a.out = val();
      else if (s == "--type") a.type = val();
      else if (s == "--seed") a.seed = std::stoull(val());
      else if (s == "--n-vocab") a.n_vocab = std::stoll(val());
      else if (s == "--threads") a.threads = std::stoi(val());
      else return usage();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "make_random_gguf: %s\n", e.what());
      return usage();
    }
  }
  if (a.config.empty() || a.vocab.empty() || a.out.empty()) return usage();
  try {
    return run(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_random_gguf: %s\n", e.what());
    return 1;
  }
}
