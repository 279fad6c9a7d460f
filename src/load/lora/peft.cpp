// Hugging Face PEFT LoRA adapters: a directory with adapter_config.json and adapter_model.safetensors, as
// `save_pretrained` writes them.
//
// adapter_config.json keys lmgen reads: peft_type ("LORA"), r, lora_alpha, use_rslora, target_modules (a list of
// module-name suffixes, or a string: a regex or "all-linear"). Keys that change the computation in ways lmgen does
// not implement are refused, never ignored: use_dora, fan_in_fan_out, modules_to_save, bias other than "none",
// lora_bias, rank_pattern / alpha_pattern (layer-specific ranks), layer_replication, trainable_token_indices.
// adapter_model.safetensors: for every adapted Linear MODULE (the HF module path, e.g.
// model.layers.0.self_attn.q_proj) the tensors base_model.model.MODULE.lora_A.weight [r, in] and
// .lora_B.weight [out, r]; the weight adapted is MODULE.weight of the base model.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "format/safetensors.hpp"
#include "lmgen/error.hpp"
#include "load/lora/lora.hpp"
#include "util/json_file.hpp"

namespace lmgen {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool set_and_not(const json& cfg, const char* key, const json& neutral) {
  const auto it = cfg.find(key);
  return it != cfg.end() && !it->is_null() && *it != neutral;
}

bool non_empty(const json& cfg, const char* key) {
  const auto it = cfg.find(key);
  return it != cfg.end() && !it->is_null() && !it->empty();
}

// Refuses the options lmgen does not implement.
void check_options(const json& cfg, const std::string& file) {
  const auto pt = cfg.find("peft_type");
  if (pt != cfg.end() && *pt != "LORA")
    throw AdapterError(file, "peft_type " + pt->dump() + " is not supported (lmgen applies LORA adapters)");
  if (set_and_not(cfg, "use_dora", false))
    throw AdapterError(file, "use_dora: DoRA adapters (weight-decomposed LoRA) are not supported");
  if (set_and_not(cfg, "fan_in_fan_out", false))
    throw AdapterError(file, "fan_in_fan_out: true (weights stored [in, out], GPT-2 Conv1D) is not supported");
  if (non_empty(cfg, "modules_to_save"))
    throw AdapterError(file, "modules_to_save " + cfg["modules_to_save"].dump() +
                                 ": adapters that replace whole modules are not supported");
  if (set_and_not(cfg, "bias", "none"))
    throw AdapterError(file, "bias " + cfg["bias"].dump() + ": adapters that train biases are not supported (only \"none\")");
  if (set_and_not(cfg, "lora_bias", false))
    throw AdapterError(file, "lora_bias: true (a bias on lora_B) is not supported");
  for (const char* k : {"rank_pattern", "alpha_pattern"})
    if (non_empty(cfg, k))
      throw AdapterError(file, std::string(k) + " " + cfg[k].dump() +
                                   ": layer-specific ranks or alphas are not supported (one r and lora_alpha for all)");
  for (const char* k : {"layer_replication", "trainable_token_indices"})
    if (non_empty(cfg, k)) throw AdapterError(file, std::string(k) + " is not supported");
}

// Every name in a target_modules list must match (exactly, or as a dotted suffix, as PEFT matches) a weight the
// adapter can change.
void check_target_modules(const json& cfg, const LoraTargetMap& targets, const ModelConfig& c, const std::string& file) {
  const auto it = cfg.find("target_modules");
  if (it == cfg.end() || !it->is_array()) return;  // a regex string or "all-linear": the tensors say what is adapted
  std::set<std::string> leaves;
  for (const auto& [name, parts] : targets) {
    const std::string module = name.substr(0, name.size() - 7);  // without ".weight"
    leaves.insert(module.substr(module.rfind('.') + 1));
  }
  for (const auto& t : *it) {
    if (!t.is_string()) throw AdapterError(file, "target_modules must be strings, found " + t.dump());
    const std::string want = t.get<std::string>();
    bool found = false;
    for (const auto& [name, parts] : targets) {
      const std::string module = name.substr(0, name.size() - 7);
      found = found || module == want ||
              (module.size() > want.size() && module.compare(module.size() - want.size(), want.size(), want) == 0 &&
               module[module.size() - want.size() - 1] == '.');
    }
    if (!found) {
      std::string list;
      for (const std::string& l : leaves) list += (list.empty() ? "" : ", ") + l;
      throw AdapterError(file, "target module '" + want + "' is not a linear layer of the base model (" + c.arch +
                                   " has: " + list + ")");
    }
  }
}

double number(const json& cfg, const char* key, const std::string& file) {
  const auto it = cfg.find(key);
  if (it == cfg.end() || !it->is_number() || !std::isfinite(it->get<double>()) || it->get<double>() <= 0)
    throw AdapterError(file, std::string(key) + " must be a positive number");
  return it->get<double>();
}

struct PairTensors {
  std::string a, b;
};

// Groups the file's tensors by module; anything that is not a plain lora_A / lora_B weight is refused by name.
std::map<std::string, PairTensors> group_tensors(const SafetensorsFile& st) {
  static const std::string kPrefix = "base_model.model.";
  std::map<std::string, PairTensors> out;
  for (const SafetensorsTensorInfo& t : st.tensors()) {
    const std::string& n = t.name;
    auto refuse = [&](const std::string& why) { throw AdapterError(st.path(), "tensor '" + n + "': " + why); };
    if (n.rfind(kPrefix, 0) != 0) refuse("expected a name starting with base_model.model.");
    if (n.find("lora_embedding_") != std::string::npos)
      refuse("LoRA on an embedding (embed_tokens) is not supported");
    if (n.find("lora_magnitude_vector") != std::string::npos) refuse("DoRA magnitudes are not supported");
    const std::string rest = n.substr(kPrefix.size());
    const size_t pa = rest.rfind(".lora_A.weight"), pb = rest.rfind(".lora_B.weight");
    if (pa != std::string::npos && pa + 14 == rest.size()) out[rest.substr(0, pa)].a = n;
    else if (pb != std::string::npos && pb + 14 == rest.size()) out[rest.substr(0, pb)].b = n;
    else refuse("not a lora_A / lora_B weight (biases and saved modules are not supported)");
  }
  return out;
}

}  // namespace

