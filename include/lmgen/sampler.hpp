// Samplers: turn a row of logits into the next token.
//
// A Sampler transforms a Candidates list (filters it, rescales logits, or picks one token). A SamplerChain is
// itself a Sampler that runs its steps in order; the last step of a chain that picks (Greedy or Dist) sets
// `Candidates::selected`. Built from SamplingOptions by make_sampler_chain().
//
// Use in a generation loop:
//   auto chain = make_sampler_chain(opt);          // throws UsageError on bad options
//   for (int32_t t : prompt) chain->accept(t);     // penalties see the prompt too
//   loop: int32_t t = chain->sample(logits);        // or sample(logits, &trace) for --trace
//         chain->accept(t);                         // every token appended to the sequence
//   chain->reset();                                 // before an unrelated new sequence (re-seeds Dist)
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "lmgen/grammar.hpp"

namespace lmgen {

// Our own documented random generator, identical on every platform and standard library:
// SplitMix64 seeding of xoshiro256** (Blackman & Vigna). All arithmetic is on uint64_t, modulo 2^64.
//
// Seeding (SplitMix64), for i = 0..3:
//   x += 0x9E3779B97F4A7C15;  z = x;             (x starts as the seed)
//   z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
//   z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
//   s[i] = z ^ (z >> 31);
// next_u64 (xoshiro256**), rotl(v, k) = (v << k) | (v >> (64 - k)):
//   result = rotl(s[1] * 5, 7) * 9;
//   t = s[1] << 17;
//   s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45);
//   return result;
// next_double = (next_u64() >> 11) * 2^-53   (in [0, 1), top 53 bits)
// next_float  = (next_u64() >> 40) * 2^-24   (in [0, 1), top 24 bits)
class Rng {
 public:
  explicit Rng(uint64_t seed = 0);
  uint64_t next_u64();
  double next_double();  // [0, 1) from the top 53 bits
  float next_float();    // [0, 1) from the top 24 bits
 private:
  uint64_t s_[4];
};

struct Candidate {
  int32_t id;
  float logit;
  float p;  // probability; valid after a step that normalises (softmax)
};

// The candidate order: higher logit first, ties by lower id (a total order when no logit is NaN).
inline bool ranks_before(const Candidate& a, const Candidate& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

struct Candidates {
  std::vector<Candidate> data;
  bool sorted = false;      // by logit, descending (ties: lower id first)
  int32_t selected = -1;    // id chosen by the final step

  // One candidate per vocabulary id, in id order; p = 0, unsorted, nothing selected.
  // Throws Error if a logit is NaN or +inf (the forward pass is broken); -inf is allowed (a masked token).
  void reset(std::span<const float> logits);
  void sort_desc();  // by logit, descending; ties by lower id first (a total, deterministic order)
  // p from logits over the current candidates (sorts first); stable: p = expf(l - max) / sum, sum in double.
  // Throws Error when there are no candidates or every logit is -inf.
  void softmax();
  // The n most likely candidates, most likely first, with p = softmax over ALL current candidates.
  // Does not modify *this (O(size) plus a partial sort of n): used for the --trace "before" view.
  std::vector<Candidate> top(size_t n) const;
};

// What a constraint (the grammar step) allows as the next token, in the state before that token is accepted.
class TokenConstraint {
 public:
  virtual ~TokenConstraint() = default;
  virtual bool allows(int32_t id) = 0;  // one token: its text through the matcher
  // mask = one byte per vocabulary id, 1 where allowed (the vocabulary trie walk: every token at once).
  virtual void mark_allowed(std::vector<uint8_t>& mask) = 0;
};

class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual std::string name() const = 0;  // step name and parameters, e.g. "top_k(40)"
  virtual void apply(Candidates& c) = 0;
  virtual void accept(int32_t token) { (void)token; }  // a token was appended to the sequence
  virtual void reset() {}                              // a new sequence starts
  // The constraint on the next token when the step imposes one now (a grammar that is active), else null.
  virtual TokenConstraint* constraint() { return nullptr; }
};

// What --trace shows for one sampled token.
struct SampleTrace {
  std::vector<Candidate> before;  // top n by raw logit; p = softmax over the whole vocabulary
  std::vector<Candidate> after;   // top n survivors of the chain; logit after penalties/bias/temperature,
                                  // p = softmax over the survivors (the distribution Dist drew from); with a
                                  // grammar, only tokens it allows (the constrained distribution)
  size_t before_count = 0;        // candidates before (vocabulary size)
  size_t after_count = 0;         // candidates that survived the filters
  int32_t selected = -1;
};

class SamplerChain : public Sampler {
 public:
  void add(std::unique_ptr<Sampler> s) { steps_.push_back(std::move(s)); }
  std::string name() const override;  // "penalties(...) -> top_k(40) -> ... -> dist(seed=0)"
  void apply(Candidates& c) override;  // runs every step on c (a caller may keep c to inspect it)
  void accept(int32_t token) override;
  void reset() override;
  TokenConstraint* constraint() override;  // the first step's that has one
  // Convenience: fill candidates from logits, apply, return the selected id. Does NOT call accept().
  // Throws Error if the chain has no picking step (nothing selected).
  int32_t sample(std::span<const float> logits);
  // Same, and fills *trace (when not null) with the top_n candidates before and after the chain. Tracing does not
  // change the result nor consume randomness: the same seed gives the same tokens with or without it.
  int32_t sample(std::span<const float> logits, SampleTrace* trace, size_t top_n = 10);
  // The candidates as the last sample() left them: the survivors; after Dist every p is valid and the list is
  // sorted at least up to the selected token (`sorted` says whether all of it is). Use Candidates::top() to list.
  const Candidates& last() const { return scratch_; }
  size_t size() const { return steps_.size(); }
  const Sampler& step(size_t i) const { return *steps_[i]; }

