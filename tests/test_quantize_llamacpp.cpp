// `lmgen quantize` at the 2- to 4-bit types (q3_k_s, q3_k_m, q3_k_l, q2_k, iq4_nl, iq4_xs) against llama.cpp b4748
// (the shared peer build): every file lmgen writes loads in llama-simple and gives there the greedy text lmgen gives
// (up to the first near-tie), and its weights take the bytes per weight llama-quantize's file of the same F16 input
// takes, within 1%. Two inputs: tiny-llama-kq's weights (rows multiples of 256: real K-quant and IQ4_XS blocks;
// trained-like peaked logits, so the greedy text is stable) and a random model with the SmolLM2-135M shape's rows
// of 576 (cut to one layer and a 256-wide FFN to stay fast), where llama-quantize falls back to IQ4_NL for rows
// that are not a multiple of 256.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "common.hpp"
#include "format/gguf.hpp"
#include "lmgen_run.hpp"

namespace lmgen::test {
namespace {

using nlohmann::json;

const std::vector<std::string> kTypes = {"q3_k_s", "q3_k_m", "q3_k_l", "q2_k", "iq4_nl", "iq4_xs"};
const std::string kPrompt = "Once upon a time";
constexpr int kTokens = 16;
// Top-2 log-prob gap under which lmgen and llama.cpp may pick differently (their sums run in other orders; a
// rounding of a Q8 activation block can flip). Past such a step the texts may diverge legitimately.
constexpr double kNearTie = 0.1;

std::string peer(const std::string& rel) { return shared_path("bench/llama.cpp-b4748/" + rel); }

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Bytes of tensor data per weight of a GGUF file (every tensor: the F32 norms are the same in both files).
double bytes_per_weight(const std::string& path) {
  GgufFile g(path);
  double bytes = 0, weights = 0;
  for (const GgufTensorInfo& t : g.tensors()) {
    bytes += static_cast<double>(t.nbytes);
    double n = 1;
    for (int64_t d : t.ne) n *= static_cast<double>(d);
    weights += n;
  }
  return bytes / weights;
}

// llama-simple's greedy continuation of kPrompt: it echoes the prompt's pieces ("<s> Once upon a time"), then the
// generated pieces, then a newline.
std::string llama_simple_text(const std::string& model) {
  RunResult r = run_process(peer("llama-simple"), {"-m", model, "-n", std::to_string(kTokens), kPrompt}, 60, "", false);
  EXPECT_EQ(r.exit_code, 0) << model << ": " << r.describe();
  const size_t at = r.out.find(kPrompt);
  if (at == std::string::npos) {
    ADD_FAILURE() << model << ": llama-simple did not echo the prompt: " << r.out;
    return "";
  }
  std::string text = r.out.substr(at + kPrompt.size());
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

// Compares lmgen's greedy text for `model` with llama-simple's: they must agree until they diverge at a near-tie
// (a step whose top-2 gap is under kNearTie, or a step since the last released text: a character split over tokens
// shows at its last token), or to the end. Returns the tokens that agreed.
int compare_greedy(const std::string& model) {
  RunResult r = run_lmgen({"-m", model, "--temp", "0", "-n", std::to_string(kTokens), "-p", kPrompt, "--n-probs", "2",
                           "--jsonl", "-q"}, 60);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  const std::vector<json> lines = json_lines(r.out);
  if (lines.size() != static_cast<size_t>(kTokens) + 1) {
    ADD_FAILURE() << model << ": expected " << kTokens << " tokens and a summary: " << r.out;
    return 0;
  }
  const std::string theirs = llama_simple_text(model);
  std::string ours;
  double smallest_gap = INFINITY;  // since the last step that released text
  for (int i = 0; i < kTokens; ++i) {
    const json& ev = lines[static_cast<size_t>(i)];
    const json& top = ev["top"];
    const double gap = top.size() < 2 ? INFINITY : top[0]["logprob"].get<double>() - top[1]["logprob"].get<double>();
    smallest_gap = std::min(smallest_gap, gap);
    const std::string text = ev["text"];
    if (theirs.compare(ours.size(), text.size(), text) != 0) {
      EXPECT_LT(smallest_gap, kNearTie) << model << ": differs at step " << i << " (top-2 gap " << smallest_gap
                                        << "): lmgen [" << ours + text << "], llama.cpp [" << theirs << "]";
      return i;
    }
    ours += text;
    if (!text.empty()) smallest_gap = INFINITY;
  }
  EXPECT_EQ(theirs, ours) << model;
  return kTokens;
}

// Quantizes `f16` to every new type with lmgen and llama-quantize; checks sizes and greedy text; returns the tokens
// compared over all types.
int check_against_peer(const std::string& f16, const std::string& tag, const std::vector<std::string>& types) {
  int compared = 0;
  for (const std::string& type : types) {
    SCOPED_TRACE(tag + " " + type);
    const std::string ours = scratch_dir() + "/" + tag + "-lmgen-" + type + ".gguf";
    const std::string theirs = scratch_dir() + "/" + tag + "-llama-" + type + ".gguf";
    const RunResult q = run_lmgen({"quantize", f16, ours, "--type", type, "-q"}, 120);
    const RunResult p = run_process(peer("quantize/llama-quantize"), {f16, theirs, upper(type), "2"}, 120, "", false);
    if (q.exit_code != 0 || p.exit_code != 0) {
      ADD_FAILURE() << "quantizing failed: " << q.describe() << "\n" << p.describe();
      continue;
    }
    const double a = bytes_per_weight(ours), b = bytes_per_weight(theirs);
    EXPECT_NEAR(a / b, 1.0, 0.01) << "bytes per weight: lmgen " << a << ", llama-quantize " << b;
    std::printf("[ size ] %s %s: %.4f bytes/weight (lmgen), %.4f (llama-quantize); files %ju / %ju bytes\n",
                tag.c_str(), type.c_str(), a, b, static_cast<uintmax_t>(std::filesystem::file_size(ours)),
                static_cast<uintmax_t>(std::filesystem::file_size(theirs)));
    const int n = compare_greedy(ours);
    std::printf("[ text ] %s %s: greedy text equal over %d of %d tokens (then a near-tie)\n", tag.c_str(),
                type.c_str(), n, kTokens);
    compared += n;
    std::filesystem::remove(ours);
    std::filesystem::remove(theirs);
  }
  return compared;
}

TEST(QuantizeLlamaCpp, TinyLlamaKqAtEveryNewTypeMatchesLlamaCpp) {
  // The fixture ships quantized files only: its Q5_K_M file, decoded to F16, is the F16 input both tools read.
  const std::string f16 = scratch_dir() + "/kq-f16.gguf";
  RunResult r = run_lmgen({"quantize", shared_path("fixtures/tiny-llama-kq/model-q5_k_m.gguf"), f16, "--type", "f16",
                           "-q"}, 60);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const int compared = check_against_peer(f16, "kq", kTypes);
  // The weights give peaked distributions: most steps are far from a tie, so most of the text is compared.
  EXPECT_GE(compared, kTokens * static_cast<int>(kTypes.size()) / 2) << "too few tokens compared";
  std::filesystem::remove(f16);
}

TEST(QuantizeLlamaCpp, RowsOf576FallBackLikeLlamaQuantize) {
  json config = json::parse(read_file(shared_path("configs/smollm2-135m/config.json")));
  config["num_hidden_layers"] = 1;
  config["intermediate_size"] = 256;  // ffn_down's rows stay whole super-blocks, as in the real shape (1536)
  const std::string cfg = write_scratch("smol-config.json", config.dump());
  const std::string f16 = scratch_dir() + "/smol-f16.gguf";
  // The vocabulary of stories260K (512 tokens) keeps the embedding small.
  RunResult r = run_process(LMGEN_MAKE_RANDOM_GGUF, {"--config", cfg, "--vocab", stories_gguf(), "--out", f16,
                                                     "--type", "f16", "--threads", "1"}, 60, "", false);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  // Random weights: ties are common, the text is compared where it is not. IQ4_NL's blocks of 32 divide 576 (no
  // fallback there), so it is left out to save time.
  check_against_peer(f16, "smol576", {"q3_k_s", "q3_k_m", "q3_k_l", "q2_k", "iq4_xs"});
  std::filesystem::remove(f16);
}

}  // namespace
}  // namespace lmgen::test
