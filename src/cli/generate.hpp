// The options of the default command (generation), shared by generate.cpp (one prompt) and batch.cpp (--batch).
#pragma once

#include <optional>

#include "cli/cli.hpp"

namespace lmgen::cli {

// --grammar, --grammar-file, -j/--json-schema, --json-schema-file, --json: at most one of them.
struct GrammarArgs {
  std::string gbnf, gbnf_file, schema, schema_file;
  bool json = false;
};
// Declares the options above on `app` (group "Grammar").
void add_grammar_options(CLI::App& app, GrammarArgs& g);
// The GBNF the options ask for ("" when none). A schema's warnings go to stderr unless `quiet`. Throws Error for
// an unreadable file or a bad schema, UsageError when several are given.
std::string grammar_text(const GrammarArgs& g, bool quiet);

struct GenerateArgs {
  ModelArgs model;
  PromptArgs prompt;
  GenerateOptions gen;
  std::vector<std::string> logit_bias;  // "ID=BIAS", "ID+BIAS" or "ID-BIAS"
  GrammarArgs grammar;
  int64_t seed = -1;                    // -1: a random seed, reported
  bool jsonl = false;
  bool echo = false;
  bool escape = false;
  bool trace = false;
  bool batch = false;
};

// A model loaded for generation: the files, and the forward pass with its KV cache sized by -c.
struct GenerationModel {
  LoadedModel lm;
  std::unique_ptr<Model> model;
};
// Loads the model of `a` and settles what depends on it, for every command that generates (generate, --batch,
// chat): the model's end-of-generation ids into a.gen, --logit-bias ids checked against the vocabulary (UsageError),
// and a warning on stderr (unless -q) when -c is above the context the model was trained on.
GenerationModel load_for_generation(GenerateArgs& a);
// -v (not -q): "lmgen: seed N[ (random; -s to replay)]" on stderr, for generation and chat (the sampler chain that
// ran is named after the run, from GenerateResult::sampler: the chain is built once, by the decode step).
void print_seed(const GenerateArgs& a);
// Token ids given with --logit-bias must exist in the model's vocabulary.
void check_bias_ids(const GenerateOptions& g, int64_t n_vocab);
// {"token", "text"[, "bytes"][, "logprob", "top"]} for one generated token (--jsonl and --batch --n-probs).
nlohmann::ordered_json token_record(const TokenEvent& ev, const Tokenizer& tok, int32_t n_probs);
// The fields every JSONL result of a generation has, written here once: "stop_reason", "prompt_tokens",
// "generated_tokens", "seed", "prompt_ms", "generate_ms", "text" (appended to `j`: a --batch result).
void put_result(nlohmann::ordered_json& j, const GenerateResult& r, uint64_t seed);
// The --jsonl done record of generate and chat: {"done": true, then put_result's fields}.
nlohmann::ordered_json done_record(const GenerateResult& r, uint64_t seed);
// The Decoding group (-n, --temp, --top-k, ..., --stop), shared by generation and chat.
void add_decoding_options(CLI::App& app, GenerateArgs& a);
// Resolves what the options imply before anything loads: the seed (random when not given), --logit-bias,
// --samplers separators, -e escapes; validates the decoding options (UsageError).
void prepare_generate_args(GenerateArgs& a);
// batch.cpp: --batch. Returns the exit status (1 when any line failed).
int run_batch(GenerateArgs& a, Context& ctx);

}  // namespace lmgen::cli
