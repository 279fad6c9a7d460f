// The default command: generate a continuation of a prompt, streaming text (or JSONL records) to stdout.
#include <chrono>
#include <cmath>
#include <memory>

#include <algorithm>
#include <random>

#include "cli/generate.hpp"
#include "lmgen/error.hpp"

namespace lmgen::cli {

namespace {

// --logit-bias / -l: ID=BIAS, or llama.cpp's ID+BIAS / ID-BIAS (the sign belongs to the bias).
std::vector<std::pair<int32_t, float>> parse_logit_bias(const std::vector<std::string>& items) {
  std::vector<std::pair<int32_t, float>> out;
  for (const auto& s : items) {
    try {
      const size_t sep = s.find_first_of("=+-", 1);
      if (sep == std::string::npos) throw std::invalid_argument("no separator");
      size_t used = 0;
      const long id = std::stol(s.substr(0, sep), &used);
      if (used != sep || id < 0 || id > INT32_MAX) throw std::invalid_argument("bad id");
      const std::string b = s.substr(s[sep] == '=' ? sep + 1 : sep);
      const float bias = std::stof(b, &used);
      if (used != b.size() || (b[0] == '+' && s[sep] == '=')) throw std::invalid_argument("bad bias");
      out.emplace_back(static_cast<int32_t>(id), bias);
    } catch (const std::exception&) {
      throw UsageError("--logit-bias expects ID=BIAS, ID+BIAS or ID-BIAS (e.g. 15043=-inf, 13+2.5), got '" + s + "'");
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

// A seed from the system's entropy source, for sampling runs without -s (reported so the run can be replayed).
uint64_t random_seed() {
  std::random_device rd;
  return ((static_cast<uint64_t>(rd()) << 32) | rd()) & 0xFFFFFFFFFFFFull;  // 48 bits: exact in any JSON reader
}

// -v: the seed (-vv: also the prompt's token ids), before generation starts.
void print_verbose_start(const GenerateArgs& a, const Tokenizer& tok, const std::string& prompt) {
  print_seed(a);
  if (a.model.quiet || a.model.verbose < 2) return;
  std::string ids;
  for (int32_t id : tok.encode(prompt, a.gen.encode)) ids += (ids.empty() ? "" : ",") + std::to_string(id);
  std::fprintf(stderr, "lmgen: prompt tokens [%s]\n", ids.c_str());
}

// At the end (-v, or stderr a terminal): why generation stopped, the speeds, and with -v the sampler chain used.
void print_timings(const GenerateArgs& a, const GenerateResult& r) {
  if (a.model.quiet || (a.model.verbose == 0 && !isatty(STDERR_FILENO))) return;
  const double gen_tps = r.generate_ms > 0 ? 1000.0 * static_cast<double>(r.tokens.size()) / r.generate_ms : 0;
  const double pp_tps = r.prompt_ms > 0 ? 1000.0 * static_cast<double>(r.prompt_tokens.size()) / r.prompt_ms : 0;
  std::fprintf(stderr,
               "\nlmgen: stop: %s; prompt %zu tokens (%.1f ms, %.1f tok/s); generated %zu tokens (%.1f ms, %.1f "
               "tok/s)\n",
               stop_reason_name(r.stop_reason), r.prompt_tokens.size(), r.prompt_ms, pp_tps, r.tokens.size(),
               r.generate_ms, gen_tps);
  if (a.model.verbose > 0) std::fprintf(stderr, "lmgen: sampler chain: %s\n", r.sampler.c_str());
}

// Checks and settles the options before anything is loaded: seed (random when not given), bias, escapes.
void prepare_args(GenerateArgs& a) {
  if (a.gen.n_predict < -1) throw UsageError("-n must be -1 (no limit) or a non-negative number of tokens");
  if (a.gen.n_probs > 0 && !a.jsonl && !a.batch) throw UsageError("--n-probs needs --jsonl (the probabilities are JSON)");
  if (a.seed < -1) throw UsageError("-s must be a seed (0 or more), or -1 for a random one");
  a.gen.sampling.seed = a.seed >= 0 ? static_cast<uint64_t>(a.seed) : random_seed();
  a.gen.sampling.logit_bias = parse_logit_bias(a.logit_bias);
  std::replace(a.gen.sampling.order.begin(), a.gen.sampling.order.end(), ';', ',');  // llama.cpp's separator
  a.gen.encode = encode_options(a.prompt);
  if (a.escape && a.prompt.prompt_set) a.prompt.prompt = process_escapes(a.prompt.prompt);
  validate_sampling_options(a.gen.sampling);  // before loading anything
  const std::string gbnf = grammar_text(a.grammar, a.model.quiet);
  if (!gbnf.empty()) a.gen.sampling.grammar.grammar = compile_gbnf(gbnf);  // its vocabulary index after loading
}

int run(GenerateArgs& a, Context& ctx) {
  prepare_generate_args(a);
  if (a.batch) return run_batch(a, ctx);
  const std::string prompt = read_prompt(a.prompt);
  auto [lm, model] = load_for_generation(a);
  Generator gen(*model, *lm.tokenizer);
  const Tokenizer& tok = *lm.tokenizer;
  print_verbose_start(a, tok, prompt);

  if (a.echo && !a.jsonl) write_out(ctx, prompt);
  int step = 0;
  auto on_token = [&](const TokenEvent& ev) -> bool {
    if (!a.jsonl) write_out(ctx, ev.text);
    else if (ev.id >= 0) write_out(ctx, json_line(token_record(ev, tok, a.gen.n_probs)));
    ++step;
    return !ctx.stdout_broken && !ctx.interrupted->load();
  };
  TraceHook trace;
  if (a.trace) trace = [&](const SampleTrace& t) { print_trace(tok, t, step); };

  GenerateResult r = gen.generate(prompt, a.gen, on_token, trace);
  if (a.jsonl) write_out(ctx, json_line(done_record(r, a.gen.sampling.seed)));
  print_timings(a, r);
  return 0;
}

}  // namespace

void print_seed(const GenerateArgs& a) {
  if (a.model.quiet || a.model.verbose == 0) return;
  std::fprintf(stderr, "lmgen: seed %llu%s\n", static_cast<unsigned long long>(a.gen.sampling.seed),
               a.seed < 0 ? " (random; -s to replay)" : "");
}

void check_bias_ids(const GenerateOptions& g, int64_t n_vocab) {
  for (const auto& [id, bias] : g.sampling.logit_bias)
    if (id >= n_vocab)
      throw UsageError("--logit-bias: token id " + std::to_string(id) + " is outside the vocabulary (" +
                       std::to_string(n_vocab) + " tokens)");
}

GenerationModel load_for_generation(GenerateArgs& a) {
  GenerationModel g{load(a.model), nullptr};
  const ModelConfig& c = g.lm.model->config;
  a.gen.eog_ids = g.lm.eog_ids;
  check_bias_ids(a.gen, c.n_vocab);
  if (a.gen.sampling.grammar.grammar) a.gen.sampling.grammar.vocab = index_vocabulary(*g.lm.tokenizer, g.lm.eog_ids);
  if (!a.model.quiet && c.n_ctx_train > 0 && a.model.n_ctx > c.n_ctx_train)
    std::fprintf(stderr, "lmgen: warning: -c %lld is longer than the %lld tokens the model was trained on; text past "
                 "that point is likely to degrade\n", static_cast<long long>(a.model.n_ctx),
                 static_cast<long long>(c.n_ctx_train));
  g.model = std::make_unique<Model>(g.lm.model, model_options(a.model));
  return g;
}

nlohmann::ordered_json token_record(const TokenEvent& ev, const Tokenizer& tok, int32_t n_probs) {
  nlohmann::ordered_json j = {{"token", ev.id}};
  put_piece(j, ev.piece);
  if (n_probs > 0) {
    j["logprob"] = static_cast<float>(ev.logprob);  // as float: the JSONL has always given single precision
    nlohmann::ordered_json top = nlohmann::ordered_json::array();
    for (const auto& t : ev.top) {
      nlohmann::ordered_json e = {{"token", t.id}};
      put_piece(e, tok.token_to_piece(t.id));
      e["logprob"] = t.logprob;
      top.push_back(e);
    }
    j["top"] = top;
  }
  return j;
}

void put_result(nlohmann::ordered_json& j, const GenerateResult& r, uint64_t seed) {
  j["stop_reason"] = stop_reason_name(r.stop_reason);
  j["prompt_tokens"] = r.prompt_tokens.size();
  j["generated_tokens"] = r.tokens.size();
  j["seed"] = seed;
  j["prompt_ms"] = r.prompt_ms;
  j["generate_ms"] = r.generate_ms;
  j["text"] = r.text;
}

nlohmann::ordered_json done_record(const GenerateResult& r, uint64_t seed) {
  nlohmann::ordered_json j = {{"done", true}};
  put_result(j, r, seed);
  return j;
}

void add_decoding_options(CLI::App& app, GenerateArgs& args) {
  GenerateArgs* a = &args;
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
  app.add_option("-s,--seed", a->seed,
                 "Random seed: the same seed gives the same text on any machine (default -1: a random seed, "
                 "reported with -v and in --jsonl's done record)")
      ->capture_default_str()->check(int64_check())->group("Decoding");
  app.add_option("--repeat-penalty", s.repeat_penalty, "Repetition penalty (1 = off)")
      ->capture_default_str()->group("Decoding");
  app.add_option("--repeat-last-n", s.penalty_last_n, "Tokens the penalties look back over")
      ->capture_default_str()->group("Decoding");
  app.add_option("--frequency-penalty", s.frequency_penalty, "Frequency penalty (0 = off)")
      ->capture_default_str()->group("Decoding");
  app.add_option("--presence-penalty", s.presence_penalty, "Presence penalty (0 = off)")
      ->capture_default_str()->group("Decoding");
  app.add_option("-l,--logit-bias", a->logit_bias,
                 "Add BIAS to token ID's logit: ID=BIAS, ID+BIAS or ID-BIAS (repeatable; -inf bans)")
      ->group("Decoding");
  app.add_option("--samplers", s.order, "Order of the decoding steps (separated by ',' or ';')")
      ->capture_default_str()->group("Decoding");
  app.add_flag("--ignore-eos", g.ignore_eos, "Keep generating past end-of-text tokens")->group("Decoding");
  app.add_option("--stop,-r,--reverse-prompt", g.stop, "Stop when this text is generated (repeatable; not printed)")->group("Decoding");
  add_grammar_options(app, a->grammar);
}

void prepare_generate_args(GenerateArgs& a) { prepare_args(a); }

Command setup_generate(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<GenerateArgs>();
  app.set_version_flag("--version", std::string("lmgen ") + LMGEN_VERSION,
                       "Print the version, git commit, build type and SIMD level, then exit");
  app.footer(
      "Subcommands: chat, chat-template, tokenize, detokenize, score, bench, quantize, convert, grammar, serve; each has its own --help (lmgen score --help).\n\n"
      "Examples:\n"
      "  lmgen -p \"ROMEO:\"                                   # bundled model, default sampling\n"
      "  lmgen -m model.gguf -p \"Once upon a time\" --temp 0 -n 64\n"
      "  cat prompt.txt | lmgen -m model.gguf --temp 0.7 -s 42 > out.txt\n"
      "  lmgen -m stories260K.bin -n 200                     # finds tokenizer.bin beside the .bin\n"
      "  lmgen -m model.gguf -p \"Hi\" --jsonl --n-probs 5 | jq .\n"
      "  printf '%s\\n' 'Once' '{\"prompt\": \"Lily\", \"temp\": 0}' | lmgen -m model.gguf --batch -n 16\n"
      "  lmgen -m model.gguf -p \"A person:\" --json-schema-file person.json | jq .name\n\n"
      "Model: -m PATH, else the LMGEN_MODEL environment variable, else the model bundled in models/.\n"
      "Seed: without -s a sampling run uses a random seed and reports it (-v, --jsonl); -s N replays it exactly.\n"
      "Greedy decoding (--temp 0) gives the same text whatever the seed.\n"
      "llama.cpp options: see docs/llama-cpp-flags.md (-e, -r, -l, --log-disable, -no-cnv are accepted).\n"
      "Exit status: 0 ok, 1 error (in --batch: any line failed), 2 usage error, 130 interrupted (Ctrl-C, SIGTERM).");
  add_model_source_options(app, a->model);
  add_prompt_options(app, a->prompt);
  add_decoding_options(app, *a);
  app.add_flag("--jsonl", a->jsonl,
               "Print one JSON object per token {\"token\",\"text\"} and a final {\"done\":true,...} record")
      ->group("Output");
  app.add_option("--n-probs", a->gen.n_probs, "With --jsonl: add each token's logprob and the K most likely tokens")
      ->check(count_check(0))->group("Output");
  app.add_flag("--batch", a->batch,
               "Batch mode: one prompt per input line (text, or JSON {\"prompt\": ..., \"temp\": ...}); one JSONL "
               "result per prompt, in order")
      ->group("Output");
  app.add_flag("--echo", a->echo, "Print the prompt before the continuation")->group("Output");
  app.add_flag("-e,--escape", a->escape, "Process escapes in -p: \\n \\t \\r \\\\ \\\" \\' \\xNN")->group("Prompt");
  app.add_flag("--trace", a->trace, "Show each step's top candidates before/after decoding settings on stderr")
      ->group("Output");
  app.add_flag("--render-special", a->gen.render_special, "Print special tokens' text instead of nothing")->group("Output");
  add_log_options(app, a->model);
  add_runtime_options(app, a->model);
  Context* c = &ctx;
  return Command{&app, [a, c] { return run(*a, *c); }};
}

}  // namespace lmgen::cli
