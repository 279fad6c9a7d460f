// llama.cpp GGUF LoRA adapters (what convert_lora_to_gguf.py writes): metadata general.type = "adapter",
// adapter.type = "lora", general.architecture (must be the base model's), adapter.lora.alpha (optional); for each
// adapted weight NAME (a GGUF tensor name of the base, e.g. blk.0.attn_q.weight) the tensors NAME.lora_a
// (ggml ne [in, r], i.e. [r, in] row-major) and NAME.lora_b (ne [r, out]: [out, r]). As llama.cpp, the scaling is
// alpha / r per weight, or 1 when the file has no alpha (or 0); use_rslora does not exist in this form. For
// architectures whose GGUF Q/K rows are permuted (llama), the converter permuted lora_b's q / k rows the same way.
#include <cstdio>

#include "format/gguf.hpp"
#include "lmgen/error.hpp"
#include "load/lora/lora.hpp"

namespace lmgen {

LoraAdapterData read_gguf_adapter(const std::string& path, const ModelConfig& c) {
  const GgufFile g(path);
  const std::string type = g.get_string_opt("general.type").value_or("");
  if (type != "adapter")
    throw AdapterError(path, "a GGUF file with general.type \"" + type + "\", not a LoRA adapter (\"adapter\")");
  const std::string kind = g.get_string_opt("adapter.type").value_or("");
  if (kind != "lora")
    throw AdapterError(path, "adapter.type \"" + kind + "\" is not supported (lmgen applies \"lora\" adapters)");
  const std::string arch_name = g.get_string("general.architecture");
  if (arch_name != c.arch)
    throw AdapterError(path, "the adapter is for architecture " + arch_name + ", the model is " + c.arch);
  const ArchInfo* arch = find_arch(c.arch);
  if (arch == nullptr) throw AdapterError(path, "architecture " + c.arch + " is not in lmgen's table");
  const double alpha = g.get_float_opt("adapter.lora.alpha").value_or(0.0);
  const LoraTargetMap targets = lora_targets(*arch, arch->gguf, c, false);

  LoraAdapterData out;
  out.path = path;
  out.format = "GGUF";
  out.hf_names = false;
  out.qk_interleaved = arch->gguf_rope == RopeStyle::Interleaved;
  std::map<std::string, std::pair<const GgufTensorInfo*, const GgufTensorInfo*>> by_weight;
  for (const GgufTensorInfo& t : g.tensors()) {
    const size_t dot = t.name.rfind('.');
    const std::string suffix = dot == std::string::npos ? "" : t.name.substr(dot + 1);
    if (suffix != "lora_a" && suffix != "lora_b")
      throw AdapterError(path, "tensor '" + t.name + "' is not a .lora_a / .lora_b weight");
    auto& slot = by_weight[t.name.substr(0, dot)];
    (suffix == "lora_a" ? slot.first : slot.second) = &t;
  }
  int64_t rank = 0;
  for (const auto& [weight, ab] : by_weight) {
    if (ab.first == nullptr || ab.second == nullptr)
      throw AdapterError(path, "weight '" + weight + "' has only " + (ab.first == nullptr ? "lora_b" : "lora_a"));
    const TensorView a = g.tensor(ab.first->name), b = g.tensor(ab.second->name);
    if (a.shape.size() != 2 || b.shape.size() != 2 || a.shape[0] != b.shape[1])
      throw AdapterError(path, "weight '" + weight + "': lora_a " + a.shape_str() + " and lora_b " + b.shape_str() +
                                   " are not [r, in] and [out, r] (row-major)");
    LoraPair p;
    p.weight = weight;
    p.rank = a.shape[0];
    p.in = a.shape[1];
    p.out = b.shape[0];
    p.scaling = alpha > 0 ? alpha / static_cast<double>(p.rank) : 1.0;
    check_pair(targets, p, path, weight);
    p.a = tensor_floats(a);
    p.b = tensor_floats(b);
    rank = p.rank;
    out.pairs.push_back(std::move(p));
  }
  if (out.pairs.empty()) throw AdapterError(path, "the adapter has no LoRA weights");
  char buf[160];
  if (alpha > 0)
    std::snprintf(buf, sizeof buf, "r %lld, alpha %g, alpha/r = %g", static_cast<long long>(rank), alpha,
                  alpha / static_cast<double>(rank));
  else
    std::snprintf(buf, sizeof buf, "r %lld, no alpha: scaling 1", static_cast<long long>(rank));
  out.describe = buf;
  return out;
}

}  // namespace lmgen
