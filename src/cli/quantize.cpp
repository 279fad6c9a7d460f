// `lmgen quantize IN OUT --type TYPE`: re-encodes the weights of a GGUF model and writes a GGUF file that lmgen and
// llama.cpp both load.
//
// Which tensor gets which type follows llama.cpp's llama-quantize (facts of its documented behaviour, code written
// here):
//   * Only 2-D+ tensors whose name ends in "weight" are re-encoded, except norms ("*_norm.weight") and learned
//     position embeddings (position_embd.weight), which keep their type. 1-D tensors (norms, biases) are written
//     as F32.
//   * f32 / f16 / bf16 targets: every re-encoded tensor gets that type (no per-tensor rules).
//   * Quantized targets start from the type's base (q4_k_m -> Q4_K, q5_k_m -> Q5_K) and then:
//       - output.weight (or token_embd.weight when the head is tied to it): Q6_K, unless the target is q8_0 (stays
//         Q8_0) or its rows are not a multiple of the base type's block (Q8_0);
//       - q4_k_m / q5_k_m: attn_v.weight and ffn_down.weight use Q6_K on the "more bits" layers
//         (i < n/8, i >= 7n/8, or (i - n/8) % 3 == 2, counted over the tensors of that kind);
//         fused attn_qkv.weight (gpt2) uses Q5_K (q4_k_m) / Q6_K (q5_k_m);
//       - a row length that is not a multiple of the chosen type's block falls back:
//         Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, and to F16 if even that does not fit
//         (e.g. SmolLM2's 576-wide rows cannot hold 256-element K-quant blocks).
//     --pure turns the rules off (all re-encoded tensors get the base type; the fallback still applies).
//   * Metadata is copied; general.file_type is set to llama.cpp's llama_ftype number and
//     general.quantization_version to 2 (as llama-quantize does, also for f32/f16/bf16 targets). Alignment 32 (or the source's general.alignment).
// Re-encoding decodes each source row to F32 (any type lmgen reads) and encodes it with lmgen::quantize_row
// (ggml's reference rounding). A Hugging Face directory as input is first converted to an F32 GGUF (lmgen's
// convert_hf_to_gguf, convert/convert.hpp) in a temporary file next to OUT, which is removed afterwards.
//
// --lora PATH[:SCALE] (repeatable) writes one merged model. A GGUF input is loaded as load_model loads it
// (load_gguf_model) and the adapters are merged by the library's own merge (apply_lora_adapters, lora/merge.cpp),
// exactly as `--lora` at load does; every file tensor whose matrices the merge replaced is then encoded from those
// merged matrices instead of the file's bytes (a fused q|k|v or gate|up tensor from all of its matrices, in order).
// The merge keeps a quantized matrix's type, so with the base's own type as target (Q8_0 base, --type q8_0) the
// written bytes are the load-time merged bytes; another target re-encodes the merged matrices like any other tensor
// (from a quantized base that is one rounding more than quantizing the merge's float result). A merged head of a
// model whose head is tied to token_embd (no output.weight in the file) cannot be written as that model's tensors
// and is refused. A Hugging Face directory input is converted with the adapters merged (as `convert --lora`).
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <thread>

#include <unistd.h>

#include "cli/cli.hpp"
#include "convert/convert.hpp"
#include "lmgen/error.hpp"
#include "format/gguf_writer.hpp"
#include "kernels/quant.hpp"
#include "load/loaders.hpp"
#include "lora/lora.hpp"

