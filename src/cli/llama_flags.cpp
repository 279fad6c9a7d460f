// llama.cpp habits: spellings of llama-cli / llama-quantize options that lmgen accepts or answers.
// CLI11 declares most aliases directly (-e, -r, -l, --log-disable; see generate.cpp and common.cpp). What it cannot
// declare is handled here, before parsing: single-dash long names (-no-cnv, -ngl, ...), and llama.cpp options that
// lmgen does not have, which end the run with one line saying what lmgen does instead (exit 2) rather than a parse
// error about some other option. docs/llama-cpp-flags.md lists every answer; test_cli_llama_flags.cpp checks it.
#include <cctype>
#include <string_view>

#include "cli/cli.hpp"
#include "lmgen/error.hpp"

namespace lmgen::cli {

namespace {

struct Answer {
  std::string_view names;  // '|'-separated spellings
  std::string_view says;
};

constexpr std::string_view kCpuOnly = "lmgen runs on the CPU only; there is nothing to offload (drop the option)";
constexpr std::string_view kNoChat =
    "for a conversation use lmgen chat -m MODEL; plain lmgen completes the prompt and exits (-no-cnv is the default)";

constexpr Answer kRefused[] = {
    {"-ngl|--gpu-layers|--n-gpu-layers", kCpuOnly},
    {"-sm|--split-mode", kCpuOnly},
    {"-mg|--main-gpu", kCpuOnly},
    {"-ts|--tensor-split", kCpuOnly},
    {"-nkvo|--no-kv-offload", kCpuOnly},
    {"-fa|--flash-attn", "lmgen has no flash-attention switch: its attention kernel is always the same (drop the option)"},
    {"-cnv|--conversation|-i|--interactive|--interactive-first|-if|-st|--single-turn", kNoChat},
    {"--mlock", "lmgen does not lock memory; use --no-mmap to read the weights into memory instead of mapping them"},
    {"--numa", "lmgen has no NUMA modes; pin it with taskset or numactl (the default thread count follows the "
               "affinity mask)"},
    {"--mirostat|--mirostat-lr|--mirostat-ent", "lmgen has no mirostat sampler; use --temp, --top-k, --top-p, "
                                                "--min-p (see --samplers)"},
    {"--typical|--dynatemp-range|--dynatemp-exp|--xtc-probability|--xtc-threshold|--top-nsigma|--dry-multiplier",
     "lmgen does not have this sampler; its steps are penalties, logit_bias, top_k, top_p, min_p, temperature "
     "(--samplers)"},
    {"-hf|--hf-repo|-hfr|--hf-file|-hff|-mu|--model-url", "lmgen does not download models; download the file and "
                                                         "pass -m PATH"},
    {"--lora-scaled", "lmgen takes the scale after the adapter's path: --lora PATH:SCALE"},
    {"--control-vector|--control-vector-scaled|--control-vector-layer-range",
     "lmgen does not apply control vectors (it applies LoRA adapters: --lora PATH[:SCALE])"},
    {"-tb|--threads-batch", "lmgen uses one thread count for the prompt and generation: use -t"},
    {"-ctk|--cache-type-k|-ctv|--cache-type-v", "lmgen's KV cache is always F32 (drop the option)"},
    {"--prompt-cache|--prompt-cache-all|--prompt-cache-ro", "lmgen has no prompt cache; every run starts from an "
                                                             "empty context"},
    {"-sys|--system-prompt", "lmgen chat takes the system message as --system TEXT"},
    {"--in-prefix|--in-suffix|--in-prefix-bos|--keep", kNoChat},
    {"--rope-scaling|--rope-scale|--rope-freq-base|--rope-freq-scale|--yarn-orig-ctx",
     "lmgen uses the model's own RoPE settings; they cannot be overridden"},
};

constexpr std::string_view kDropped[] = {"-no-cnv", "--no-conversation", "--no-display-prompt", "--simple-io",
                                         "--no-warmup", "--jinja"};

bool listed(std::string_view names, std::string_view arg) {
  size_t start = 0;
  while (start <= names.size()) {
    const size_t bar = std::min(names.find('|', start), names.size());
    if (names.substr(start, bar - start) == arg) return true;
    start = bar + 1;
  }
  return false;
}

}  // namespace

void rewrite_llama_args(std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (const std::string& arg : args) {
    if (arg == "--") break;
    const std::string name = arg.substr(0, arg.find('='));
    for (const Answer& a : kRefused)
      if (listed(a.names, name)) throw UsageError(name + ": " + std::string(a.says));
  }
  bool after_dashdash = false;
  for (std::string& arg : args) {
    if (arg == "--") after_dashdash = true;
    bool drop = false;
    if (!after_dashdash)
      for (std::string_view d : kDropped) drop = drop || arg == d;
    if (!drop) out.push_back(std::move(arg));
  }
  args = std::move(out);
}

std::string process_escapes(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    const char c = s[++i];
    switch (c) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case '\\': out += '\\'; break;
      case '"': out += '"'; break;
      case '\'': out += '\''; break;
      case 'x': {
        auto hex = [](char h) { return std::isxdigit(static_cast<unsigned char>(h)) != 0; };
        if (i + 2 < s.size() && hex(s[i + 1]) && hex(s[i + 2])) {
          out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
          i += 2;
        } else {
          out += "\\x";
        }
        break;
      }
      default: out += '\\'; out += c;
    }
  }
  return out;
}

}  // namespace lmgen::cli
