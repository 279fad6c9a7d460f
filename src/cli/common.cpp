// Flags and helpers shared by the lmgen commands.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli.hpp"
#include "lmgen/error.hpp"

namespace lmgen::cli {

void add_model_source_options(CLI::App& app, ModelArgs& a) {
  app.add_option("-m,--model", a.model,
                 "Model: a GGUF file, a llama2.c .bin checkpoint, or a Hugging Face model directory "
                 "(default: the bundled model in models/)")
      ->group("Model");
  app.add_option("--tokenizer", a.tokenizer,
                 "Tokenizer file: llama2.c tokenizer.bin (needed with a .bin checkpoint), tokenizer.json or GGUF")
      ->group("Model");
}

void add_runtime_options(CLI::App& app, ModelArgs& a) {
  app.add_option("-c,--ctx-size", a.n_ctx, "Context length in tokens (default: the model's, at most 4096)")
      ->check(CLI::NonNegativeNumber)
      ->group("Performance");
  app.add_option("-t,--threads", a.threads, "Threads (default: physical cores)")
      ->check(CLI::NonNegativeNumber)
      ->group("Performance");
  app.add_option("-b,--batch-size", a.n_batch, "Prompt tokens processed per forward chunk")
      ->check(CLI::PositiveNumber)
      ->capture_default_str()
      ->group("Performance");
  app.add_flag("--no-mmap", a.no_mmap,
               "Read the weights into memory (huge pages where the kernel allows) instead of mapping the file: "
               "slower start; faster generation when the page cache holds the file in small pages")
      ->group("Performance");
}

void add_log_options(CLI::App& app, ModelArgs& a) {
  app.add_flag("-v,--verbose", a.verbose, "More information on stderr (repeat for more)")->group("Output");
  app.add_flag("-q,--quiet", a.quiet, "Nothing on stderr but errors")->group("Output");
}

void add_model_options(CLI::App& app, ModelArgs& a, bool with_runtime) {
  add_model_source_options(app, a);
  if (with_runtime) add_runtime_options(app, a);
  add_log_options(app, a);
}

void add_prompt_options(CLI::App& app, PromptArgs& a) {
  app.add_option("-p,--prompt", a.prompt, "Prompt text, used byte for byte; '-' reads standard input")
      ->each([&a](const std::string&) { a.prompt_set = true; })
      ->group("Prompt");
  app.add_option("-f,--file", a.file, "Read the prompt from a file (byte for byte)")->group("Prompt");
  app.add_flag("--no-add-special", a.no_add_special, "Do not insert BOS/EOS tokens")->group("Prompt");
  app.add_flag("--no-parse-special", a.no_parse_special,
               "Treat special-token text such as <|endoftext|> in the prompt as plain text")
      ->group("Prompt");
}

std::string resolve_model_path(const std::string& given) {
  namespace fs = std::filesystem;
  if (!given.empty()) return given;
  if (const char* e = std::getenv("LMGEN_MODEL"); e && *e) return e;
  std::vector<fs::path> dirs;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    dirs.push_back(exe.parent_path() / "../share/lmgen/models");
    dirs.push_back(exe.parent_path() / "../models");
  }
  dirs.emplace_back(LMGEN_DEFAULT_MODEL);
  for (const auto& d : dirs) {
    if (!fs::is_directory(d, ec)) continue;
    std::vector<fs::path> found;
    for (const auto& entry : fs::directory_iterator(d, ec))
      if (entry.path().extension() == ".gguf") found.push_back(entry.path());
    if (!found.empty()) {
      std::sort(found.begin(), found.end());
      return fs::weakly_canonical(found.front()).string();
    }
  }
  throw UsageError("no model given (-m PATH) and no bundled model found in models/");
}

ModelOptions model_options(const ModelArgs& a) {
  ModelOptions o;
  o.n_ctx = a.n_ctx;
  o.n_threads = a.threads;
  o.n_batch = a.n_batch;
  return o;
}

LoadedModel load(const ModelArgs& a, bool need_tokenizer) {
  LoadOptions lo;
  lo.tokenizer_path = a.tokenizer;
  lo.load_tokenizer = need_tokenizer;
  lo.access = a.no_mmap ? FileAccess::Read : FileAccess::Map;
  auto t0 = std::chrono::steady_clock::now();
  const std::string path = resolve_model_path(a.model);
  LoadedModel lm = load_model(path, lo);
  if (a.verbose > 0 && !a.quiet) {
    const ModelConfig& c = lm.model->config;
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr,
                 "lmgen: loaded %s in %.1f ms: %s, %lld layers, n_embd %lld, heads %lld/%lld, n_ff %lld, vocab %lld, "
                 "trained context %lld\n",
                 path.c_str(), ms, c.arch.c_str(), static_cast<long long>(c.n_layer), static_cast<long long>(c.n_embd),
                 static_cast<long long>(c.n_head), static_cast<long long>(c.n_head_kv), static_cast<long long>(c.n_ff),
                 static_cast<long long>(c.n_vocab), static_cast<long long>(c.n_ctx_train));
  }
  return lm;
}

std::string read_all(std::FILE* f) {
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  if (std::ferror(f)) throw Error(std::string("cannot read standard input: ") + std::strerror(errno));
  return out;
}

void for_each_line(const std::string& input, const std::function<bool(const std::string&)>& fn) {
  size_t pos = 0;
  while (pos < input.size()) {
    size_t nl = input.find('\n', pos);
    std::string line = input.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? input.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!fn(line)) return;
  }
}

std::string read_prompt(const PromptArgs& a) {
  if (a.prompt_set && !a.file.empty()) throw UsageError("give the prompt with -p or -f, not both");
  if (!a.file.empty()) {
    std::ifstream in(a.file, std::ios::binary);
    if (!in) throw Error(a.file, "cannot open prompt file");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  if (a.prompt_set && a.prompt != "-") return a.prompt;
  if ((a.prompt_set && a.prompt == "-") || !isatty(STDIN_FILENO)) return read_all(stdin);
  return "";
}

EncodeOptions encode_options(const PromptArgs& a) {
  EncodeOptions e;
  e.add_special = !a.no_add_special;
  e.parse_special = !a.no_parse_special;
  return e;
}

bool write_out(Context& ctx, const std::string& s) {
  if (ctx.stdout_broken) return false;
  if (!s.empty() && std::fwrite(s.data(), 1, s.size(), stdout) != s.size()) ctx.stdout_broken = true;
  if (std::fflush(stdout) != 0) ctx.stdout_broken = true;
  return !ctx.stdout_broken;
}

std::string json_line(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace lmgen::cli