LoraAdapterData read_peft_adapter(const std::string& dir, const ModelConfig& c) {
  const std::string cfg_path = (fs::path(dir) / "adapter_config.json").string();
  const std::string st_path = (fs::path(dir) / "adapter_model.safetensors").string();
  std::error_code ec;
  if (!fs::is_regular_file(cfg_path, ec))
    throw AdapterError(dir, "not a PEFT adapter directory: adapter_config.json is missing");
  const json cfg = read_json_object_file(cfg_path);
  if (!fs::exists(st_path, ec))
    throw AdapterError(dir, fs::exists(fs::path(dir) / "adapter_model.bin", ec)
                                ? "adapter_model.bin (a PyTorch pickle) is not read: save the adapter as safetensors "
                                  "(save_pretrained(..., safe_serialization=True))"
                                : "adapter_model.safetensors is missing");
  check_options(cfg, cfg_path);
  const double r = number(cfg, "r", cfg_path), alpha = number(cfg, "lora_alpha", cfg_path);
  const bool rslora = cfg.value("use_rslora", false);
  const ArchInfo* arch = find_arch(c.arch);
  if (arch == nullptr) throw AdapterError(dir, "the base model's architecture " + c.arch + " is not in lmgen's table");
  const LoraTargetMap targets = lora_targets(*arch, arch->hf, c, true);
  check_target_modules(cfg, targets, c, cfg_path);

  LoraAdapterData out;
  out.path = dir;
  out.format = "PEFT";
  out.hf_names = true;
  out.qk_interleaved = false;
  const double scaling = rslora ? alpha / std::sqrt(r) : alpha / r;
  char buf[160];
  std::snprintf(buf, sizeof buf, "r %g, lora_alpha %g, %s = %g", r, alpha, rslora ? "alpha/sqrt(r)" : "alpha/r",
                scaling);
  out.describe = buf;
  const SafetensorsFile st(st_path);
  for (const auto& [module, names] : group_tensors(st)) {
    if (names.a.empty() || names.b.empty())
      throw AdapterError(st_path, "module '" + module + "' has only " + (names.a.empty() ? "lora_B" : "lora_A"));
    const TensorView a = st.tensor(names.a), b = st.tensor(names.b);
    if (a.shape.size() != 2 || b.shape.size() != 2 || a.shape[0] != b.shape[1])
      throw AdapterError(st_path, "module '" + module + "': lora_A " + a.shape_str() + " and lora_B " +
                                      b.shape_str() + " are not [r, in] and [out, r]");
    if (static_cast<double>(a.shape[0]) != r)
      throw AdapterError(st_path, "module '" + module + "' has rank " + std::to_string(a.shape[0]) + ", not r = " +
                                      std::to_string(static_cast<int64_t>(r)) + " (layer-specific ranks are not supported)");
    LoraPair p;
    p.weight = module + ".weight";
    p.rank = a.shape[0];
    p.in = a.shape[1];
    p.out = b.shape[0];
    p.scaling = scaling;
    check_pair(targets, p, st_path, module);
    p.a = tensor_floats(a);
    p.b = tensor_floats(b);
    out.pairs.push_back(std::move(p));
  }
  if (out.pairs.empty()) throw AdapterError(st_path, "the adapter has no LoRA weights");
  return out;
}

}  // namespace lmgen
