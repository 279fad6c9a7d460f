// `lmgen quantize --lora`: one merged file from a quantized GGUF base (fixtures/tiny-llama/model-q8_0.gguf +
// tiny-llama-lora), through the lmgen binary. With the base's own type as target the file holds exactly the
// load-time merge (LoadOptions::lora on the same base): the same bytes, hence the same logits at every greedy step;
// with another type the merged matrices are re-encoded like any other tensor; an adapter that does not fit is the
// same one-line error as at load.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common.hpp"
#include "format/gguf.hpp"
#include "format/safetensors_writer.hpp"
#include "kernels/quant.hpp"
#include "lmgen/loader.hpp"
#include "lmgen/model.hpp"
#include "lmgen_run.hpp"
#include "refcheck.hpp"

using namespace lmgen;
using namespace lmgen::test;

namespace {

std::string q8_base() { return shared_path("fixtures/tiny-llama/model-q8_0.gguf"); }
std::string adapter() { return shared_path("fixtures/tiny-llama-lora"); }

std::string quantize_lora(const std::string& in, const std::string& out_name, const std::string& type,
                          std::vector<std::string> extra = {}) {
  const std::string out = scratch_dir() + "/" + out_name;
  std::vector<std::string> args = {"quantize", in, out, "--type", type};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = run_lmgen(args, 120);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  return out;
}

std::shared_ptr<const ModelData> load_merged_model(const std::string& path, std::vector<LoraSpec> lora = {}) {
  LoadOptions lo;
  lo.load_tokenizer = false;
  lo.lora = std::move(lora);
  return load_model(path, lo).model;
}

std::vector<int32_t> ref_prompt(int i) {
  const auto ref = nlohmann::json::parse(
      read_file(adapter() + "/refs/ref-f32-" + std::to_string(i) + ".json"));
  return ref["prompt_ids"].get<std::vector<int32_t>>();
}

// The bytes of every row of m.
std::string bytes_of(const Matrix& m) {
  std::string s;
  const size_t n = row_bytes(m.type, m.cols);
  for (int64_t r = 0; r < m.rows; ++r) s.append(reinterpret_cast<const char*>(m.row(r)), n);
  return s;
}

// The adaptable matrices of a llama model, with a name for messages.
std::vector<std::pair<std::string, const Matrix*>> linear_matrices(const ModelData& md) {
  std::vector<std::pair<std::string, const Matrix*>> v;
  for (size_t l = 0; l < md.weights.layers.size(); ++l) {
    const LayerWeights& w = md.weights.layers[l];
    const std::string p = "layer " + std::to_string(l) + " ";
    for (const auto& [n, m] : {std::pair{"wq", &w.wq}, {"wk", &w.wk}, {"wv", &w.wv}, {"wo", &w.wo},
                               {"w_gate", &w.w_gate}, {"w_up", &w.w_up}, {"w_down", &w.w_down}})
      v.emplace_back(p + n, m);
  }
  v.emplace_back("output", &md.weights.output);
  v.emplace_back("tok_embd", &md.weights.tok_embd);
  return v;
}


}  // namespace

