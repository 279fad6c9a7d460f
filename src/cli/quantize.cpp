// `lmgen quantize IN OUT --type TYPE`: re-encodes the weights of a GGUF model (or a Hugging Face directory, converted
// first) and writes a GGUF file that lmgen and llama.cpp both load. The file types and the per-tensor rules are
// the library's (quantize/file_types.hpp, quantize/plan.hpp), the encoding too (quantize/quantize.hpp); this file
// parses the flags and prints the plan (-v), the progress bar and the summary line.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>

#include <unistd.h>

#include "cli/cli.hpp"
#include "convert/convert.hpp"
#include "lmgen/error.hpp"
#include "quantize/quantize.hpp"

namespace lmgen::cli {

namespace {

struct QuantizeArgs {
  std::string in, out, type, type_positional;
  int threads = 0;
  bool pure = false;
  int verbose = 0;
  bool quiet = false;
  std::string color = "auto";
  std::vector<std::string> lora;  // --lora PATH[:SCALE]: merged before writing
};

bool is_float_type(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

// -v: the adapters' notes, then one line per tensor (and a note for each quantized tensor re-encoded).
void print_plan(const QuantizePlan& plan) {
  for (const std::string& n : plan.lora_notes) std::fprintf(stderr, "lmgen quantize: %s\n", n.c_str());
  for (const TensorPlan& p : plan.tensors) {
    const DType src_type = p.source_type();
    if (!is_float_type(src_type) && src_type != p.type)
      std::fprintf(stderr, "lmgen quantize: note: %s is %s in the source; re-encoding a quantized tensor loses more "
                   "precision than quantizing the original weights\n", p.src->name.c_str(), dtype_name(src_type));
    std::fprintf(stderr, "lmgen quantize: %-28s %-16s %5s -> %-5s%s%s\n", p.src->name.c_str(),
                 shape_to_string(p.shape).c_str(), dtype_name(src_type), dtype_name(p.type),
                 p.merged.empty() ? "" : " (LoRA merged)", p.fell_back ? " (fallback: row length)" : "");
  }
}

void print_summary(const QuantizeArgs& a, const QuantizePlan& plan, double secs) {
  int n_fallback = 0, n_merged = 0;
  std::map<std::string, int> type_counts;
  for (const TensorPlan& p : plan.tensors) {
    n_fallback += p.fell_back;
    n_merged += !p.merged.empty();
    ++type_counts[dtype_name(p.type)];
  }
  const bool gguf_lora = !a.lora.empty() && !std::filesystem::is_directory(a.in);
  std::string types;
  for (const auto& [name, n] : type_counts) types += " " + std::to_string(n) + "×" + name;
  std::fprintf(stderr, "lmgen quantize: %s (%.1f MiB) -> %s (%.1f MiB) as %s in %.1f s; tensors:%s%s%s\n",
               a.in.c_str(), static_cast<double>(plan.input_bytes) / 1048576.0, a.out.c_str(),
               static_cast<double>(std::filesystem::file_size(a.out)) / 1048576.0,
               file_type_named(a.type).name, secs, types.c_str(),
               n_fallback ? (", " + std::to_string(n_fallback) + " by row-length fallback").c_str() : "",
               gguf_lora ? (", " + std::to_string(n_merged) + " with LoRA merged").c_str() : "");
}

}  // namespace

const FileTypeInfo& file_type_option(const std::string& name, const char* command) {
  try {
    return file_type_named(name);
  } catch (const UsageError&) {
    throw UsageError(std::string(command) + ": unknown --type '" + name + "' (one of: " + file_type_names() + ")");
  }
}

namespace {

int run_quantize(QuantizeArgs& a) {
  if (!a.type.empty() && !a.type_positional.empty() && a.type != a.type_positional)
    throw UsageError("quantize: two different types given (" + a.type_positional + " and --type " + a.type + ")");
  if (a.type.empty()) a.type = a.type_positional;
  if (a.type.empty()) throw UsageError("quantize: no target type (lmgen quantize IN OUT TYPE, or --type TYPE)");
  QuantizeOptions o;
  o.type = file_type_option(a.type, "quantize").id;  // a bad type is reported before any work
  o.pure = a.pure;
  o.n_threads = a.threads;
  for (const std::string& l : a.lora) o.lora.push_back(parse_lora_spec(l));  // so is a bad --lora
  std::error_code dir_ec;
  if (std::filesystem::is_directory(a.out, dir_ec)) throw UsageError("quantize: the output " + a.out + " is a directory");
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<Progress> progress;
  int64_t total_bytes = 0;
  QuantizePlan plan;
  o.on_plan = [&](const QuantizePlan& p) {
    plan = p;
    if (!a.quiet && a.verbose > 0) print_plan(p);
    total_bytes = p.tensor_bytes;
    progress = std::make_unique<Progress>(!a.quiet && isatty(STDERR_FILENO), "quantize",
                                          static_cast<int64_t>(p.tensors.size()), "tensors", color_wanted_env(a.color));
  };
  o.on_tensor = [&](int64_t tensors, int64_t bytes) {
    auto mib = [](int64_t b) { return static_cast<double>(b) / 1048576.0; };
    char detail[64];
    std::snprintf(detail, sizeof detail, "%.1f/%.1f MiB read", mib(bytes), mib(total_bytes));
    progress->update(tensors, detail);
  };
  o.poll = [] {
    if (interrupted()) throw Interrupted();  // the writer removes its temporary file
  };
  std::error_code ec;
  if (std::filesystem::is_directory(a.in, ec)) convert_hf_model(a.in, a.out, o, /*quantizer_rules=*/true);
  else quantize_gguf(a.in, a.out, o);
  if (progress) progress->finish();
  if (!a.quiet) print_summary(a, plan, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return 0;
}

}  // namespace

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
  sub->add_option("IN", a->in, "Input model: a GGUF file or a Hugging Face model directory")
      ->required()
      ->check(path_check());
  sub->add_option("OUT", a->out, "Output GGUF file")->required()->check(path_check());
  sub->add_option("TYPE", a->type_positional, "Target type (as --type)");
  sub->add_option("--type", a->type,
                  "Target: " + file_type_names() +
                      ". Encoded without an importance matrix, as llama-quantize does without --imatrix; iq1_*, "
                      "iq2_* and q2_k_s would need one and are not offered (nor iq3_* yet)");
  sub->add_option("-t,--threads", a->threads, "Encoding threads (default: the physical cores)")->check(count_check(0));
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
