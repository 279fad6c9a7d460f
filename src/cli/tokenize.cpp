// `lmgen tokenize` and `lmgen detokenize`: text <-> ids with a model's tokenizer, for scripts.
//   tokenize:   text from -p/-f/stdin -> JSON array of ids; --jsonl: lines {"text": ...} -> lines {"ids": [...]}
//   detokenize: JSON array of ids -> text;                  --jsonl: lines {"ids": [...]} -> lines {"text": ...}
#include <filesystem>
#include <memory>

#include "cli/cli.hpp"
#include "lmgen/error.hpp"
#include "lmgen/tokenizer.hpp"
#include "util/json_limits.hpp"

namespace lmgen::cli {

namespace {

struct TokenizeArgs {
  ModelArgs model;
  PromptArgs prompt;
  bool jsonl = false;
  bool skip_special = false;  // detokenize only
};

// A tokenizer from -m (model file/dir, tokenizer.json, vocab-only GGUF) or --tokenizer.
std::shared_ptr<const Tokenizer> open_tokenizer(const ModelArgs& m) {
  if (!m.tokenizer.empty()) return load_tokenizer(m.tokenizer);
  LoadOptions lo;
  lo.load_weights = false;
  return load_model_or_usage(resolve_model_path(m.model), lo).tokenizer;
}

// `where` names the input ("the input", "input line 3"), `what` the JSON expected of it.
nlohmann::json parse_json_input(const std::string& text, const std::string& where, const char* what) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw UsageError(where + " is not " + what + " (not valid JSON at " + json_error_text(e) + ")");
  }
}

std::vector<int32_t> ids_from_json(const nlohmann::json& j, const Tokenizer& tok) {
  if (!j.is_array()) throw UsageError("the input is not a JSON array of token ids such as [15043, 3186]");
  std::vector<int32_t> ids;
  for (const auto& v : j) {
    if (!v.is_number_integer()) throw UsageError("token ids must be integers");
    int64_t id = v.get<int64_t>();
    if (id < 0 || id >= tok.n_vocab())
      throw UsageError("token id " + std::to_string(id) + " is outside the vocabulary (" + std::to_string(tok.n_vocab()) + ")");
    ids.push_back(static_cast<int32_t>(id));
  }
  return ids;
}

int run_tokenize(const TokenizeArgs& a, Context& ctx) {
  auto tok = open_tokenizer(a.model);
  const EncodeOptions eo = encode_options(a.prompt);
  if (a.jsonl) {
    size_t n = 0;
    for_each_input_line(a.prompt, [&](const std::string& line) {
      if (++n, line.empty()) return true;
      nlohmann::json j = parse_json_input(line, "input line " + std::to_string(n), "a JSON object {\"text\": ...}");
      if (!j.is_object() || !j.contains("text") || !j["text"].is_string())
        throw UsageError("each --jsonl input line must be an object with a string \"text\"");
      nlohmann::ordered_json out = {{"ids", tok->encode(j["text"].get<std::string>(), eo)}};
      return write_out(ctx, json_line(out)) && !ctx.interrupted->load();
    });
    return 0;
  }
  std::vector<int32_t> ids = tok->encode(read_prompt(a.prompt), eo);
  write_out(ctx, json_line(nlohmann::ordered_json(ids)));
  return 0;
}

int run_detokenize(const TokenizeArgs& a, Context& ctx) {
  auto tok = open_tokenizer(a.model);
  if (a.jsonl) {
    size_t n = 0;
    for_each_input_line(a.prompt, [&](const std::string& line) {
      if (++n, line.empty()) return true;
      nlohmann::json j = parse_json_input(line, "input line " + std::to_string(n), "a JSON object {\"ids\": [...]}");
      if (!j.is_object() || !j.contains("ids")) throw UsageError("each --jsonl input line must be an object with \"ids\"");
      nlohmann::ordered_json out = {{"text", tok->decode(ids_from_json(j["ids"], *tok), a.skip_special)}};
      return write_out(ctx, json_line(out)) && !ctx.interrupted->load();
    });
    return 0;
  }
  write_out(ctx, tok->decode(ids_from_json(parse_json_input(read_prompt(a.prompt), "the input", "a JSON array of token ids such as [15043, 3186]"), *tok), a.skip_special));
  return 0;
}

}  // namespace

std::vector<Command> setup_tokenize(CLI::App& app, Context& ctx) {
  std::vector<Command> out;
  Context* c = &ctx;
  {
    auto a = std::make_shared<TokenizeArgs>();
    CLI::App* sub = app.add_subcommand("tokenize", "Print the token ids of a text as a JSON array");
    sub->footer(
        "Reads the text from -p, -f FILE or standard input (-p - / -f -); --jsonl answers each line as it arrives.\n\n"
        "Examples:\n"
        "  echo -n 'Hello world' | lmgen tokenize -m model.gguf          -> [1,15043,3186]\n"
        "  lmgen tokenize -m model.gguf -p 'Hello' --no-add-special\n"
        "  printf '{\"text\": \"Hi\"}\\n' | lmgen tokenize -m model.gguf --jsonl");
    add_model_options(*sub, a->model, false);
    add_prompt_options(*sub, a->prompt);
    sub->add_flag("--jsonl", a->jsonl, "Read lines {\"text\": ...}, write lines {\"ids\": [...]}, in order")->group("Output");
    out.push_back(Command{sub, [a, c] { return run_tokenize(*a, *c); }});
  }
  {
    auto a = std::make_shared<TokenizeArgs>();
    CLI::App* sub = app.add_subcommand("detokenize", "Print the text of a JSON array of token ids");
    sub->footer(
        "Reads the ids from -p, -f FILE or standard input; --jsonl answers each line as it arrives.\n\n"
        "Examples:\n"
        "  echo '[15043,3186]' | lmgen detokenize -m model.gguf          -> Hello world\n"
        "  printf '{\"ids\": [1,15043]}\\n' | lmgen detokenize -m model.gguf --jsonl --skip-special");
    add_model_options(*sub, a->model, false);
    add_input_options(*sub, a->prompt, "The ids, a JSON array such as [15043, 3186]; '-' reads standard input",
                      "Read the ids from a file");
    sub->add_flag("--jsonl", a->jsonl, "Read lines {\"ids\": [...]}, write lines {\"text\": ...}, in order")->group("Output");
    sub->add_flag("--skip-special", a->skip_special, "Leave out special tokens' text")->group("Output");
    out.push_back(Command{sub, [a, c] { return run_detokenize(*a, *c); }});
  }
  return out;
}

}  // namespace lmgen::cli