namespace lmgen::cli {

namespace {

struct FileType {
  const char* name;
  DType base;
  uint32_t llama_ftype;
};

constexpr FileType kFileTypes[] = {
    {"f32", DType::F32, 0},      {"f16", DType::F16, 1},       {"q4_0", DType::Q4_0, 2},
    {"q4_1", DType::Q4_1, 3},    {"q8_0", DType::Q8_0, 7},     {"q5_0", DType::Q5_0, 8},
    {"q5_1", DType::Q5_1, 9},    {"q4_k_m", DType::Q4_K, 15},  {"q5_k_m", DType::Q5_K, 17},
    {"q6_k", DType::Q6_K, 18},   {"bf16", DType::BF16, 32},
};

const FileType& file_type_from_name(std::string name, const char* command = "quantize") {
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const FileType& f : kFileTypes)
    if (name == f.name) return f;
  std::string all;
  for (const FileType& f : kFileTypes) all += std::string(all.empty() ? "" : ", ") + f.name;
  throw UsageError(std::string(command) + ": unknown --type '" + name + "' (one of: " + all + ")");
}

bool is_float_type(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

bool use_more_bits(int64_t i, int64_t n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

// Type to use when a row of `cols` elements does not hold whole blocks of `t` (llama.cpp's fallback chain).
DType fallback(DType t, int64_t cols, const std::string& name) {
  if (cols % dtype_traits(t).block_size == 0) return t;
  DType f;
  switch (t) {
    case DType::Q4_K: f = DType::Q5_0; break;
    case DType::Q5_K: f = DType::Q5_1; break;
    case DType::Q6_K: f = DType::Q8_0; break;
    case DType::Q4_0: case DType::Q4_1: case DType::Q5_0: case DType::Q5_1: case DType::Q8_0: f = DType::F16; break;
    default: throw Error("quantize: tensor '" + name + "' has rows of " + std::to_string(cols) +
                         " elements, which no fallback type fits");
  }
  if (cols % dtype_traits(f).block_size != 0) f = DType::F16;
  return f;
}

struct Plan {
  const GgufTensorInfo* src = nullptr;
  std::vector<int64_t> shape;  // row-major
  DType type = DType::F32;
  bool fell_back = false;
  std::vector<Matrix> merged;  // --lora: the tensor's rows as the merge left them, in file order (empty: the file's)
};

std::vector<Plan> plan_types(const GgufFile& g, const FileType& ft, bool pure) {
  const bool has_output = g.find_tensor("output.weight") != nullptr;
  int64_t n_attn_v = 0, n_ffn_down = 0;
  for (const auto& t : g.tensors()) {
    if (contains(t.name, "attn_v.weight") || contains(t.name, "attn_qkv.weight")) ++n_attn_v;
    if (contains(t.name, "ffn_down.weight")) ++n_ffn_down;
  }
  int64_t i_attn_v = 0, i_ffn_down = 0;
  const bool km = ft.llama_ftype == 15 || ft.llama_ftype == 17;  // Q4_K_M, Q5_K_M
  std::vector<Plan> plans;
  for (const auto& t : g.tensors()) {
    Plan p;
    p.src = &t;
    p.shape.assign(t.ne.rbegin(), t.ne.rend());
    const int64_t cols = t.ne.empty() ? 0 : t.ne[0];
    bool requant = ends_with(t.name, "weight") && t.ne.size() >= 2 && !contains(t.name, "_norm.weight") &&
                   t.name != "position_embd.weight" && t.name != "token_types.weight";
    if (t.ne.size() < 2) {
      p.type = DType::F32;
    } else if (!requant) {
      p.type = t.type;
    } else {
      DType nt = ft.base;
      if (!pure && !is_float_type(ft.base)) {
        if (t.name == "output.weight" || (!has_output && t.name == "token_embd.weight")) {
          if (cols % dtype_traits(ft.base).block_size != 0) nt = DType::Q8_0;
          else if (ft.base != DType::Q8_0) nt = DType::Q6_K;
        } else if (contains(t.name, "attn_v.weight")) {
          if (km && use_more_bits(i_attn_v, n_attn_v)) nt = DType::Q6_K;
          ++i_attn_v;
        } else if (contains(t.name, "attn_qkv.weight")) {
          if (ft.llama_ftype == 15) nt = DType::Q5_K;
          else if (ft.llama_ftype == 17) nt = DType::Q6_K;
        } else if (contains(t.name, "ffn_down.weight")) {
          if (km && use_more_bits(i_ffn_down, n_ffn_down)) nt = DType::Q6_K;
          ++i_ffn_down;
        }
      }
      p.type = fallback(nt, cols, t.name);
      p.fell_back = p.type != nt;
    }
    plans.push_back(std::move(p));
  }
  return plans;
}

// The type the rows of p are read from: the file's, or the merged matrices' (--lora).
DType source_type(const Plan& p) { return p.merged.empty() ? p.src->type : p.merged.front().type; }

// Re-encodes the rows of one tensor with up to n_threads threads. `parts` hold its rows in order (the file's
// tensor as one part, or the merged matrices); a part already of the target type is copied.
void convert_tensor(const Plan& p, const std::vector<Matrix>& parts, uint8_t* dst, int n_threads) {
  const int64_t cols = p.shape.back();
  int64_t rows = 0;
  std::vector<int64_t> first;  // first tensor row of each part
  bool all_copied = true;
  for (const Matrix& m : parts) {
    first.push_back(rows);
    rows += m.rows;
    all_copied = all_copied && m.type == p.type;
  }
  const size_t out_row = row_bytes(p.type, cols);
  if (all_copied) {
    for (size_t k = 0; k < parts.size(); ++k)
      for (int64_t r = 0; r < parts[k].rows; ++r)
        std::memcpy(dst + static_cast<size_t>(first[k] + r) * out_row, parts[k].row(r), out_row);
    return;
  }
  auto work = [&](int64_t r0, int64_t r1) {
    std::vector<float> buf(static_cast<size_t>(cols));
    size_t k = 0;
    for (int64_t r = r0; r < r1; ++r) {
      if ((r & 63) == 0 && interrupted()) throw Interrupted();  // Ctrl-C: the writer removes its temporary file
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
  };
  const int64_t min_rows_per_thread = 16;
  int nt = static_cast<int>(std::min<int64_t>(n_threads, std::max<int64_t>(1, rows / min_rows_per_thread)));
  if (nt <= 1) {
    work(0, rows);
    return;
  }
  std::vector<std::thread> threads;
  std::vector<std::exception_ptr> errors(static_cast<size_t>(nt));
  for (int k = 0; k < nt; ++k)
    threads.emplace_back([&, k] {
      try {
        work(rows * k / nt, rows * (k + 1) / nt);
      } catch (...) {
        errors[static_cast<size_t>(k)] = std::current_exception();
      }
    });
  for (auto& th : threads) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

struct QuantizeArgs {
  std::string in, out, type, type_positional;
  std::string label;  // the input as the user named it, when `in` is a temporary file
  int threads = 0;
  bool pure = false;
  int verbose = 0;
  bool quiet = false;
  std::string color = "auto";
  std::vector<std::string> lora;  // --lora PATH[:SCALE]: merged before writing
};

int run_quantize_gguf(const QuantizeArgs& a);

// --lora on a GGUF input: loads g's model (the loader load_model uses), merges the adapters with the library's merge
// (lora/merge.cpp, as at load; AdapterError for an adapter that does not fit) and points the plan of every file
// tensor whose matrices changed at the merged matrices. The returned model owns them. `notes`: the merge's notes.
std::unique_ptr<ModelData> merge_lora(const GgufFile& g, const std::vector<std::string>& lora,
                                      std::vector<Plan>& plans, std::vector<std::string>& notes) {
  std::vector<LoraSpec> specs;
  for (const std::string& l : lora) specs.push_back(parse_lora_spec(l));
  auto md = std::make_unique<ModelData>(load_gguf_model(g));
  const ModelConfig& c = md->config;
  const ArchInfo* arch = find_arch(c.arch);
  if (arch == nullptr) throw Error(g.path(), "architecture " + c.arch + " is not in lmgen's table");
  // Every matrix an adapter could change, by file tensor name, and where its data was before the merge.
  const LoraTargetMap targets = lora_targets(*arch, arch->gguf, c, /*hf_names=*/false);
  std::map<std::string, std::vector<const uint8_t*>> before;
  for (const auto& [name, ts] : targets)
    for (const LoraTarget& t : ts) before[name].push_back(lora_matrix(md->weights, t).data);
  notes = apply_lora_adapters(*md, specs);
  std::map<std::string, Plan*, std::less<>> by_name;
  for (Plan& p : plans) by_name[p.src->name] = &p;
  for (const auto& [name, ts] : targets) {
    bool changed = false;
    for (size_t i = 0; i < ts.size(); ++i)
      changed = changed || lora_matrix(md->weights, ts[i]).data != before[name][i];
    if (!changed) continue;
    const auto it = by_name.find(name);
    if (it == by_name.end())
      throw AdapterError(specs.front().path,
                         "the adapters change " + name + ", which " + g.path() +
                             " does not hold (its LM head is tied to the token embedding): quantize cannot write "
                             "the merged head as this model's tensors; apply the adapter at load (--lora) instead");
    Plan& p = *it->second;
    int64_t rows = 0;
    for (const LoraTarget& t : ts) {
      const Matrix& m = lora_matrix(md->weights, t);
      if (t.row0 != rows || m.cols != p.shape.back())
        throw Error(g.path(), "quantize --lora: the merged matrices of " + name + " do not tile the tensor");
      rows += m.rows;
      p.merged.push_back(m);
    }
    if (p.shape.size() != 2 || rows != p.shape.front())
      throw Error(g.path(), "quantize --lora: the merged matrices of " + name + " do not tile the tensor");
  }
  return md;
}

// A Hugging Face directory: converted to a temporary F32 GGUF next to the output, then quantized from it.
int run_quantize_hf(const QuantizeArgs& a) {
  namespace fs = std::filesystem;
  QuantizeArgs b = a;
  b.in = a.out + ".f32-tmp.gguf";
  b.label = a.in;
  b.lora.clear();  // merged into the F32 file (as convert --lora)
  struct Remove {
    std::string path;
    ~Remove() { std::error_code ec; fs::remove(path, ec); }
  } remove{b.in};
  std::vector<LoraSpec> lora;
  for (const std::string& l : a.lora) lora.push_back(parse_lora_spec(l));
  std::vector<std::string> notes;
  convert_hf_to_gguf(a.in, b.in, DType::F32, lora, &notes);
  if (!a.quiet && a.verbose > 0)
    for (const std::string& n : notes) std::fprintf(stderr, "lmgen quantize: %s\n", n.c_str());
  return run_quantize_gguf(b);
}

int run_quantize(QuantizeArgs& a) {
  namespace fs = std::filesystem;
  if (!a.type.empty() && !a.type_positional.empty() && a.type != a.type_positional)
    throw UsageError("quantize: two different types given (" + a.type_positional + " and --type " + a.type + ")");
  if (a.type.empty()) a.type = a.type_positional;
  if (a.type.empty()) throw UsageError("quantize: no target type (lmgen quantize IN OUT TYPE, or --type TYPE)");
  file_type_from_name(a.type);  // a bad type is reported before any work
  for (const std::string& l : a.lora) parse_lora_spec(l);  // so is a bad --lora
  std::error_code ec;
  if (fs::is_directory(a.out, ec)) throw UsageError("quantize: the output " + a.out + " is a directory");
  if (fs::is_directory(a.in, ec)) return run_quantize_hf(a);
  return run_quantize_gguf(a);
}

// The file's tensor of a plan as one matrix: rows = all leading dimensions (`base`: the mapped file).
Matrix file_matrix(const Plan& p, const uint8_t* base) {
  Matrix whole;
  whole.type = p.src->type;
  whole.cols = p.shape.back();
  whole.rows = 1;
  for (size_t d = 0; d + 1 < p.shape.size(); ++d) whole.rows *= p.shape[d];
  whole.data = base + p.src->offset;
  whole.row_stride = row_bytes(whole.type, whole.cols);
  return whole;
}

int run_quantize_gguf(const QuantizeArgs& a) {
  namespace fs = std::filesystem;
  const FileType& ft = file_type_from_name(a.type);
  std::error_code ec;
  if (!GgufFile::sniff(a.in)) throw Error(a.in, "not a GGUF file (quantize reads GGUF models)");
  if (fs::exists(a.out, ec) && fs::equivalent(a.in, a.out, ec))
    throw UsageError("quantize: the output would overwrite the input " + a.in);
  const auto t0 = std::chrono::steady_clock::now();
  GgufFile g(a.in);
  std::vector<Plan> plans = plan_types(g, ft, a.pure);
  std::unique_ptr<ModelData> merged;  // --lora: owns the merged matrices the plans point at
  int n_merged = 0;
  if (!a.lora.empty()) {
    std::vector<std::string> notes;
    merged = merge_lora(g, a.lora, plans, notes);
    for (const Plan& p : plans) n_merged += !p.merged.empty();
    if (!a.quiet && a.verbose > 0)
      for (const std::string& n : notes) std::fprintf(stderr, "lmgen quantize: %s\n", n.c_str());
  }

  GgufWriter w;
  if (const GgufValue* arch = g.find("general.architecture")) w.set_value("general.architecture", *arch);
  for (const auto& [key, value] : g.metadata()) w.set_value(key, value);
  w.set_u32("general.file_type", ft.llama_ftype);
  w.set_u32("general.quantization_version", 2);  // llama-quantize sets it whatever the target

  const int n_threads = a.threads > 0 ? a.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const uint8_t* base = g.file()->data();
  int64_t total_bytes = 0, done_bytes = 0, done_tensors = 0;
  for (const Plan& p : plans) total_bytes += static_cast<int64_t>(p.src->nbytes);
  Progress progress(!a.quiet && isatty(STDERR_FILENO), "quantize", static_cast<int64_t>(plans.size()), "tensors",
                    color_wanted_env(a.color));
  auto mib = [](int64_t b) { return static_cast<double>(b) / 1048576.0; };
  int n_fallback = 0;
  std::map<std::string, int> type_counts;
  for (const Plan& p : plans) {
    const DType src_type = source_type(p);
    if (!is_float_type(src_type) && src_type != p.type && !a.quiet && a.verbose > 0) {
      std::fprintf(stderr, "lmgen quantize: note: %s is %s in the source; re-encoding a quantized tensor loses more "
                   "precision than quantizing the original weights\n", p.src->name.c_str(), dtype_name(src_type));
    }
    n_fallback += p.fell_back;
    ++type_counts[dtype_name(p.type)];
    if (a.verbose > 0 && !a.quiet)
      std::fprintf(stderr, "lmgen quantize: %-28s %-16s %5s -> %-5s%s%s\n", p.src->name.c_str(),
                   shape_to_string(p.shape).c_str(), dtype_name(src_type), dtype_name(p.type),
                   p.merged.empty() ? "" : " (LoRA merged)", p.fell_back ? " (fallback: row length)" : "");
    const Plan* pp = &p;
    w.add_tensor(p.src->name, p.type, p.shape, [&, pp](uint8_t* dst, size_t) {
      if (interrupted()) throw Interrupted();
      if (pp->merged.empty()) convert_tensor(*pp, {file_matrix(*pp, base)}, dst, n_threads);
      else convert_tensor(*pp, pp->merged, dst, n_threads);
      done_bytes += static_cast<int64_t>(pp->src->nbytes);
      char detail[64];
      std::snprintf(detail, sizeof detail, "%.1f/%.1f MiB read", mib(done_bytes), mib(total_bytes));
      progress.update(++done_tensors, detail);
    });
  }
  w.write(a.out);
  progress.finish();
  if (interrupted()) {  // Ctrl-C after the last tensor: still no output, no success line
    std::error_code rm;
    fs::remove(a.out, rm);
    throw Interrupted();
  }
  if (!a.quiet) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::string types;
    for (const auto& [name, n] : type_counts) types += " " + std::to_string(n) + "×" + name;
    std::fprintf(stderr, "lmgen quantize: %s (%.1f MiB) -> %s (%.1f MiB) as %s in %.1f s; tensors:%s%s%s\n",
                 (a.label.empty() ? a.in : a.label).c_str(), static_cast<double>(fs::file_size(a.in)) / 1048576.0,
                 a.out.c_str(),
                 static_cast<double>(fs::file_size(a.out)) / 1048576.0, ft.name, secs, types.c_str(),
                 n_fallback ? (", " + std::to_string(n_fallback) + " by row-length fallback").c_str() : "",
                 merged ? (", " + std::to_string(n_merged) + " with LoRA merged").c_str() : "");
  }
  return 0;
}

}  // namespace

// For `lmgen convert --type` with a quantized type (convert.cpp): quantizes the GGUF file `in` into `out`.
int quantize_gguf_file(const std::string& in, const std::string& out, const std::string& type, int threads,
                       bool quiet) {
  QuantizeArgs a;
  a.in = in;
  a.out = out;
  a.type = type;
  a.threads = threads;
  a.quiet = quiet;
  return run_quantize_gguf(a);
}

void check_quantize_type(const std::string& type, const char* command) { (void)file_type_from_name(type, command); }

std::vector<Command> setup_quantize(CLI::App& app, Context&) {
  auto a = std::make_shared<QuantizeArgs>();
  CLI::App* sub = app.add_subcommand("quantize", "Re-encode a GGUF model's weights (q8_0, q4_0, q4_k_m, f16, ...)");
  sub->footer(
      "The type may also be given as a third argument, as llama-quantize takes it. Ctrl-C leaves no output file.\n\n"
      "Examples:\n"
      "  lmgen quantize model-f32.gguf model-q8_0.gguf --type q8_0\n"
      "  lmgen quantize model-f16.gguf model-q4_k_m.gguf Q4_K_M          # llama-quantize's form\n"
      "  lmgen quantize model.gguf model-q4_0.gguf --type q4_0 --pure -v\n"
      "  lmgen quantize base-q8_0.gguf merged-q8_0.gguf --type q8_0 --lora adapter/   # one fine-tuned file");
  sub->add_option("IN", a->in, "Input model: a GGUF file or a Hugging Face model directory")->required()->check(path_check());
  sub->add_option("OUT", a->out, "Output GGUF file")->required()->check(path_check());
  sub->add_option("TYPE", a->type_positional, "Target type (as --type)");
  sub->add_option("--type", a->type,
                  "Target: q8_0, q4_0, q4_1, q5_0, q5_1, q4_k_m, q5_k_m, q6_k, f16, bf16 or f32");
  sub->add_option("-t,--threads", a->threads, "Encoding threads (default: all cores)")->check(count_check(0));
  sub->add_flag("--pure", a->pure,
                "Give every re-encoded tensor the base type (no Q6_K head / more-bits layers); "
                "row-length fallbacks still apply");
  add_lora_option(*sub, a->lora);
  sub->add_flag("-v,--verbose", a->verbose, "List each tensor's type (and what each --lora adapter merged)");
  sub->add_flag("-q,--quiet,--log-disable", a->quiet, "Nothing on stderr but errors (no progress bar)");
  sub->add_flag("--color{always}", a->color, "Colour the progress bar (NO_COLOR overrides)")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  return {Command{sub, [a] { return run_quantize(*a); }}};
}

}  // namespace lmgen::cli