// q8_0 -> q8_0 with the adapter: every weight matrix has exactly the bytes of the Q8_0 base merged at load, and
// greedy decoding (32 steps, the 4 public prompts) gives the same tokens and bit-identical logits at every step.
TEST(QuantizeLora, Q8_0BaseIsTheLoadTimeMerge) {
  const std::string out = scratch_dir() + "/tiny-llama-q8_0-lora.gguf";
  auto r = run_lmgen({"quantize", q8_base(), out, "--type", "q8_0", "--lora", adapter(), "-v"}, 120);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.err.find("lmgen quantize: LoRA " + adapter() + " (PEFT, r 4, lora_alpha 8, alpha/r = 2) x scale 1: 14 "
                       "weight matrices"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("blk.0.attn_q.weight"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(LoRA merged)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(", 14 with LoRA merged"), std::string::npos) << r.err;

  const auto at_load = load_merged_model(q8_base(), {{adapter()}});
  const auto merged = load_merged_model(out);
  const auto base = load_merged_model(q8_base());
  const auto a = linear_matrices(*at_load), m = linear_matrices(*merged), b = linear_matrices(*base);
  ASSERT_EQ(a.size(), m.size());
  int changed = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(m[i].second->type, DType::Q8_0) << m[i].first;
    EXPECT_TRUE(bytes_of(*m[i].second) == bytes_of(*a[i].second)) << m[i].first << " differs from the load-time merge";
    changed += bytes_of(*m[i].second) != bytes_of(*b[i].second);
  }
  EXPECT_EQ(changed, 14);  // 7 modules x 2 layers; output and tok_embd are the base's
  // The other tensors (norms) and the metadata are the base file's.
  GgufFile gb(q8_base()), go(out);
  ASSERT_EQ(gb.tensors().size(), go.tensors().size());
  for (const auto& t : gb.tensors()) {
    if (t.ne.size() != 1) continue;
    const GgufTensorInfo* o = go.find_tensor(t.name);
    ASSERT_NE(o, nullptr) << t.name;
    EXPECT_EQ(std::memcmp(gb.file()->data() + t.offset, go.file()->data() + o->offset, t.nbytes), 0) << t.name;
  }
  EXPECT_EQ(go.get_int("general.file_type"), 7);

  ModelOptions mo;
  mo.n_threads = 2;
  Model want(at_load, mo), got(merged, mo);
  int steps = 0;
  for (int i = 0; i < 4; ++i) {
    want.reset();
    got.reset();
    std::vector<float> lw, lg;
    const std::vector<int32_t> prompt = ref_prompt(i);
    want.eval(prompt, lw, true);
    got.eval(prompt, lg, true);
    ASSERT_TRUE(lw == lg) << "prompt " << i << ": prompt logits differ";
    for (int s = 0; s < 32; ++s, ++steps) {
      const int32_t tw = argmax_lowest(lw.data() + lw.size() - want.n_vocab(), want.n_vocab());
      const int32_t tg = argmax_lowest(lg.data() + lg.size() - got.n_vocab(), got.n_vocab());
      ASSERT_EQ(tw, tg) << "prompt " << i << ", step " << s;
      want.eval(std::vector<int32_t>{tw}, lw);
      got.eval(std::vector<int32_t>{tg}, lg);
      ASSERT_TRUE(lw == lg) << "prompt " << i << ", step " << s << ": logits differ";
    }
  }
  EXPECT_EQ(steps, 128);
}

// Another target type: the untouched tensors are what plain `quantize --type q4_0` writes, the adapted ones the
// load-time merge (Q8_0) re-encoded as Q4_0 row by row.
TEST(QuantizeLora, OtherTypeReencodesTheMergedMatrices) {
  const std::string with = quantize_lora(q8_base(), "tiny-llama-q4_0-lora.gguf", "q4_0", {"--lora", adapter(), "-q"});
  const std::string plain = quantize_lora(q8_base(), "tiny-llama-q4_0-plain.gguf", "q4_0", {"-q"});
  const auto at_load = load_merged_model(q8_base(), {{adapter()}});
  const auto mw = load_merged_model(with), mp = load_merged_model(plain);
  const auto a = linear_matrices(*at_load), w = linear_matrices(*mw), p = linear_matrices(*mp);
  int merged = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    const Matrix& src = *a[i].second;
    const Matrix& got = *w[i].second;
    EXPECT_EQ(got.type, p[i].second->type) << w[i].first;
    if (w[i].first == "output" || w[i].first == "tok_embd") {
      EXPECT_TRUE(bytes_of(got) == bytes_of(*p[i].second)) << w[i].first;
      continue;
    }
    ASSERT_EQ(got.type, DType::Q4_0) << w[i].first;
    std::vector<float> row(static_cast<size_t>(src.cols));
    std::vector<uint8_t> enc(row_bytes(DType::Q4_0, src.cols));
    bool same = true;
    for (int64_t r = 0; r < src.rows; ++r) {
      dequantize_row(src.type, src.row(r), row.data(), src.cols);
      quantize_row(DType::Q4_0, row.data(), enc.data(), src.cols);
      same = same && std::memcmp(enc.data(), got.row(r), enc.size()) == 0;
    }
    EXPECT_TRUE(same) << w[i].first;
    EXPECT_FALSE(bytes_of(got) == bytes_of(*p[i].second)) << w[i].first << ": the adapter changed nothing";
    ++merged;
  }
  EXPECT_EQ(merged, 14);
}

// An adapter for another model (tiny-qwen2-lora, hidden 32, on tiny-llama, hidden 64): the one-line error of
// --lora at load, exit status 1, and no output file.
TEST(QuantizeLora, AdapterThatDoesNotFitIsTheLoadError) {
  const std::string out = scratch_dir() + "/tiny-llama-bad-lora.gguf";
  std::filesystem::remove(out);
  const std::string bad = shared_path("fixtures/tiny-qwen2-lora");
  auto q = run_lmgen({"quantize", q8_base(), out, "--type", "q8_0", "--lora", bad}, 60);
  EXPECT_TRUE(clean_failure(q, 1, "shape mismatch")) << q.describe();
  EXPECT_FALSE(std::filesystem::exists(out));
  auto load = run_lmgen({"-m", q8_base(), "--lora", bad, "-p", "x", "-n", "1"});
  EXPECT_TRUE(clean_failure(load, 1, "shape mismatch")) << load.describe();
  EXPECT_EQ(q.one_line_err(), load.one_line_err());
  // A bad --lora argument is a usage error before any work.
  auto usage = run_lmgen({"quantize", q8_base(), out, "--type", "q8_0", "--lora", ":2"});
  EXPECT_EQ(usage.exit_code, 2) << usage.describe();
  EXPECT_FALSE(std::filesystem::exists(out));
}

