// `lmgen score`: teacher-forced scoring of a text (perplexity), the llama-perplexity chunk method by default or a
// sliding window with --stride. See docs/evaluation.md for exactly what is computed.
//   default: a short summary on stdout;  --jsonl: one {"token","text","logprob"} line per scored token, then
//   {"done": true, "tokens_scored", "cross_entropy", "perplexity", ...}.
#include <unistd.h>

#include <cmath>
#include <memory>

#include "cli/cli.hpp"
#include "lmgen/error.hpp"
#include "lmgen/scorer.hpp"

namespace lmgen::cli {

namespace {

struct ScoreArgs {
  ModelArgs model;
  PromptArgs prompt;
  int64_t stride = 0;
  bool parse_special = false;
  bool jsonl = false;
  std::string sft;       // --sft FILE.jsonl
  bool compare = false;  // --compare
};

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// How many tokens score_text will score (for the progress bar); 0 when the text cannot be scored (score_text then
// says why).
int64_t tokens_to_score(const Tokenizer& tok, const std::string& text, const ScoreOptions& so, const EncodeOptions& eo) {
  try {
    int64_t n = 0;
    for (const ScoreWindow& w : plan_score_windows(static_cast<int64_t>(tok.encode(text, eo).size()), so))
      n += w.end - w.score_begin;
    return n;
  } catch (const Error&) {
    return 0;
  }
}

// The totals: a last JSON line with --jsonl, else a short report.
void write_score_result(const ScoreResult& r, const ScoreOptions& so, bool jsonl, Context& ctx) {
  const char* method = so.stride == 0 ? "chunks" : "sliding";
  if (jsonl) {
    nlohmann::ordered_json done = {{"done", true},
                           {"tokens_scored", r.tokens_scored},
                           {"cross_entropy", r.cross_entropy()},
                           {"perplexity", r.perplexity()},
                           {"method", method},
                           {"n_ctx", so.n_ctx},
                           {"tokens", r.n_tokens},
                           {"windows", r.n_windows}};
    if (so.stride > 0) done["stride"] = so.stride;
    if (ctx.interrupted->load()) done["interrupted"] = true;
    write_out(ctx, json_line(done));
    return;
  }
  std::string out;
  out += "text:          " + std::to_string(r.n_tokens) + " tokens\n";
  if (so.stride == 0)
    out += "method:        llama.cpp chunks of " + std::to_string(so.n_ctx) + " tokens (" + std::to_string(r.n_windows) +
           " chunks; last " + std::to_string(so.n_ctx - so.n_ctx / 2 - 1) + " tokens of each scored)\n";
  else
    out += "method:        sliding window of " + std::to_string(so.n_ctx) + " tokens, stride " +
           std::to_string(so.stride) + " (" + std::to_string(r.n_windows) + " windows)\n";
  out += "tokens scored: " + std::to_string(r.tokens_scored) + "\n";
  out += "cross-entropy: " + fmt("%.6f", r.cross_entropy()) + " nats/token (" +
         fmt("%.6f", r.cross_entropy() / std::log(2.0)) + " bits)\n";
  out += "perplexity:    " + fmt("%.4f", r.perplexity()) + "\n";
  if (ctx.interrupted->load()) out += "interrupted:   the figures cover the tokens scored before Ctrl-C\n";
  write_out(ctx, out);
}

int run_score(const ScoreArgs& a, Context& ctx) {
  if (a.stride < 0) throw UsageError("--stride must be positive (or 0 for the llama.cpp chunk method)");
  if (!a.sft.empty()) {
    if (a.prompt.prompt_set || !a.prompt.file.empty() || a.stride > 0 || a.jsonl || a.parse_special ||
        a.prompt.no_add_special)
      throw UsageError("--sft reads its examples from FILE and always writes JSON lines: drop -p/-f/--stride/--jsonl/"
                       "--parse-special/--no-add-special");
    return run_score_sft(a.model, a.sft, a.compare, ctx);
  }
  if (a.compare) throw UsageError("--compare goes with --sft FILE");
  const std::string text = read_prompt(a.prompt);
  if (text.empty()) throw UsageError("score: no text to score (give -f FILE, -p TEXT or text on standard input)");
  LoadedModel lm = load(a.model);
  const Tokenizer& tok = *lm.tokenizer;
  Model model(lm.model, model_options(a.model));

  ScoreOptions so;
  so.n_ctx = a.model.n_ctx > 0 ? a.model.n_ctx : model.n_ctx();
  so.stride = a.stride;
  EncodeOptions eo = score_encode_options();
  eo.add_special = !a.prompt.no_add_special;
  eo.parse_special = a.parse_special;

  const bool progress = !a.model.quiet && a.model.verbose > 1;  // -vv: per-chunk perplexity, as llama-perplexity
  const bool show_bar = progress_wanted(a.model);
  Progress bar(show_bar, "score", show_bar ? tokens_to_score(tok, text, so, eo) : 0, "tokens", color_wanted(a.model));
  int64_t n_done = 0;
  const int64_t n_train = lm.model->config.n_ctx_train;
  if (!a.model.quiet && n_train > 0 && so.n_ctx > n_train)
    std::fprintf(stderr, "lmgen: warning: scoring windows of %lld tokens, longer than the %lld the model was trained on\n",
                 static_cast<long long>(so.n_ctx), static_cast<long long>(n_train));
  ScoreCallback on_token;
  if (a.jsonl)
    on_token = [&](const ScoredToken& t) {
      nlohmann::ordered_json j = {{"token", t.id}};
      put_piece(j, tok.token_to_piece(t.id));
      j["logprob"] = t.logprob;
      write_out(ctx, json_line(j));
      bar.update(++n_done);
      return !ctx.stdout_broken && !ctx.interrupted->load();
    };
  else
    on_token = [&](const ScoredToken&) {
      bar.update(++n_done);
      return !ctx.interrupted->load();
    };
  WindowCallback on_window;
  if (progress)
    on_window = [&](const ScoreResult& r) {
      std::fprintf(stderr, "[%lld]%.4f%s", static_cast<long long>(r.n_windows), r.perplexity(),
                   r.n_windows % 10 == 0 ? "\n" : ",");
      std::fflush(stderr);
    };

  const ScoreResult r = score_text(model, tok, text, so, eo, on_token, on_window);
  bar.finish();
  if (progress) std::fprintf(stderr, "\n");
  if (ctx.stdout_broken) return 0;
  write_score_result(r, so, a.jsonl, ctx);
  return 0;
}

}  // namespace

std::vector<Command> setup_score(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<ScoreArgs>();
  CLI::App* sub = app.add_subcommand("score", "Teacher-forced scoring of a text: per-token log-probabilities, perplexity");
  sub->footer(
      "The text comes from -f FILE, -p TEXT or standard input (-f - / -p -). At a terminal a progress bar shows\n"
      "the tokens scored; -vv prints the running perplexity after each chunk, as llama-perplexity does.\n"
      "Default windowing is llama-perplexity's: the text is tokenized once, cut into whole chunks of -c tokens, each\n"
      "evaluated from an empty context with BOS as its first token, scoring only the second half of each chunk.\n"
      "--stride S uses sliding windows of -c tokens advancing by S instead. -c is the chunk/window length (and the\n"
      "model's context; default: the model's). See docs/evaluation.md for exactly what is computed.\n\n"
      "Examples:\n"
      "  lmgen score -m model.gguf -f wiki.test.raw -c 512\n"
      "  lmgen score -m model.gguf -f text.txt -c 1024 --stride 512 --jsonl | tail -1\n"
      "  lmgen score -m base/ --lora adapter/ --sft heldout.jsonl --compare | tail -1");
  add_model_options(*sub, a->model, true);
  sub->add_option("-p,--prompt", a->prompt.prompt, "Text to score, byte for byte; '-' reads standard input")
      ->each([p = &a->prompt](const std::string&) { p->prompt_set = true; })
      ->group("Text");
  sub->add_option("-f,--file", a->prompt.file, "Read the text to score from a file (byte for byte)")
      ->check(path_check())
      ->group("Text");
  sub->add_flag("--no-add-special", a->prompt.no_add_special, "Do not insert BOS (nor replace chunk starts with it)")
      ->group("Text");
  sub->add_flag("--parse-special", a->parse_special,
                "Read special-token text such as <|endoftext|> in the text as control tokens (default: plain text)")
      ->group("Text");
  sub->add_option("--stride", a->stride, "Sliding window advancing by S tokens (1..c) instead of llama.cpp chunks")
      ->check(count_check(0))
      ->group("Scoring");
  sub->add_flag("--jsonl", a->jsonl,
                "One {\"token\",\"text\",\"logprob\"} line per scored token, then a {\"done\":true,...} summary")
      ->group("Output");
  sub->add_option("--sft", a->sft,
                  "Fine-tuning evaluation: FILE.jsonl of {\"prompt\",\"completion\"}, {\"messages\"} or {\"text\"} "
                  "examples, each scored on the tokens its training loss covers ('-' = standard input); one JSON line "
                  "per example, then a summary (docs/evaluation.md \"SFT\")")
      ->type_name("FILE")
      ->check(path_check())
      ->group("Fine-tuning");
  sub->add_flag("--compare", a->compare,
                "With --sft and --lora: score every example with the base model too, and print both and the "
                "difference")
      ->group("Fine-tuning");
  Context* c = &ctx;
  return {Command{sub, [a, c] { return run_score(*a, *c); }}};
}

}  // namespace lmgen::cli
