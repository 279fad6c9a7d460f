// `lmgen convert HF_DIR OUT.gguf [--type TYPE]`: writes the GGUF form of a Hugging Face model directory (tensor
// names, metadata and tokenizer keys as llama.cpp's convert_hf_to_gguf.py writes them; the conversion itself is
// lmgen::convert_hf_model, convert/convert.hpp: f32 / f16 / bf16 / q8_0 directly, as llama.cpp's converter writes
// them; the other types through an F32 file and the quantizer's per-tensor rules). --lora merges adapters into the
// weights before they are written (one file for a fine-tuned model). This file parses the flags and prints.
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
  const FileTypeInfo& type = file_type_option(a.type, "convert");  // before any work
  QuantizeOptions o;
  o.type = type.id;
  o.n_threads = a.threads;
  for (const std::string& l : a.lora) o.lora.push_back(parse_lora_spec(l));
  o.poll = [] {
    if (interrupted()) throw Interrupted();
  };
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<std::string> notes = convert_hf_model(a.in, a.out, o);
  if (!a.quiet && a.verbose > 0)
    for (const std::string& n : notes) std::fprintf(stderr, "lmgen convert: %s\n", n.c_str());
  if (!a.quiet) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "lmgen convert: %s -> %s (%.1f MiB, %s) in %.1f s\n", a.in.c_str(), a.out.c_str(),
                 static_cast<double>(fs::file_size(a.out)) / 1048576.0, type.name, secs);
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
  sub->add_option("-t,--threads", a->threads, "Encoding threads for quantized types (default: the physical cores)")
      ->check(CLI::NonNegativeNumber);
  add_lora_option(*sub, a->lora);
  sub->add_flag("-v,--verbose", a->verbose, "Also say what each --lora adapter merged");
  sub->add_flag("-q,--quiet", a->quiet, "Nothing on stderr but errors");
  return {Command{sub, [a] { return run_convert(*a); }}};
}

}  // namespace lmgen::cli