// A Hugging Face directory as input: the adapters are merged into the temporary F32 file (as convert --lora), so
// the tensors equal `convert --lora --type q8_0`'s.
TEST(QuantizeLora, HfDirectoryInputMergesLikeConvert) {
  const std::string hf = shared_path("fixtures/tiny-llama/hf");
  const std::string q = quantize_lora(hf, "tiny-llama-hf-q8_0-lora.gguf", "q8_0", {"--lora", adapter(), "-q"});
  const std::string c = scratch_dir() + "/tiny-llama-hf-convert-lora.gguf";
  auto r = run_lmgen({"convert", hf, c, "--type", "q8_0", "--lora", adapter(), "-q"}, 120);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  GgufFile gq(q), gc(c);
  ASSERT_EQ(gq.tensors().size(), gc.tensors().size());
  for (const auto& t : gc.tensors()) {
    const GgufTensorInfo* o = gq.find_tensor(t.name);
    ASSERT_NE(o, nullptr) << t.name;
    ASSERT_EQ(o->type, t.type) << t.name;
    ASSERT_EQ(o->nbytes, t.nbytes) << t.name;
    EXPECT_EQ(std::memcmp(gc.file()->data() + t.offset, gq.file()->data() + o->offset, t.nbytes), 0) << t.name;
  }
}

// A PEFT adapter on tiny-qwen2's lm_head only (its head is tied to token_embd), in a scratch directory.
static std::string qwen2_lm_head_adapter() {
  const std::string dir = scratch_dir() + "/lora-qwen2-lm-head";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const int64_t r = 2, E = 32, V = 151936;
  write_safetensors(dir + "/adapter_model.safetensors",
                    {{"base_model.model.lm_head.lora_A.weight", DType::F32, {r, E},
                      std::vector<float>(static_cast<size_t>(r * E), 0.01f)},
                     {"base_model.model.lm_head.lora_B.weight", DType::F32, {V, r},
                      std::vector<float>(static_cast<size_t>(V * r), 0.01f)}});
  std::ofstream(dir + "/adapter_config.json")
      << R"({"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": ["lm_head"], "bias": "none"})";
  return dir;
}

// An adapter on lm_head of a model whose head is tied to token_embd (tiny-qwen2's GGUF has no output.weight): the
// merge at load makes the head a separate matrix, which this model's tensors cannot hold; refused, no output file.
TEST(QuantizeLora, MergedTiedHeadIsRefused) {
  const std::string dir = qwen2_lm_head_adapter();
  const std::string out = scratch_dir() + "/qwen2-lm-head.gguf";
  std::filesystem::remove(out);
  auto q = run_lmgen({"quantize", shared_path("fixtures/tiny-qwen2/model-bf16.gguf"), out, "--type", "q8_0",
                      "--lora", dir}, 60);
  EXPECT_TRUE(clean_failure(q, 1, "tied to the token embedding")) << q.describe();
  EXPECT_FALSE(std::filesystem::exists(out));
}

// convert --lora with that adapter: the merged head becomes the file's own output.weight (the file is no longer
// tied), so the converted model scores exactly like the HF directory with the adapter at load, not like the base.
TEST(LoraConvert, MergedTiedHeadIsWrittenAsOutput) {
  const std::string dir = qwen2_lm_head_adapter();
  const std::string hf = shared_path("fixtures/tiny-qwen2/hf"), out = scratch_dir() + "/qwen2-lm-head-f32.gguf";
  std::filesystem::remove(out);
  const auto c = run_lmgen({"convert", hf, out, "--type", "f32", "--lora", dir, "-q"}, 60);
  ASSERT_EQ(c.exit_code, 0) << c.describe();
  GgufFile g(out);
  EXPECT_NE(g.find_tensor("output.weight"), nullptr);
  const std::string text = "Once upon a time there was a little robot who liked to sing songs to the moon.";
  auto score = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "score");
    for (const char* a : {"--jsonl", "-q", "-t", "1", "-c", "16"}) args.push_back(a);
    const auto r = run_lmgen(args, 60, text, true);
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    return r.out;
  };
  const std::string converted = score({"-m", out});
  EXPECT_EQ(converted, score({"-m", hf, "--lora", dir}));
  EXPECT_NE(converted, score({"-m", hf}));
}