 private:
  std::vector<std::unique_ptr<Sampler>> steps_;
  Candidates scratch_;
};

struct SamplingOptions {
  float temperature = 0.8f;     // 0 = greedy (argmax, lowest id on ties)
  int32_t top_k = 40;           // 0 = off
  float top_p = 0.95f;          // 1 = off
  float min_p = 0.05f;          // 0 = off
  uint64_t seed = 0;
  float repeat_penalty = 1.0f;  // 1 = off (llama.cpp semantics: divide positive logits, multiply negative)
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  int32_t penalty_last_n = 64;  // how many recent tokens the penalties look at
  std::vector<std::pair<int32_t, float>> logit_bias;  // added to the logit of each id
  // Order of the filtering steps, by name (the default below runs them all).
  // Valid names: penalties, logit_bias, top_k, top_p, min_p, temperature. A step not named is not run.
  std::string order = "penalties,logit_bias,top_k,top_p,min_p,temperature";
  // A grammar the output must follow (grammar.hpp); none by default. Its step runs after penalties and logit_bias
  // (where `order` puts the later of them) and before the truncation and drawing steps, which it wraps.
  GrammarConstraint grammar;
};

// Individual steps (exposed for tests and custom chains). Invalid parameters throw UsageError.
std::unique_ptr<Sampler> make_greedy();                          // argmax, lowest id on ties
std::unique_ptr<Sampler> make_top_k(int32_t k);                  // k == 0 keeps all
std::unique_ptr<Sampler> make_top_p(float p, size_t min_keep = 1);
std::unique_ptr<Sampler> make_min_p(float p, size_t min_keep = 1);
std::unique_ptr<Sampler> make_temperature(float t);              // t > 0
std::unique_ptr<Sampler> make_dist(uint64_t seed);               // reset() re-seeds
std::unique_ptr<Sampler> make_penalties(int32_t last_n, float repeat, float frequency, float presence);
// Ids not among the candidates are ignored (filtered out earlier, or outside the vocabulary); the CLI should check
// ids against the vocabulary. Bias must be finite or -inf (bans the token); negative ids throw UsageError.
std::unique_ptr<Sampler> make_logit_bias(std::vector<std::pair<int32_t, float>> bias);
// The grammar step (sampler_grammar.cpp): runs `rest` (the steps after it, ending in a draw) and keeps its pick
// when the grammar allows it, else filters the candidates to the allowed tokens and runs `rest` again. Tokens
// accepted before its first apply() after reset() are the prompt and do not count as output.
std::unique_ptr<Sampler> make_grammar(const GrammarConstraint& g, std::unique_ptr<SamplerChain> rest);

// The distribution of `logits` restricted to the tokens `allowed` accepts and renormalised over them: the n most
// likely allowed tokens (most likely first, p = exp(l) / Z) and log Z. Lazy: candidates are checked one by one in
// logit order until n are allowed and the mass not yet checked is negligible (< 1e-4 of the allowed mass; it is
// counted in Z, so the p are never above the exact ones and sum to at most 1); after kConstrainedWalkBudget checks
// the whole vocabulary is marked at once (the trie walk), and Z is exact.
struct ConstrainedTop {
  std::vector<Candidate> top;
  double log_z = 0.0;  // log of the allowed candidates' sum of exp(logit) (the raw logits' scale)
};
constexpr size_t kConstrainedWalkBudget = 512;
ConstrainedTop constrained_top(std::span<const float> logits, size_t n, TokenConstraint& allowed);

// Throws UsageError naming the first invalid option (make_sampler_chain calls it; the CLI may call it early).
void validate_sampling_options(const SamplingOptions& opt);

// The chain for the options: the filtering steps in `order`, then Dist(seed) (or Greedy when temperature <= 0).
// Steps that are no-ops for the options are left out (top_k 0, top_p 1, min_p 0, temperature 1, neutral
// penalties, no bias). In greedy mode only penalties and logit_bias are kept (the other filters never change the
// argmax). Throws UsageError on invalid options (see validate_sampling_options) or an unknown/repeated step name.
std::unique_ptr<SamplerChain> make_sampler_chain(const SamplingOptions& opt);

}  // namespace lmgen
