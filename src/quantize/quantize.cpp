// quantize_gguf (quantize.hpp): the plan, the LoRA merge into it, and the encoding of each tensor's rows on a
// ThreadPool while GgufWriter writes the file.
#include "quantize/quantize.hpp"

#include <cstring>
#include <filesystem>
#include <map>
#include <memory>

#include "format/gguf_writer.hpp"
#include "kernels/quant.hpp"
#include "kernels/threads.hpp"
#include "lmgen/error.hpp"
#include "load/loaders.hpp"
#include "load/lora/lora.hpp"

namespace lmgen {

namespace {

void poll(const QuantizeOptions& opt) {
  if (opt.poll) opt.poll();
}

// Points plans[i].merged at the merged matrices of each file tensor the adapters changed.
void point_plans_at(const GgufFile& g, const LoraTargetMap& targets, Weights& w,
                    const std::map<std::string, std::vector<const uint8_t*>>& before, const std::string& adapter,
                    std::vector<TensorPlan>& plans) {
  std::map<std::string, TensorPlan*, std::less<>> by_name;
  for (TensorPlan& p : plans) by_name[p.src->name] = &p;
  for (const auto& [name, ts] : targets) {
    bool changed = false;
    for (size_t i = 0; i < ts.size(); ++i) changed = changed || lora_matrix(w, ts[i]).data != before.at(name)[i];
    if (!changed) continue;
    const auto it = by_name.find(name);
    if (it == by_name.end())
      throw AdapterError(adapter, "the adapters change " + name + ", which " + g.path() +
                                      " does not hold (its LM head is tied to the token embedding): quantize cannot "
                                      "write the merged head as this model's tensors; apply the adapter at load "
                                      "instead");
    TensorPlan& p = *it->second;
    int64_t rows = 0;
    for (const LoraTarget& t : ts) {
      const Matrix& m = lora_matrix(w, t);
      if (t.row0 != rows || m.cols != p.shape.back())
        throw Error(g.path(), "the merged matrices of " + name + " do not tile the tensor");
      rows += m.rows;
      p.merged.push_back(m);
    }
    if (p.shape.size() != 2 || rows != p.shape.front())
      throw Error(g.path(), "the merged matrices of " + name + " do not tile the tensor");
  }
}

// Loads g's model (the loader load_model uses), merges the adapters with the library's merge and points the plan
// of every file tensor whose matrices changed at the merged matrices. The returned model owns them.
std::unique_ptr<ModelData> merge_lora(const GgufFile& g, const std::vector<LoraSpec>& specs, QuantizePlan& plan) {
  auto md = std::make_unique<ModelData>(load_gguf_model(g));
  const ModelConfig& c = md->config;
  const ArchInfo* arch = find_arch(c.arch);
  if (arch == nullptr) throw Error(g.path(), "architecture " + c.arch + " is not in lmgen's table");
  // Every matrix an adapter could change, by file tensor name, and where its data was before the merge.
  const LoraTargetMap targets = lora_targets(*arch, arch->gguf, c, /*hf_names=*/false);
  std::map<std::string, std::vector<const uint8_t*>> before;
  for (const auto& [name, ts] : targets)
    for (const LoraTarget& t : ts) before[name].push_back(lora_matrix(md->weights, t).data);
  plan.lora_notes = apply_lora_adapters(*md, specs);
  point_plans_at(g, targets, md->weights, before, specs.front().path, plan.tensors);
  return md;
}

// The file's tensor of a plan as one matrix: rows = all leading dimensions (`base`: the mapped file).
Matrix file_matrix(const TensorPlan& p, const uint8_t* base) {
  Matrix whole;
  whole.type = p.src->type;
  whole.cols = p.shape.back();
  whole.rows = 1;
  for (size_t d = 0; d + 1 < p.shape.size(); ++d) whole.rows *= p.shape[d];
  whole.data = base + p.src->offset;
  whole.row_stride = row_bytes(whole.type, whole.cols);
  return whole;
}

// Re-encodes the rows of one tensor on the pool. `parts` hold its rows in order (the file's tensor as one part,
// or the merged matrices); a row already of the target type is copied.
void encode_tensor(const TensorPlan& p, const std::vector<Matrix>& parts, uint8_t* dst, ThreadPool& pool,
                   const QuantizeOptions& opt) {
  const int64_t cols = p.shape.back();
  int64_t rows = 0;
  std::vector<int64_t> first;  // first tensor row of each part
  for (const Matrix& m : parts) {
    first.push_back(rows);
    rows += m.rows;
  }
  const size_t out_row = row_bytes(p.type, cols);
  const int64_t min_rows_per_task = 16;
  pool.parallel_for(rows, min_rows_per_task, [&](int64_t r0, int64_t r1) {
    std::vector<float> buf(static_cast<size_t>(cols));
    size_t k = 0;
    for (int64_t r = r0; r < r1; ++r) {
      if ((r & 63) == 0) poll(opt);
      while (r >= first[k] + parts[k].rows) ++k;
      const Matrix& m = parts[k];
      uint8_t* out = dst + static_cast<size_t>(r) * out_row;
      if (m.type == p.type) {
        std::memcpy(out, m.row(r - first[k]), out_row);
        continue;
      }
      dequantize_row(m.type, m.row(r - first[k]), buf.data(), cols);
      quantize_row(p.type, buf.data(), out, cols);
    }
  });
}

}  // namespace

QuantizePlan quantize_gguf(const std::string& in, const std::string& out, const QuantizeOptions& opt) {
  namespace fs = std::filesystem;
  const FileTypeInfo& ft = file_type_info(opt.type);
  std::error_code ec;
  if (!GgufFile::sniff(in)) throw Error(in, "not a GGUF file (quantize reads GGUF models)");
  if (fs::exists(out, ec) && fs::equivalent(in, out, ec))
    throw UsageError("quantize: the output would overwrite the input " + in);
  GgufFile g(in);
  QuantizePlan plan;
  plan.tensors = plan_tensors(g, ft, opt.pure);
  plan.input_bytes = static_cast<int64_t>(fs::file_size(in));
  for (const TensorPlan& p : plan.tensors) plan.tensor_bytes += static_cast<int64_t>(p.src->nbytes);
  std::unique_ptr<ModelData> merged;  // owns the merged matrices the plans point at
  if (!opt.lora.empty()) merged = merge_lora(g, opt.lora, plan);
  if (opt.on_plan) opt.on_plan(plan);

  GgufWriter w;
  if (const GgufValue* arch = g.find("general.architecture")) w.set_value("general.architecture", *arch);
  for (const auto& [key, value] : g.metadata()) w.set_value(key, value);
  w.set_u32("general.file_type", static_cast<uint32_t>(ft.id));
  w.set_u32("general.quantization_version", 2);  // llama-quantize sets it whatever the target

  ThreadPool pool(opt.n_threads);
  const uint8_t* base = g.file()->data();
  int64_t done_bytes = 0, done_tensors = 0;
  for (const TensorPlan& p : plan.tensors) {
    const TensorPlan* pp = &p;
    w.add_tensor(p.src->name, p.type, p.shape, [&, pp](uint8_t* dst, size_t) {
      poll(opt);
      if (pp->merged.empty()) encode_tensor(*pp, {file_matrix(*pp, base)}, dst, pool, opt);
      else encode_tensor(*pp, pp->merged, dst, pool, opt);
      done_bytes += static_cast<int64_t>(pp->src->nbytes);
      if (opt.on_tensor) opt.on_tensor(++done_tensors, done_bytes);
    });
  }
  w.write(out);
  try {
    poll(opt);  // a stop after the last tensor still leaves no output
  } catch (...) {
    fs::remove(out, ec);
    throw;
  }
  return plan;
}

}  // namespace lmgen
