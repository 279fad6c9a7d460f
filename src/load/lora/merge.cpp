// Merging LoRA adapters into a loaded model's weights (the choice and its measurements: README "Fine-tuned
// models"). Every adapter is read and checked against the model before any weight changes; then each adapted
// matrix is rebuilt once, with all adapters' deltas added:
//   W'[r] = W[r] + sum over adapters of s * scaling * B[r'] A     (in double, rounded once to float)
// where r' is r mapped between llama.cpp's permuted q/k row order and HF's when the adapter and the model differ.
// F32 matrices stay F32. F16 / BF16 matrices become F32 copies, so the merged weights are not rounded to 16 bits
// (that rounding alone moves tiny-qwen2's logits by more than the fixtures' tolerance). Quantized matrices are
// dequantized, merged and re-quantized to their own type with ggml's reference rounding (lmgen quantize's), as
// the notes say.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "format/gguf.hpp"
#include "format/mapped_file.hpp"
#include "kernels/quant.hpp"
#include "kernels/threads.hpp"
#include "lmgen/error.hpp"
#include "load/lora/lora.hpp"

namespace lmgen {

namespace {

namespace fs = std::filesystem;

LoraAdapterData read_adapter(const std::string& path, const ModelConfig& c) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return read_peft_adapter(path, c);
  const std::string file = fs::path(path).filename().string();
  if (file == "adapter_config.json" || file == "adapter_model.safetensors")
    return read_peft_adapter(fs::path(path).parent_path().string(), c);
  if (!fs::exists(path, ec)) throw AdapterError(path, "no such file or directory");
  if (GgufFile::sniff(path)) return read_gguf_adapter(path, c);
  throw AdapterError(path, "not a LoRA adapter: expected a PEFT directory (adapter_config.json + "
                           "adapter_model.safetensors) or a GGUF LoRA file");
}

// One adapter pair's share of one canonical matrix.
struct Contribution {
  const LoraPair* pair;
  int64_t row0;          // first row of the pair's B that belongs to this matrix
  double scale;          // user scale x adapter scaling
  std::vector<int64_t> row_map;  // base row -> B row (minus row0) when the q/k row orders differ; empty = same
};

std::vector<int64_t> row_map(const LoraTarget& t, const ModelConfig& c, bool adapter_interleaved) {
  const bool base_interleaved = c.rope == RopeStyle::Interleaved;
  if (adapter_interleaved == base_interleaved || (t.slot != LoraSlot::Q && t.slot != LoraSlot::K)) return {};
  const int64_t heads = t.slot == LoraSlot::Q ? c.n_head : c.n_head_kv;
  std::vector<int64_t> m(static_cast<size_t>(t.rows));
  for (int64_t r = 0; r < t.rows; ++r) {
    const int64_t src = llama_permuted_row(r, t.rows, heads);
    if (base_interleaved) m[static_cast<size_t>(r)] = src;  // base row r holds HF row src
    else m[static_cast<size_t>(src)] = r;                   // adapter row r holds HF row src
  }
  return m;
}

// The type a merged matrix is stored in: quantized types keep theirs, float types become F32.
DType merged_type(DType t) { return dtype_traits(t).block_size > 1 ? t : DType::F32; }

size_t merged_bytes(const Matrix& m) {
  return (row_bytes(merged_type(m.type), m.cols) * static_cast<size_t>(m.rows) + 63) / 64 * 64;
}

// Rebuilds matrix m with the contributions added into dst (merged_bytes(m) bytes); returns the new matrix.
Matrix merged(const Matrix& m, const std::vector<Contribution>& cs, uint8_t* dst, ThreadPool& pool) {
  Matrix out = m;
  out.type = merged_type(m.type);
  out.row_stride = row_bytes(out.type, m.cols);
  const size_t in = static_cast<size_t>(m.cols);
  pool.parallel_for(m.rows, 16, [&](int64_t r0, int64_t r1) {
    std::vector<float> row(in);
    std::vector<double> acc(in);
    for (int64_t r = r0; r < r1; ++r) {
      dequantize_row(m.type, m.row(r), row.data(), m.cols);
      for (size_t i = 0; i < in; ++i) acc[i] = row[i];
      for (const Contribution& c : cs) {
        const LoraPair& p = *c.pair;
        const int64_t br = c.row0 + (c.row_map.empty() ? r : c.row_map[static_cast<size_t>(r)]);
        for (int64_t k = 0; k < p.rank; ++k) {
          const double bk = c.scale * p.b[static_cast<size_t>(br * p.rank + k)];
          const float* a = p.a.data() + static_cast<size_t>(k) * in;
          for (size_t i = 0; i < in; ++i) acc[i] += bk * a[i];
        }
      }
      for (size_t i = 0; i < in; ++i) row[i] = static_cast<float>(acc[i]);
      quantize_row(out.type, row.data(), dst + static_cast<size_t>(r) * out.row_stride, m.cols);
    }
  });
  out.data = dst;
  return out;
}

bool can_requantize(DType t) {
  switch (t) {
    case DType::Q4_0: case DType::Q4_1: case DType::Q5_0: case DType::Q5_1: case DType::Q8_0:
    case DType::Q2_K: case DType::Q3_K: case DType::Q4_K: case DType::Q5_K: case DType::Q6_K:
    case DType::IQ4_NL: case DType::IQ4_XS:
      return true;
    default:
      return false;
  }
}

std::string fmt_scale(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

}  // namespace

LoraSpec parse_lora_spec(const std::string& arg) {
  LoraSpec s;
  s.path = arg;
  const size_t colon = arg.rfind(':');
  if (colon != std::string::npos && colon + 1 < arg.size()) {
    const std::string tail = arg.substr(colon + 1);
    char* end = nullptr;
    const double v = std::strtod(tail.c_str(), &end);
    if (end == tail.c_str() + tail.size() && std::isfinite(v)) {
      s.path = arg.substr(0, colon);
      s.scale = v;
    }
  }
  if (s.path.empty()) throw UsageError("LoRA adapter: no path in '" + arg + "' (PATH or PATH:SCALE)");
  return s;
}

std::vector<std::string> apply_lora_adapters(ModelData& md, const std::vector<LoraSpec>& specs) {
  if (specs.empty()) return {};
  const ModelConfig& c = md.config;
  const ArchInfo* arch = find_arch(c.arch);
  if (arch == nullptr) throw Error(md.source, "architecture " + c.arch + " is not in lmgen's table");
  std::vector<LoraAdapterData> adapters;
  for (const LoraSpec& s : specs) adapters.push_back(read_adapter(s.path, c));  // all checked before any merge

  const LoraTargetMap hf = lora_targets(*arch, arch->hf, c, true), gguf = lora_targets(*arch, arch->gguf, c, false);
  std::map<std::pair<int64_t, int>, std::pair<LoraTarget, std::vector<Contribution>>> by_matrix;
  std::vector<std::string> notes;
  for (size_t i = 0; i < adapters.size(); ++i) {
    const LoraAdapterData& ad = adapters[i];
    int64_t n = 0;
    for (const LoraPair& p : ad.pairs)
      for (const LoraTarget& t : (ad.hf_names ? hf : gguf).at(p.weight)) {
        auto& entry = by_matrix[{t.layer, static_cast<int>(t.slot)}];
        entry.first = t;
        entry.second.push_back({&p, t.row0, specs[i].scale * p.scaling, row_map(t, c, ad.qk_interleaved)});
        ++n;
      }
    notes.push_back("LoRA " + ad.path + " (" + ad.format + ", " + ad.describe + ") x scale " +
                    fmt_scale(specs[i].scale) + ": " + std::to_string(n) + " weight matrices");
  }

  std::map<DType, int64_t> widened, requantized;
  for (const auto& [key, entry] : by_matrix) {
    const Matrix& m = lora_matrix(md.weights, entry.first);
    if (dtype_traits(m.type).block_size > 1 && !can_requantize(m.type))
      throw AdapterError(specs.front().path, std::string("the model's ") + dtype_name(m.type) +
                                                 " weights cannot be re-quantized after the merge; use an F16/F32 "
                                                 "or Q8_0/Q4_0/K-quant model");
  }
  // One huge-page arena for every merged matrix, 64-byte aligned each: they then stream like mapped weights (with
  // separate heap buffers, generation was observed at 85 instead of 218 tok/s: BENCHMARKS.md "LoRA").
  size_t total = 0;
  for (const auto& [key, entry] : by_matrix) total += merged_bytes(lora_matrix(md.weights, entry.first));
  const std::shared_ptr<uint8_t> arena = huge_page_buffer(total);
  md.weights.keep_alive.push_back(arena);
  ThreadPool pool(0);
  size_t offset = 0;
  for (auto& [key, entry] : by_matrix) {
    Matrix& m = lora_matrix(md.weights, entry.first);
    if (m.type == DType::F16 || m.type == DType::BF16) ++widened[m.type];
    else if (m.type != DType::F32) ++requantized[m.type];
    const size_t n = merged_bytes(m);
    m = merged(m, entry.second, arena.get() + offset, pool);
    offset += n;
  }
  for (const auto& [t, n] : widened)
    notes.push_back(std::to_string(n) + " " + dtype_name(t) +
                    " matrices merged into F32 copies (the merged weights are not rounded back to 16 bits)");
  for (const auto& [t, n] : requantized)
    notes.push_back(std::to_string(n) + " " + dtype_name(t) + " matrices dequantized, merged in float and " +
                    "re-quantized to " + dtype_name(t) + " (ggml's reference rounding, as lmgen quantize)");
  return notes;
}

}  // namespace lmgen
