// Flags and helpers shared by the lmgen commands.
#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <chrono>
#include <filesystem>

#include "cli/cli.hpp"
#include "kernels/dispatch.hpp"
#include "lmgen/error.hpp"
#include "util/utf8.hpp"

namespace lmgen::cli {

CLI::Validator count_check(int64_t min, int64_t max) {
  return CLI::Validator(
      [min, max](std::string& v) -> std::string {
        size_t used = 0;
        long long n = 0;
        try {
          n = std::stoll(v, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != v.size() || n < min)
          return "must be an integer >= " + std::to_string(min) + ", got '" + v + "'";
        if (n > max) return "must be at most " + std::to_string(max) + ", got '" + v + "'";
        return "";
      },
      min == 0 ? "N>=0" : "N>=1");
}

namespace {

CLI::Validator range_check(bool is_unsigned) {
  return CLI::Validator(
      [is_unsigned](std::string& v) -> std::string {
        const char* s = v.c_str();
        while (std::isspace(static_cast<unsigned char>(*s))) ++s;
        if (is_unsigned && *s == '-') return "must not be negative, got '" + v + "'";
        char* end = nullptr;
        errno = 0;
        if (is_unsigned) (void)std::strtoull(s, &end, 0);
        else (void)std::strtoll(s, &end, 0);
        if (errno == ERANGE)
          return "'" + v + "' is out of range (the largest allowed is " +
                 (is_unsigned ? std::to_string(UINT64_MAX) : std::to_string(INT64_MAX)) + ")";
        return "";  // anything else is CLI11's to convert (or refuse)
      },
      "");
}

}  // namespace

CLI::Validator int64_check() { return range_check(false); }
CLI::Validator uint64_check() { return range_check(true); }

CLI::Validator path_check() {
  return CLI::Validator(
      [](std::string& v) -> std::string { return v.empty() ? "an empty path (is the variable it came from unset?)" : ""; },
      "");  // (no text in --help: the option's own says it is a path)
}

void add_model_source_options(CLI::App& app, ModelArgs& a) {
  app.add_option("-m,--model", a.model,
                 "Model: a GGUF file, a llama2.c .bin checkpoint, or a Hugging Face model directory "
                 "(default: $LMGEN_MODEL, else the bundled model in models/)")
      ->check(path_check())
      ->group("Model");
  app.add_option("--tokenizer", a.tokenizer,
                 "Tokenizer file: llama2.c tokenizer.bin, tokenizer.json or GGUF (default: the model's own; for a llama2.c "
                 ".bin, tokenizer.bin beside it, or the only tok*.bin there)")
      ->check(path_check())
      ->group("Model");
}

void add_runtime_options(CLI::App& app, ModelArgs& a) {
  app.add_option("-c,--ctx-size", a.n_ctx, "Context length in tokens (default: the model's, at most 4096)")
      ->check(count_check(0, kMaxContext))
      ->group("Performance");
  app.add_option("-t,--threads", a.threads, "Threads (default: the physical cores this process may use: affinity mask, cgroup CPU quota)")
      ->check(count_check(0))
      ->group("Performance");
  app.add_option("-b,--batch-size", a.n_batch, "Prompt tokens processed per forward chunk")
      ->check(count_check(1))
      ->capture_default_str()
      ->group("Performance");
  app.add_flag("--no-mmap", a.no_mmap,
               "Read the weights into memory (huge pages where the kernel allows) instead of mapping the file: "
               "slower start; faster generation when the page cache holds the file in small pages")
      ->group("Performance");
  add_lora_option(app, a.lora);
}

void add_lora_option(CLI::App& app, std::vector<std::string>& lora) {
  app.add_option("--lora", lora,
                 "LoRA adapter merged into the weights at load: a PEFT directory (adapter_config.json + "
                 "adapter_model.safetensors) or a llama.cpp GGUF adapter; PATH:SCALE multiplies its scaling "
                 "(default 1). Repeatable; -v says what was merged")
      ->type_name("PATH[:SCALE]")
      ->check(path_check())
      ->allow_extra_args(false)
      ->group("Model");
}

void add_log_options(CLI::App& app, ModelArgs& a) {
  app.add_flag("-v,--verbose", a.verbose,
               "More information on stderr: -v load summary, seed, sampler chain and timings; -vv also the prompt's "
               "token ids (score: the perplexity after each chunk)")
      ->group("Output");
  app.add_flag("-q,--quiet,--log-disable", a.quiet, "Nothing on stderr but errors (no progress bar)")->group("Output");
  app.add_flag("--color{always}", a.color,
               "Colour the progress bar on stderr: --color (= always), --color=never; no colour codes unless asked, "
               "and never when NO_COLOR is set")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->group("Output");
}

void add_model_options(CLI::App& app, ModelArgs& a, bool with_runtime) {
  add_model_source_options(app, a);
  if (with_runtime) add_runtime_options(app, a);
  add_log_options(app, a);
}

void add_input_options(CLI::App& app, PromptArgs& a, const std::string& p_help, const std::string& f_help) {
  app.add_option("-p,--prompt", a.prompt, p_help)->each([&a](const std::string&) { a.prompt_set = true; })->group("Prompt");
  app.add_option("-f,--file", a.file, f_help)->check(path_check())->group("Prompt");
}

void add_prompt_options(CLI::App& app, PromptArgs& a) {
  add_input_options(app, a, "Prompt text, used byte for byte; '-' reads standard input",
                    "Read the prompt from a file (byte for byte)");
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

LoadedModel load_model_or_usage(const std::string& path, const LoadOptions& lo) {
  try {
    return load_model(path, lo);
  } catch (const MissingTokenizer& e) {
    throw UsageError(std::string(e.what()) + "; pass --tokenizer FILE");
  }
}

LoadedModel load(const ModelArgs& a, bool need_tokenizer) {
  simd::active_isa();  // a bad LMGEN_ISA stops here, before any loading
  LoadOptions lo;
  lo.load_tokenizer = need_tokenizer;
  lo.access = a.no_mmap ? FileAccess::Read : FileAccess::Map;
  auto t0 = std::chrono::steady_clock::now();
  const std::string path = resolve_model_path(a.model);
  lo.tokenizer_path = a.tokenizer;
  for (const std::string& l : a.lora) lo.lora.push_back(parse_lora_spec(l));
  LoadedModel lm = load_model_or_usage(path, lo);
  if (a.verbose > 0 && !a.quiet && lm.tokenizer_found_beside)
    std::fprintf(stderr, "lmgen: using the tokenizer %s found beside the model\n", lm.tokenizer_path.c_str());
  if (a.verbose > 0 && !a.quiet) {
    const ModelConfig& c = lm.model->config;
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr,
                 "lmgen: loaded %s in %.1f ms: %s, %lld layers, n_embd %lld, heads %lld/%lld, n_ff %lld, vocab %lld, "
                 "trained context %lld\n",
                 path.c_str(), ms, c.arch.c_str(), static_cast<long long>(c.n_layer), static_cast<long long>(c.n_embd),
                 static_cast<long long>(c.n_head), static_cast<long long>(c.n_head_kv), static_cast<long long>(c.n_ff),
                 static_cast<long long>(c.n_vocab), static_cast<long long>(c.n_ctx_train));
    for (const std::string& note : lm.lora_notes) std::fprintf(stderr, "lmgen: %s\n", note.c_str());
    std::fprintf(stderr, "lmgen: kernels %s\n", simd::active_isa_description().c_str());
    std::string counts;
    std::vector<DType> types;
    for (const auto& [t, n] : lm.model->weights.matrix_types()) {
      counts += std::string(counts.empty() ? "" : ", ") + dtype_name(t) + " x" + std::to_string(n);
      types.push_back(t);
    }
    std::fprintf(stderr, "lmgen: weight matrices by type: %s; kernels: %s\n", counts.c_str(),
                 weight_kernels_text(types).c_str());
  }
  return lm;
}

namespace {
Error read_error(const std::string& name, int err) {
  if (name.empty()) return Error(std::string("cannot read the input: ") + std::strerror(err));
  return Error(name, std::string("cannot read: ") + std::strerror(err));
}
}  // namespace

std::string read_all(int fd, const std::string& name) {
  std::string out;
  char buf[65536];
  for (;;) {
    if (!wait_readable(fd)) throw Interrupted();
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) return out;
    if (errno == EINTR) {
      if (interrupted()) throw Interrupted();
      continue;
    }
    throw read_error(name, errno);
  }
}

bool LineReader::next(std::string& line) {
  for (;;) {
    const size_t nl = buf_.find('\n', pos_);
    if (nl != std::string::npos || (eof_ && pos_ < buf_.size())) {
      const size_t end = nl == std::string::npos ? buf_.size() : nl;
      line.assign(buf_, pos_, end - pos_);
      pos_ = nl == std::string::npos ? buf_.size() : nl + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return true;
    }
    if (eof_) return false;
    if (!wait_readable(fd_)) throw Interrupted();
    buf_.erase(0, pos_);
    pos_ = 0;
    char tmp[65536];
    const ssize_t n = ::read(fd_, tmp, sizeof tmp);
    if (n > 0) buf_.append(tmp, static_cast<size_t>(n));
    else if (n == 0) eof_ = true;
    else if (errno != EINTR) throw read_error(name_, errno);
  }
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

namespace {
// An open file descriptor, closed on scope exit.
struct Fd {
  int fd;
  ~Fd() {
    if (fd > STDERR_FILENO) ::close(fd);
  }
};

int open_input(const std::string& file) {
  if (file == "-") return STDIN_FILENO;
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(file, std::string("cannot open prompt file: ") + std::strerror(errno));
  return fd;
}
}  // namespace

void for_each_input_line(const PromptArgs& a, const std::function<bool(const std::string&)>& fn) {
  if (a.prompt_set && !a.file.empty()) throw UsageError("give the prompt with -p or -f, not both");
  if (a.prompt_set && a.prompt != "-") return for_each_line(a.prompt, fn);
  Fd in{a.file.empty() ? STDIN_FILENO : open_input(a.file)};
  LineReader reader(in.fd, a.file.empty() || a.file == "-" ? "" : a.file);
  std::string line;
  while (reader.next(line))
    if (!fn(line)) return;
}

std::string read_prompt(const PromptArgs& a) {
  if (a.prompt_set && !a.file.empty()) throw UsageError("give the prompt with -p or -f, not both");
  if (!a.file.empty()) {
    Fd in{open_input(a.file)};
    return read_all(in.fd, a.file == "-" ? "" : a.file);
  }
  if (a.prompt_set && a.prompt != "-") return a.prompt;
  if ((a.prompt_set && a.prompt == "-") || !isatty(STDIN_FILENO)) return read_all(STDIN_FILENO);
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

void put_piece(nlohmann::ordered_json& j, const std::string& piece) {
  j["text"] = piece;
  if (utf8::valid(piece)) return;
  nlohmann::ordered_json bytes = nlohmann::ordered_json::array();
  for (char c : piece) bytes.push_back(static_cast<unsigned char>(c));
  j["bytes"] = bytes;
}

bool progress_wanted(const ModelArgs& a) { return !a.quiet && isatty(STDERR_FILENO); }

bool color_wanted_env(const std::string& color_option) {
  if (const char* nc = std::getenv("NO_COLOR"); nc && *nc) return false;
  return color_option == "always";
}

bool color_wanted(const ModelArgs& a) { return color_wanted_env(a.color); }

}  // namespace lmgen::cli
