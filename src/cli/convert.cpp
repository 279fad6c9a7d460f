// `lmgen convert HF_DIR OUT.gguf [--type TYPE]`: writes the GGUF form of a Hugging Face model directory (tensor
// names, metadata and tokenizer keys as llama.cpp's convert_hf_to_gguf.py writes them; the conversion itself is
// lmgen::convert_hf_to_gguf, convert/convert.hpp). f32 / f16 / bf16 / q8_0 are written directly (as llama.cpp's
// converter does); the other quantized types go through an F32 file next to OUT and `lmgen quantize`'s per-tensor
// rules, and the temporary file is removed. --lora merges adapters into the weights before they are written (one
// file for a fine-tuned model).
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/cli.hpp"
#include "convert/convert.hpp"
#include "lmgen/error.hpp"

namespace lmgen::cli {

namespace {

struct ConvertArgs {
  std::string in, out, type = "f32";
  int threads = 0;
  bool quiet = false;
  int verbose = 0;
  std::vector<std::string> lora;  // --lora PATH[:SCALE]: merged before writing
};

int run_convert(const ConvertArgs& a) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(a.in, ec))
    throw UsageError("convert: " + a.in + " is not a directory (convert reads Hugging Face model directories)");
  std::string type = a.type;
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  const auto t0 = std::chrono::steady_clock::now();
  const struct { const char* name; DType t; } direct[] = {
      {"f32", DType::F32}, {"f16", DType::F16}, {"bf16", DType::BF16}, {"q8_0", DType::Q8_0}};
  check_quantize_type(type, "convert");  // before any work (the F32 conversion comes first)
  std::vector<LoraSpec> lora;
  for (const std::string& l : a.lora) lora.push_back(parse_lora_spec(l));
  std::vector<std::string> notes;
  bool done = false;
  for (const auto& d : direct)
    if (type == d.name) {
      convert_hf_to_gguf(a.in, a.out, d.t, lora, &notes);
      done = true;
    }
  if (!done) {
    const std::string tmp = a.out + ".f32-tmp.gguf";
    struct Remove {
      std::string path;
      ~Remove() { std::error_code e; fs::remove(path, e); }
    } remove{tmp};
    convert_hf_to_gguf(a.in, tmp, DType::F32, lora, &notes);
    quantize_gguf_file(tmp, a.out, type, a.threads, true);
  }
  if (!a.quiet && a.verbose > 0)
    for (const std::string& n : notes) std::fprintf(stderr, "lmgen convert: %s\n", n.c_str());
  if (!a.quiet) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "lmgen convert: %s -> %s (%.1f MiB, %s) in %.1f s\n", a.in.c_str(), a.out.c_str(),
                 static_cast<double>(fs::file_size(a.out)) / 1048576.0, type.c_str(), secs);
  }
  return 0;
}

}  // namespace

std::vector<Command> setup_convert(CLI::App& app, Context&) {
  auto a = std::make_shared<ConvertArgs>();
  CLI::App* sub = app.add_subcommand("convert", "Convert a Hugging Face model directory to GGUF (llama.cpp's layout)");
  sub->add_option("HF_DIR", a->in, "Hugging Face model directory (config.json, safetensors, tokenizer.json)")
      ->required()
      ->check(path_check());
  sub->add_option("OUT", a->out, "Output GGUF file")->required()->check(path_check());
  sub->add_option("--type", a->type,
                  "Weight type: f32 (default), f16, bf16, q8_0, or any `lmgen quantize` type (q4_0, q4_k_m, ...)");
  sub->add_option("-t,--threads", a->threads, "Encoding threads for quantized types (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  add_lora_option(*sub, a->lora);
  sub->add_flag("-v,--verbose", a->verbose, "Also say what each --lora adapter merged");
  sub->add_flag("-q,--quiet", a->quiet, "Nothing on stderr but errors");
  return {Command{sub, [a] { return run_convert(*a); }}};
}

}  // namespace lmgen::cli
