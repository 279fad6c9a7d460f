// Shared pieces of the command-line front end (src/main.cpp and src/cli_*.cpp; not part of the library).
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <functional>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lmgen/generator.hpp"
#include "format/gguf.hpp"
#include "lmgen/loader.hpp"
#include "lmgen/model.hpp"

namespace lmgen::cli {

// State shared by the handlers; lives in main() and is passed by reference (no globals besides the signal flag).
struct Context {
  std::atomic<bool>* interrupted = nullptr;  // set by SIGINT
  bool stdout_broken = false;                // a write to stdout failed (reader went away)
};

struct ModelArgs {
  std::string model;            // -m: GGUF file, llama2.c .bin or HF directory ("" = bundled model)
  std::string tokenizer;        // --tokenizer
  int64_t n_ctx = 0;            // -c
  int threads = 0;              // -t
  int64_t n_batch = 64;         // -b
  bool no_mmap = false;         // --no-mmap
  int verbose = 0;              // -v
  bool quiet = false;           // -q
};

struct PromptArgs {
  std::string prompt;           // -p (may be "-")
  bool prompt_set = false;
  std::string file;             // -f
  bool no_add_special = false;
  bool no_parse_special = false;
};

void add_model_options(CLI::App& app, ModelArgs& a, bool with_runtime);  // the three below, in that order
void add_model_source_options(CLI::App& app, ModelArgs& a);  // -m, --tokenizer
void add_runtime_options(CLI::App& app, ModelArgs& a);       // -c, -t, -b
void add_log_options(CLI::App& app, ModelArgs& a);           // -v, -q
void add_prompt_options(CLI::App& app, PromptArgs& a);

// The model path to use: -m, or the bundled model when -m is absent.
std::string resolve_model_path(const std::string& given);
LoadedModel load(const ModelArgs& a, bool need_tokenizer = true);
ModelOptions model_options(const ModelArgs& a);

// The prompt text from -p / -f / stdin (when -p - or no prompt option and stdin is not a terminal), byte for byte.
std::string read_prompt(const PromptArgs& a);
std::string read_all(std::FILE* f);
// Calls fn(line) for each '\n'-terminated line of `input` (a final line without '\n' counts; a trailing '\r' is
// dropped); stops early when fn returns false.
void for_each_line(const std::string& input, const std::function<bool(const std::string&)>& fn);
EncodeOptions encode_options(const PromptArgs& a);

// Writes to stdout and flushes; returns false (and marks ctx.stdout_broken) if the reader has gone away.
bool write_out(Context& ctx, const std::string& s);
// JSON text of a value, with invalid UTF-8 replaced by U+FFFD.
std::string json_line(const nlohmann::ordered_json& j);

// A command: the CLI11 app (or subcommand) its flags live on, and what runs it once they are parsed.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

// Each setup_* declares its flags on `app` (the main app for generation, a new subcommand otherwise) and returns
// the command. The option values live in storage owned by the returned closure.
Command setup_generate(CLI::App& app, Context& ctx);     // cli_generate.cpp (the default command)
std::vector<Command> setup_tokenize(CLI::App& app, Context& ctx);  // cli_tokenize.cpp: tokenize, detokenize
std::vector<Command> setup_score(CLI::App& app, Context& ctx);     // cli_score.cpp: score
std::vector<Command> setup_bench(CLI::App& app, Context& ctx);     // cli_bench.cpp: bench
std::vector<Command> setup_quantize(CLI::App& app, Context& ctx);  // cli_quantize.cpp: quantize

}  // namespace lmgen::cli
