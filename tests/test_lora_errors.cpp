// Every adapter lmgen refuses, one test each: the error is an AdapterError (exit status 1 at the CLI) that names
// the adapter file and the problem. The adapters are the fixtures' tiny-llama-lora with one thing changed, written
// to the test's scratch directory (the shared safetensors is linked, not copied, where it is unchanged).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "format/safetensors_writer.hpp"
#include "lmgen/error.hpp"
#include "lmgen/loader.hpp"

using namespace lmgen;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string llama_base() { return test::shared_path("fixtures/tiny-llama/hf"); }

// A copy of tiny-llama-lora's config with `edit` applied; the weights are the fixture's, or `tensors` when given.
std::string make_adapter(const std::string& name, const std::function<void(json&)>& edit,
                         const std::vector<SafetensorsEntry>* tensors = nullptr) {
  const std::string dir = test::scratch_dir() + "/lora-" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  json cfg = json::parse(test::read_file(test::shared_path("fixtures/tiny-llama-lora/adapter_config.json")));
  edit(cfg);
  std::ofstream(dir + "/adapter_config.json") << cfg.dump(2);
  if (tensors != nullptr)
    write_safetensors(dir + "/adapter_model.safetensors", *tensors);
  else
    fs::create_symlink(test::shared_path("fixtures/tiny-llama-lora/adapter_model.safetensors"),
                       dir + "/adapter_model.safetensors");
  return dir;
}

// Loading `base` with the adapter throws an AdapterError whose message contains every part of `want`.
void expect_refused(const std::string& base, const std::string& adapter, const std::vector<std::string>& want) {
  LoadOptions lo;
  lo.load_tokenizer = false;
  lo.lora = {parse_lora_spec(adapter)};
  try {
    load_model(base, lo);
    ADD_FAILURE() << adapter << ": loaded without an error";
  } catch (const AdapterError& e) {
    for (const std::string& w : want) EXPECT_NE(std::string(e.what()).find(w), std::string::npos) << e.what();
  }
}

// One lora_A / lora_B pair for a module of tiny-llama (values irrelevant).
std::vector<SafetensorsEntry> pair(const std::string& module, int64_t r, int64_t in, int64_t out) {
  const std::string p = "base_model.model." + module;
  return {{p + ".lora_A.weight", DType::F32, {r, in}, std::vector<float>(static_cast<size_t>(r * in), 0.01f)},
          {p + ".lora_B.weight", DType::F32, {out, r}, std::vector<float>(static_cast<size_t>(out * r), 0.01f)}};
}

}  // namespace

TEST(LoraErrors, TargetModuleTheModelDoesNotHave) {
  const auto dir = make_adapter("missing-target", [](json& c) { c["target_modules"].push_back("c_attn"); });
  expect_refused(llama_base(), dir, {dir + "/adapter_config.json", "target module 'c_attn' is not a linear layer",
                                     "llama has: down_proj, gate_proj, k_proj, lm_head, o_proj, q_proj, up_proj, v_proj"});
}

TEST(LoraErrors, WeightOfALayerTheModelDoesNotHave) {
  const auto t = pair("model.layers.7.self_attn.q_proj", 4, 64, 64);
  const auto dir = make_adapter("missing-layer", [](json&) {}, &t);
  expect_refused(llama_base(), dir, {"target module 'model.layers.7.self_attn.q_proj': the base model has no such"});
}

TEST(LoraErrors, ShapeMismatch) {
  // tiny-qwen2's adapter (hidden 32) on tiny-llama (hidden 64).
  expect_refused(llama_base(), test::shared_path("fixtures/tiny-qwen2-lora"),
                 {"model.layers.0.self_attn.k_proj': shape mismatch: the adapter's B A is [16, 32] but the base "
                  "weight is [32, 64]"});
}

TEST(LoraErrors, Dora) {
  expect_refused(llama_base(), make_adapter("dora", [](json& c) { c["use_dora"] = true; }), {"use_dora", "DoRA"});
}

TEST(LoraErrors, FanInFanOut) {
  expect_refused(llama_base(), make_adapter("fifo", [](json& c) { c["fan_in_fan_out"] = true; }),
                 {"fan_in_fan_out: true", "not supported"});
}

TEST(LoraErrors, ModulesToSave) {
  expect_refused(llama_base(), make_adapter("mts", [](json& c) { c["modules_to_save"] = {"lm_head"}; }),
                 {"modules_to_save [\"lm_head\"]", "not supported"});
}

TEST(LoraErrors, BiasOtherThanNone) {
  expect_refused(llama_base(), make_adapter("bias", [](json& c) { c["bias"] = "lora_only"; }),
                 {"bias \"lora_only\"", "only \"none\""});
}

TEST(LoraErrors, RankPattern) {
  expect_refused(llama_base(), make_adapter("rank-pattern", [](json& c) { c["rank_pattern"] = {{"q_proj", 8}}; }),
                 {"rank_pattern {\"q_proj\":8}", "layer-specific ranks"});
}

TEST(LoraErrors, AlphaPattern) {
  expect_refused(llama_base(), make_adapter("alpha-pattern", [](json& c) { c["alpha_pattern"] = {{"v_proj", 4}}; }),
                 {"alpha_pattern", "layer-specific ranks or alphas"});
}

TEST(LoraErrors, RankDiffersFromConfig) {
  expect_refused(llama_base(), make_adapter("rank", [](json& c) { c["r"] = 8; }),
                 {"has rank 4, not r = 8"});
}

TEST(LoraErrors, EmbeddingAdapter) {
  std::vector<SafetensorsEntry> t = {
      {"base_model.model.model.embed_tokens.lora_embedding_A", DType::F32, {4, 8}, std::vector<float>(32, 0.f)}};
  const auto dir = make_adapter("embedding", [](json&) {}, &t);
  expect_refused(llama_base(), dir, {"embed_tokens.lora_embedding_A", "embedding"});
}

TEST(LoraErrors, GgufAdapterForAnotherArchitecture) {
  expect_refused(test::shared_path("fixtures/tiny-qwen2/hf"),
                 test::shared_path("fixtures/tiny-llama-lora/adapter-f32.gguf"),
                 {"adapter-f32.gguf: the adapter is for architecture llama, the model is qwen2"});
}

TEST(LoraErrors, NotAnAdapter) {
  expect_refused(llama_base(), test::shared_path("fixtures/tiny-llama/model-q8_0.gguf"),
                 {"model-q8_0.gguf: a GGUF file with general.type", "not a LoRA adapter"});
  expect_refused(llama_base(), llama_base(), {"not a PEFT adapter directory: adapter_config.json is missing"});
  expect_refused(llama_base(), test::scratch_dir() + "/no-such-adapter", {"no-such-adapter: no such file"});
}
