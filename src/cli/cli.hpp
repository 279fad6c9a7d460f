// Shared pieces of the command-line front end (src/cli/*.cpp; not part of the library).
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lmgen/generator.hpp"
#include "format/gguf.hpp"
#include "quantize/file_types.hpp"
#include "lmgen/loader.hpp"
#include "lmgen/model.hpp"

namespace lmgen::cli {

// State shared by the handlers; lives in main() and is passed by reference (no globals besides the signal flag).
struct Context {
  std::atomic<bool>* interrupted = nullptr;  // set by SIGINT / SIGTERM
  bool stdout_broken = false;                // a write to stdout failed (reader went away)
  bool signal_is_normal_end = false;         // the command ends cleanly on SIGINT / SIGTERM (serve): exit 0, not 130
};

// signals.cpp: SIGINT/SIGTERM set the flag returned (no SA_RESTART, so blocked reads return); SIGPIPE ignored.
std::atomic<bool>* install_signal_handlers();
bool interrupted();
// Waits until fd has input (or an end or error, for read() to report) and returns true, or returns false once
// SIGINT / SIGTERM has come, whenever it lands: before the wait or during it.
bool wait_readable(int fd);
// Thrown when a blocking read or a long loop notices Ctrl-C; main() exits with 130 without a message.
struct Interrupted : std::exception {
  const char* what() const noexcept override { return "interrupted"; }
};

struct ModelArgs {
  std::string model;            // -m: GGUF file, llama2.c .bin or HF directory ("" = bundled model)
  std::string tokenizer;        // --tokenizer
  int64_t n_ctx = 0;            // -c
  int threads = 0;              // -t
  int64_t n_batch = 64;         // -b
  bool no_mmap = false;         // --no-mmap
  int verbose = 0;              // -v (1: load summary, seed, timings; 2: also per-tensor and per-chunk lines)
  bool quiet = false;           // -q / --log-disable
  std::string color = "auto";   // --color[=always|never]: colour codes only when "always" and NO_COLOR is unset
  std::vector<std::string> lora;  // --lora PATH[:SCALE], repeatable (merged at load, in order)
};

struct PromptArgs {
  std::string prompt;           // -p (may be "-")
  bool prompt_set = false;
  std::string file;             // -f
  bool no_add_special = false;
  bool no_parse_special = false;
};

// A check for a whole-number option: "must be an integer >= min, got 'x'" instead of CLI11's range message.
CLI::Validator count_check(int64_t min, int64_t max = INT64_MAX);
// For a 64-bit integer option: a number beyond the type's range is refused ("... is out of range"). CLI11 2.1 reads
// such options with strtoll / strtoull and keeps the clamped value (-s 99999999999999999999999 became
// 9223372036854775807); narrower types it refuses itself.
CLI::Validator int64_check();
CLI::Validator uint64_check();
// For a path option: an empty value (an unset $VAR) is a mistake, not "the default".
CLI::Validator path_check();

void add_model_options(CLI::App& app, ModelArgs& a, bool with_runtime);  // the three below, in that order
void add_model_source_options(CLI::App& app, ModelArgs& a);  // -m, --tokenizer
void add_runtime_options(CLI::App& app, ModelArgs& a);       // -c, -t, -b, --no-mmap, --lora
void add_lora_option(CLI::App& app, std::vector<std::string>& lora);  // --lora PATH[:SCALE] (repeatable)
void add_log_options(CLI::App& app, ModelArgs& a);           // -v, -q
void add_prompt_options(CLI::App& app, PromptArgs& a);  // -p, -f, --no-add-special, --no-parse-special
// -p and -f alone, with their help texts (for input that is not a prompt, e.g. detokenize's ids).
void add_input_options(CLI::App& app, PromptArgs& a, const std::string& p_help, const std::string& f_help);

// The model path to use: -m, or the bundled model when -m is absent.
std::string resolve_model_path(const std::string& given);
LoadedModel load(const ModelArgs& a, bool need_tokenizer = true);
// load_model, with a MissingTokenizer error told as the flag that fixes it (--tokenizer).
LoadedModel load_model_or_usage(const std::string& path, const LoadOptions& lo);
ModelOptions model_options(const ModelArgs& a);

// The prompt text from -p / -f / stdin (when -p -, -f -, or no prompt option and stdin is not a terminal), byte for
// byte. Throws Interrupted on Ctrl-C while reading.
std::string read_prompt(const PromptArgs& a);
// All of `fd`; a read error names `name` (a file), or "the input" when it is "".
std::string read_all(int fd, const std::string& name = "");
// Reads '\n'-terminated lines from a file descriptor as they arrive (a final line without '\n' counts; a trailing
// '\r' is dropped). Throws Interrupted on Ctrl-C, Error on a read error.
class LineReader {
 public:
  explicit LineReader(int fd, std::string name = "") : fd_(fd), name_(std::move(name)) {}  // name: as read_all
  bool next(std::string& line);  // false at end of input
 private:
  int fd_;
  std::string name_;
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false;
};
// Where line-oriented input comes from: -p TEXT (its lines), -f FILE, or standard input (-p -, -f -, or nothing).
// Calls fn(line) as each line arrives; stops early when fn returns false.
void for_each_input_line(const PromptArgs& a, const std::function<bool(const std::string&)>& fn);
// Calls fn(line) for each '\n'-terminated line of `input` (a final line without '\n' counts; a trailing '\r' is
// dropped); stops early when fn returns false.
void for_each_line(const std::string& input, const std::function<bool(const std::string&)>& fn);
EncodeOptions encode_options(const PromptArgs& a);

// Writes to stdout and flushes; returns false (and marks ctx.stdout_broken) if the reader has gone away.
bool write_out(Context& ctx, const std::string& s);
// JSON text of a value, with invalid UTF-8 replaced by U+FFFD.
std::string json_line(const nlohmann::ordered_json& j);
// Sets j["text"] = piece, and j["bytes"] = [its bytes as ints] when the piece is not valid UTF-8 on its own (a
// byte-fallback token or part of a character), so that a reader can rebuild the exact bytes.
void put_piece(nlohmann::ordered_json& j, const std::string& piece);

// True when stderr should get a progress bar: a terminal, and not -q.
bool progress_wanted(const ModelArgs& a);
// True when --color (always) was given and NO_COLOR is not set.
bool color_wanted(const ModelArgs& a);
bool color_wanted_env(const std::string& color_option);
// A one-line progress bar on stderr (done/total, rate, ETA), redrawn at most ~10 times a second and erased by
// finish() or the destructor. Inactive (prints nothing) unless `enabled`.
class Progress {
 public:
  Progress(bool enabled, std::string label, int64_t total, std::string unit, bool color = false);
  ~Progress();
  void update(int64_t done, const std::string& detail = "");  // detail: appended, e.g. "12.5/40.0 MiB"
  void finish();
 private:
  bool enabled_, color_;
  std::string label_, unit_;
  int64_t total_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point t0_, last_;
};

// llama_flags.cpp: llama.cpp spellings. rewrite_llama_args() drops spellings with no effect in lmgen (-no-cnv),
// maps single-dash long forms CLI11 cannot declare, and throws UsageError with one line saying what lmgen does
// instead for llama.cpp options lmgen does not have. process_escapes() is -e: \n \t \r \\ \" \' \xNN.
void rewrite_llama_args(std::vector<std::string>& args);
std::string process_escapes(const std::string& s);
// The text of --version: version, git commit, build type, then kernels_text():
// "cpu: MODEL (features)\nkernels: FAMILY (why); built: FAMILIES\n" (also in bench and -v output).
std::string kernels_text();
// "q3_k avx512vnni x q8_k, q6_k avx512vnni x q8_k": the kernel and activation type of each weight type
// (kernels/quant.hpp vec_dot_kernel), for --version, -v and bench.
std::string weight_kernels_text(const std::vector<DType>& types);
std::string version_text();

// A command: the CLI11 app (or subcommand) its flags live on, and what runs it once they are parsed.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

// Each setup_* declares its flags on `app` (the main app for generation, a new subcommand otherwise) and returns
// the command. The option values live in storage owned by the returned closure.
Command setup_generate(CLI::App& app, Context& ctx);                    // generate.cpp (the default command)
std::vector<Command> setup_tokenize(CLI::App& app, Context& ctx);       // tokenize.cpp: tokenize, detokenize
std::vector<Command> setup_score(CLI::App& app, Context& ctx);          // score.cpp: score
std::vector<Command> setup_bench(CLI::App& app, Context& ctx);          // bench.cpp: bench
std::vector<Command> setup_quantize(CLI::App& app, Context& ctx);       // quantize.cpp: quantize
std::vector<Command> setup_chat_template(CLI::App& app, Context& ctx);  // chat_template.cpp: chat-template
std::vector<Command> setup_chat(CLI::App& app, Context& ctx);           // chat.cpp: chat
std::vector<Command> setup_convert(CLI::App& app, Context& ctx);        // convert.cpp: convert
std::vector<Command> setup_grammar(CLI::App& app, Context& ctx);        // grammar.cpp: grammar
// The serve command, which each executable provides in its own file: serve.cpp in lmgen-serve (the server itself),
// serve_exec.cpp in lmgen (a "serve" entry for --help, and a hand-off: `lmgen serve ...` becomes
// `lmgen-serve serve ...` by exec, before any parsing; in lmgen-serve the hand-off does nothing).
std::vector<Command> setup_serve(CLI::App& app, Context& ctx);
void hand_off_serve(int argc, char** argv);
// score_sft.cpp: `score --sft FILE` (FILE "-" = standard input); compare: also the base model without --lora.
int run_score_sft(const ModelArgs& args, const std::string& file, bool compare, Context& ctx);
// quantize.cpp: the file type a --type names, or UsageError "COMMAND: unknown --type 'NAME' (one of: ...)".
const FileTypeInfo& file_type_option(const std::string& name, const char* command);

}  // namespace lmgen::cli
