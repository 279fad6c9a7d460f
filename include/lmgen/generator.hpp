// Generator — the generation loop: prompt -> tokens -> prefill -> sample one token at a time -> stop.
//
// Output text is streamed as complete UTF-8 only (a character split across tokens is released once whole) and
// stop strings are matched across token boundaries: text that could still be the start of a stop string is held
// back until it cannot be.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lmgen/model.hpp"
#include "lmgen/sampler.hpp"
#include "lmgen/tokenizer.hpp"

namespace lmgen {

enum class StopReason { Eos, Length, Context, Stop, Interrupted };
const char* stop_reason_name(StopReason r);  // "eos", "length", "context", "stop", "interrupted"

struct GenerateOptions {
  int32_t n_predict = -1;              // tokens to generate; -1 = until end of generation or the context is full
  bool ignore_eos = false;             // keep going past end-of-generation tokens
  std::vector<int32_t> eog_ids;        // ids that also end generation, beyond Tokenizer::is_eog (LoadedModel::eog_ids)
  std::vector<std::string> stop;       // stop strings (not printed)
  SamplingOptions sampling;
  EncodeOptions encode;                // add_special / parse_special for the prompt
  int32_t trace_top = 8;               // candidates shown before / after the chain to a TraceHook
  bool logprobs = false;               // report the log-prob of each token
  int32_t n_probs = 0;                 // > 0: and the n_probs most likely tokens (implies logprobs)
  bool render_special = false;         // print special tokens' text (e.g. "<|im_end|>") instead of nothing
};

struct TopToken {
  int32_t id;
  float logprob;
};

// One token, as reported to the caller: a generated one, the text released at the end, or (the server's echo
// with log-probs) a prompt token.
struct TokenEvent {
  enum Kind { Generated, Tail, Prompt } kind = Generated;  // Tail: text released at the end (id -1)
  int32_t id = -1;
  std::string piece;       // the token's own bytes (may be part of a UTF-8 character; "" for end-of-generation)
  std::string text;        // bytes released to the output at this step (complete UTF-8; may be empty)
  bool has_logprob = false;   // logprob (and top, for n_probs > 0) are set; a prompt's first token has none
  double logprob = 0;         // natural log of the token's probability under the model's softmax (with an
                              // active grammar: renormalised over the tokens it allows, see constrained_top)
  std::vector<TopToken> top;  // the n_probs most likely tokens, most likely first (with a grammar: allowed ones)
};

struct GenerateResult {
  StopReason stop_reason = StopReason::Length;
  std::vector<int32_t> prompt_tokens;
  std::vector<int32_t> tokens;  // generated ids (including the end-of-generation token if one was sampled)
  int64_t n_reused = 0;         // prompt tokens whose KV entries were kept from the previous call (continue_from)
  int64_t n_evaluated = 0;      // prompt tokens evaluated by this call
  std::string text;             // everything released to the output
  std::string sampler;          // the sampler chain that chose the tokens (SamplerChain::name())
  double prompt_ms = 0, generate_ms = 0;
};

// The log-softmax of a logits row (sampling/logprobs.cpp; in double, fixed order), used by generation, scoring
// and the server alike: log Z, log p(id) (throws Error for an id outside the row) and the k most likely ids
// (ties by lower id).
double log_partition(std::span<const float> logits);
double token_logprob(std::span<const float> logits, int32_t id);
std::vector<TopToken> top_logprobs(std::span<const float> logits, int32_t k);

// Hook called at every step with what the sampler chain saw and kept (the top GenerateOptions::trace_top
// candidates before and after it), for --trace. Tracing changes neither the result nor the random draws.
using TraceHook = std::function<void(const SampleTrace&)>;

using TokenCallback = std::function<bool(const TokenEvent&)>;

// A generation session over one Model: it remembers which tokens the model's KV cache holds, so a conversation
// that grows turn by turn evaluates only its new tokens.
class Generator {
 public:
  Generator(Model& model, const Tokenizer& tokenizer) : model_(model), tok_(tokenizer) {}

  // Generates a continuation of `prompt` from an empty context. `on_token` is called after every token;
  // returning false stops generation (StopReason::Interrupted). Throws Error if the prompt does not fit.
  GenerateResult generate(std::string_view prompt, const GenerateOptions& opt, const TokenCallback& on_token = {},
                          const TraceHook& trace = {});

  // Generates a continuation of `prompt_tokens` (e.g. a whole conversation so far), keeping the longest prefix of
  // it that the KV cache already holds from the previous call and evaluating only the rest (GenerateResult::
  // n_reused / n_evaluated). The tokens generated stay in the cache for the next call. Greedy output is the same
  // as generate() on the same tokens from an empty context, bit for bit.
  GenerateResult continue_from(std::span<const int32_t> prompt_tokens, const GenerateOptions& opt,
                               const TokenCallback& on_token = {}, const TraceHook& trace = {});

  // The tokens whose keys and values are in the KV cache, in order.
  const std::vector<int32_t>& context() const { return context_; }
  // Forgets the context (the next call evaluates everything).
  void reset();

 private:
  // Makes the cache hold `tokens` and leaves the logits after the last one in `logits`; returns the count reused.
  int64_t sync_context(std::span<const int32_t> tokens, std::vector<float>& logits);

  Model& model_;
  const Tokenizer& tok_;
  std::vector<int32_t> context_;
};

}  // namespace lmgen
