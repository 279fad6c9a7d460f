// The default command: generate a continuation of a prompt, streaming text (or JSONL records) to stdout.
#include <chrono>
#include <cmath>
#include <memory>

#include "cli/cli.hpp"
#include "lmgen/error.hpp"

namespace lmgen::cli {

namespace {

struct GenerateArgs {
  ModelArgs model;
  PromptArgs prompt;
  GenerateOptions gen;
  std::vector<std::string> logit_bias;  // "ID=BIAS"
  int64_t seed = 0;
  bool jsonl = false;
  bool echo = false;
  bool trace = false;
  bool batch = false;
};

std::vector<std::pair<int32_t, float>> parse_logit_bias(const std::vector<std::string>& items) {
  std::vector<std::pair<int32_t, float>> out;
  for (const auto& s : items) {
    size_t eq = s.find('=');
    try {
      if (eq == std::string::npos) throw std::invalid_argument("no '='");
      size_t used = 0;
      long id = std::stol(s.substr(0, eq), &used);
      if (used != eq || id < 0) throw std::invalid_argument("bad id");
      std::string b = s.substr(eq + 1);
      float bias = std::stof(b, &used);
      if (used != b.size()) throw std::invalid_argument("bad bias");
      out.emplace_back(static_cast<int32_t>(id), bias);
    } catch (const std::exception&) {
      throw UsageError("--logit-bias expects ID=BIAS (e.g. 15043=-inf or 13=2.5), got '" + s + "'");
    }
  }
  return out;
}

std::string escape_for_trace(const std::string& s) {
  nlohmann::json j = s;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// One --trace block on stderr: the model's top candidates (p over the whole vocabulary) beside what the sampler
// chain kept (its logits after penalties, bias and temperature; p over the survivors, the distribution it drew from).
void print_trace(const Tokenizer& tok, const SampleTrace& t, int step) {
  auto show = [&](int32_t id) { return escape_for_trace(tok.token_to_piece(id)); };
  std::fprintf(stderr, "[step %d] chose %d %s  (%zu candidates kept of %zu)\n", step, t.selected, show(t.selected).c_str(),
               t.after_count, t.before_count);
  std::fprintf(stderr, "  %-8s %-18s %10s %9s   |  %-8s %-18s %10s %9s\n", "id", "model", "logit", "p", "id", "after",
               "logit", "p");
  for (size_t i = 0; i < t.before.size() || i < t.after.size(); ++i) {
    char left[160], right[160];
    if (i < t.before.size()) {
      const Candidate& c = t.before[i];
      std::snprintf(left, sizeof left, "  %-8d %-18.18s %10.4f %9.5f", c.id, show(c.id).c_str(), c.logit, c.p);
    } else {
      std::snprintf(left, sizeof left, "%50s", "");
    }
    right[0] = 0;
    if (i < t.after.size()) {
      const Candidate& c = t.after[i];
      std::snprintf(right, sizeof right, "   |  %-8d %-18.18s %10.4f %9.5f", c.id, show(c.id).c_str(), c.logit, c.p);
    }
    std::fprintf(stderr, "%s%s\n", left, right);
  }
}

// Applies the per-line options of a --batch JSONL line on top of the command-line options.
GenerateOptions line_options(const GenerateOptions& base, const nlohmann::json& j) {
  GenerateOptions o = base;
  auto& s = o.sampling;
  try {
    for (const auto& [k, v] : j.items()) {
      if (k == "prompt") continue;
      else if (k == "n_predict" || k == "n") o.n_predict = v.get<int32_t>();
      else if (k == "temperature" || k == "temp") s.temperature = v.get<float>();
      else if (k == "top_k") s.top_k = v.get<int32_t>();
      else if (k == "top_p") s.top_p = v.get<float>();
      else if (k == "min_p") s.min_p = v.get<float>();
      else if (k == "seed") s.seed = v.get<uint64_t>();
      else if (k == "repeat_penalty") s.repeat_penalty = v.get<float>();
      else if (k == "frequency_penalty") s.frequency_penalty = v.get<float>();
      else if (k == "presence_penalty") s.presence_penalty = v.get<float>();
      else if (k == "stop") o.stop = v.is_string() ? std::vector<std::string>{v.get<std::string>()} : v.get<std::vector<std::string>>();
      else if (k == "ignore_eos") o.ignore_eos = v.get<bool>();
      else throw UsageError("unknown option \"" + k + "\"");
    }
  } catch (const nlohmann::json::exception& e) {
    throw UsageError(std::string("bad option value: ") + e.what());
  }
  if (o.n_predict < -1) throw UsageError("n_predict must be -1 or more");
  return o;
}

// --batch: one prompt per input line (plain text, or a JSON object {"prompt": ..., per-line options}); one JSONL
// result per prompt, in input order, with the model loaded once. Every prompt starts from an empty context and
// the same seed, so a result does not depend on the other lines (inputs can be sharded freely).
// Token ids given on the command line must exist in the model's vocabulary.
void check_bias_ids(const GenerateOptions& g, int64_t n_vocab) {
  for (const auto& [id, bias] : g.sampling.logit_bias)
    if (id >= n_vocab)
      throw UsageError("--logit-bias: token id " + std::to_string(id) + " is outside the vocabulary (" +
                       std::to_string(n_vocab) + " tokens)");
}

int run_batch(GenerateArgs& a, Context& ctx, const std::string& input) {
  LoadedModel lm = load(a.model);
  check_bias_ids(a.gen, lm.model->config.n_vocab);
  Model model(lm.model, model_options(a.model));
  Generator gen(model, *lm.tokenizer);
  int64_t index = 0;
  for_each_line(input, [&](const std::string& line) {
    nlohmann::ordered_json out = {{"prompt_index", index++}};
    try {
      std::string prompt = line;
      GenerateOptions o = a.gen;
      if (!line.empty() && line.front() == '{') {
        nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_object() && j.contains("prompt") && j["prompt"].is_string()) {
          prompt = j["prompt"].get<std::string>();
          o = line_options(a.gen, j);
        }
      }
      GenerateResult r = gen.generate(prompt, o);
      out["text"] = r.text;
      out["stop_reason"] = stop_reason_name(r.stop_reason);
      out["tokens"] = r.tokens;
      out["prompt_tokens"] = r.prompt_tokens.size();
      out["generated_tokens"] = r.tokens.size();
      out["prompt_ms"] = r.prompt_ms;
      out["generate_ms"] = r.generate_ms;
    } catch (const Error& e) {
      out["error"] = e.what();  // one bad line does not end the batch
    }
    return write_out(ctx, json_line(out)) && !ctx.interrupted->load();
  });
  return 0;
}

int run(GenerateArgs& a, Context& ctx) {
  if (a.gen.n_predict < -1) throw UsageError("-n must be -1 (no limit) or a non-negative number of tokens");
  if (a.gen.n_probs > 0 && !a.jsonl && !a.batch) throw UsageError("--n-probs needs --jsonl (the probabilities are JSON)");
  a.gen.sampling.seed = static_cast<uint64_t>(a.seed);
  a.gen.sampling.logit_bias = parse_logit_bias(a.logit_bias);
  a.gen.encode = encode_options(a.prompt);
  (void)make_sampler_chain(a.gen.sampling);  // validate decoding options before loading anything

  const std::string prompt = read_prompt(a.prompt);
  if (a.batch) return run_batch(a, ctx, prompt);
  LoadedModel lm = load(a.model);
  check_bias_ids(a.gen, lm.model->config.n_vocab);
  Model model(lm.model, model_options(a.model));
  Generator gen(model, *lm.tokenizer);
  const Tokenizer& tok = *lm.tokenizer;

  if (a.echo && !a.jsonl) write_out(ctx, prompt);
  int step = 0;
  auto on_token = [&](const TokenEvent& ev) -> bool {
    if (a.jsonl) {
      if (ev.id >= 0) {
        nlohmann::ordered_json j = {{"token", ev.id}, {"text", ev.piece}};
        if (a.gen.n_probs > 0) {
          j["logprob"] = ev.logprob;
          nlohmann::ordered_json top = nlohmann::ordered_json::array();
          for (const auto& t : ev.top)
            top.push_back({{"token", t.id}, {"text", tok.token_to_piece(t.id)}, {"logprob", t.logprob}});
          j["top"] = top;
        }
        write_out(ctx, json_line(j));
      }
    } else {
      write_out(ctx, ev.text);
    }
    ++step;
    return !ctx.stdout_broken && !ctx.interrupted->load();
  };
  TraceHook trace;
  if (a.trace)
    trace = [&](const SampleTrace& t) { print_trace(tok, t, step); };

  GenerateResult r = gen.generate(prompt, a.gen, on_token, trace);
  if (a.jsonl) {
    nlohmann::ordered_json done = {{"done", true},
                           {"stop_reason", stop_reason_name(r.stop_reason)},
                           {"prompt_tokens", r.prompt_tokens.size()},
                           {"generated_tokens", r.tokens.size()},
                           {"prompt_ms", r.prompt_ms},
                           {"generate_ms", r.generate_ms},
                           {"text", r.text}};
    write_out(ctx, json_line(done));
  }
  if (!a.model.quiet && (a.model.verbose > 0 || isatty(STDERR_FILENO))) {
    const double gen_tps = r.generate_ms > 0 ? 1000.0 * static_cast<double>(r.tokens.size()) / r.generate_ms : 0;
    const double pp_tps = r.prompt_ms > 0 ? 1000.0 * static_cast<double>(r.prompt_tokens.size()) / r.prompt_ms : 0;
    std::fprintf(stderr, "\nlmgen: stop: %s; prompt %zu tokens (%.1f ms, %.1f tok/s); generated %zu tokens (%.1f ms, %.1f tok/s)\n",
                 stop_reason_name(r.stop_reason), r.prompt_tokens.size(), r.prompt_ms, pp_tps, r.tokens.size(),
                 r.generate_ms, gen_tps);
  }
  return 0;
}

}  // namespace

Command setup_generate(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<GenerateArgs>();
  app.set_version_flag("--version", std::string("lmgen ") + LMGEN_VERSION);
  app.footer(
      "Each subcommand has its own --help (lmgen score --help).\n\n"
      "Examples:\n"
      "  lmgen -p \"ROMEO:\"                                   # bundled model, default sampling\n"
      "  lmgen -m model.gguf -p \"Once upon a time\" --temp 0 -n 64\n"
      "  cat prompt.txt | lmgen -m model.gguf --temp 0.7 -s 42 > out.txt\n"
      "  lmgen -m stories260K.bin --tokenizer tok512.bin --temp 0 -n 200\n"
      "  lmgen -m model.gguf -p \"Hi\" --jsonl --n-probs 5 | jq .\n"
      "Without -m, lmgen runs the model bundled in models/. Exit status: 0 ok, 1 error, 2 usage error, "
      "130 interrupted.");
  add_model_source_options(app, a->model);
  add_prompt_options(app, a->prompt);
  auto& g = a->gen;
  auto& s = g.sampling;
  app.add_option("-n,--n-predict", g.n_predict, "Tokens to generate (-1: until end of text or context full)")
      ->capture_default_str()->group("Decoding");
  app.add_option("--temp", s.temperature, "Temperature; 0 = greedy (argmax)")->capture_default_str()->group("Decoding");
  app.add_option("--top-k", s.top_k, "Keep the k most likely tokens (0 = off)")->capture_default_str()->group("Decoding");
  app.add_option("--top-p", s.top_p, "Keep the smallest set reaching probability p (1 = off)")
      ->capture_default_str()->group("Decoding");
  app.add_option("--min-p", s.min_p, "Drop tokens below min-p × the top probability (0 = off)")
      ->capture_default_str()->group("Decoding");
  app.add_option("-s,--seed", a->seed, "Random seed (same seed, same text on any machine)")
      ->capture_default_str()->group("Decoding");
  app.add_option("--repeat-penalty", s.repeat_penalty, "Repetition penalty (1 = off)")
      ->capture_default_str()->group("Decoding");
  app.add_option("--repeat-last-n", s.penalty_last_n, "Tokens the penalties look back over")
      ->capture_default_str()->group("Decoding");
  app.add_option("--frequency-penalty", s.frequency_penalty, "Frequency penalty (0 = off)")
      ->capture_default_str()->group("Decoding");
  app.add_option("--presence-penalty", s.presence_penalty, "Presence penalty (0 = off)")
      ->capture_default_str()->group("Decoding");
  app.add_option("--logit-bias", a->logit_bias, "Add BIAS to token ID's logit: ID=BIAS (repeatable; -inf bans)")
      ->group("Decoding");
  app.add_option("--samplers", s.order, "Order of the decoding steps (comma-separated)")
      ->capture_default_str()->group("Decoding");
  app.add_flag("--ignore-eos", g.ignore_eos, "Keep generating past end-of-text tokens")->group("Decoding");
  app.add_option("--stop", g.stop, "Stop when this text is generated (repeatable; not printed)")->group("Decoding");
  app.add_flag("--jsonl", a->jsonl,
               "Print one JSON object per token {\"token\",\"text\"} and a final {\"done\":true,...} record")
      ->group("Output");
  app.add_option("--n-probs", g.n_probs, "With --jsonl: add each token's logprob and the K most likely tokens")
      ->check(CLI::NonNegativeNumber)->group("Output");
  app.add_flag("--batch", a->batch,
               "Batch mode: one prompt per input line (text, or JSON {\"prompt\": ..., \"temp\": ...}); one JSONL "
               "result per prompt, in order")
      ->group("Output");
  app.add_flag("--echo", a->echo, "Print the prompt before the continuation")->group("Output");
  app.add_flag("--trace", a->trace, "Show each step's top candidates before/after decoding settings on stderr")
      ->group("Output");
  app.add_flag("--render-special", g.render_special, "Print special tokens' text instead of nothing")->group("Output");
  add_log_options(app, a->model);
  add_runtime_options(app, a->model);
  Context* c = &ctx;
  return Command{&app, [a, c] { return run(*a, *c); }};
}

}  // namespace lmgen::cli
