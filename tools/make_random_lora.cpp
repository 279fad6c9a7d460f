// make_random_lora — a PEFT LoRA adapter directory with random weights for a model, on every linear layer of every
// transformer block (not the LM head), for benchmarks of `--lora`.
//
//   make_random_lora --model MODEL --out DIR [--rank 8] [--alpha 16] [--seed 1]
//
// MODEL is anything lmgen loads (its config and architecture give the module names and shapes: the HF names of
// lmgen's architecture table). Writes DIR/adapter_config.json (r, lora_alpha, target_modules, the PEFT defaults)
// and DIR/adapter_model.safetensors (F32): lora_A ~ N(0, 1/in), lora_B ~ N(0, 0.01^2).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>

#include "format/safetensors_writer.hpp"
#include "lmgen/error.hpp"
#include "lmgen/loader.hpp"
#include "load/lora/lora.hpp"

int main(int argc, char** argv) {
  std::string model, out;
  int64_t rank = 8;
  double alpha = 16;
  uint64_t seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--model") model = v;
    else if (k == "--out") out = v;
    else if (k == "--rank") rank = std::stoll(v);
    else if (k == "--alpha") alpha = std::stod(v);
    else if (k == "--seed") seed = std::stoull(v);
    else {
      std::fprintf(stderr, "make_random_lora: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (model.empty() || out.empty() || rank < 1) {
    std::fprintf(stderr, "usage: make_random_lora --model MODEL --out DIR [--rank 8] [--alpha 16] [--seed 1]\n");
    return 2;
  }
  try {
    lmgen::LoadOptions lo;
    lo.load_tokenizer = false;
    const auto md = lmgen::load_model(model, lo).model;
    const lmgen::ArchInfo* arch = lmgen::find_arch(md->config.arch);
    if (arch == nullptr) throw lmgen::Error(model, "unknown architecture");
    const auto targets = lmgen::lora_targets(*arch, arch->hf, md->config, true);
    std::mt19937_64 rng(seed);
    std::vector<lmgen::SafetensorsEntry> tensors;
    std::set<std::string> leaves;
    for (const auto& [name, parts] : targets) {
      if (parts.front().slot == lmgen::LoraSlot::Output) continue;
      int64_t rows = 0;
      for (const auto& t : parts) rows += t.rows;
      const int64_t cols = parts.front().cols;
      const std::string module = name.substr(0, name.size() - 7);
      leaves.insert(module.substr(module.rfind('.') + 1));
      std::normal_distribution<float> na(0.0f, 1.0f / std::sqrt(static_cast<float>(cols))), nb(0.0f, 0.01f);
      lmgen::SafetensorsEntry a{"base_model.model." + module + ".lora_A.weight", lmgen::DType::F32, {rank, cols}, {}};
      lmgen::SafetensorsEntry b{"base_model.model." + module + ".lora_B.weight", lmgen::DType::F32, {rows, rank}, {}};
      for (int64_t i = 0; i < rank * cols; ++i) a.values.push_back(na(rng));
      for (int64_t i = 0; i < rows * rank; ++i) b.values.push_back(nb(rng));
      tensors.push_back(std::move(a));
      tensors.push_back(std::move(b));
    }
    std::filesystem::create_directories(out);
    nlohmann::json cfg = {{"peft_type", "LORA"},       {"task_type", "CAUSAL_LM"}, {"r", rank},
                          {"lora_alpha", alpha},       {"lora_dropout", 0.0},      {"bias", "none"},
                          {"fan_in_fan_out", false},   {"use_rslora", false},      {"use_dora", false},
                          {"target_modules", leaves},  {"rank_pattern", nlohmann::json::object()},
                          {"alpha_pattern", nlohmann::json::object()},             {"modules_to_save", nullptr},
                          {"base_model_name_or_path", model}};
    std::ofstream(out + "/adapter_config.json") << cfg.dump(2) << "\n";
    lmgen::write_safetensors(out + "/adapter_model.safetensors", std::move(tensors));
    std::fprintf(stderr, "make_random_lora: %s: rank %lld on %zu modules\n", out.c_str(), static_cast<long long>(rank),
                 leaves.size());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_random_lora: %s\n", e.what());
    return 1;
  }
  return 0;
}
