// Samplers: turn a row of logits into the next token.
//
// A Sampler transforms a Candidates list (filters it, rescales logits, or picks one token). A SamplerChain is
// itself a Sampler that runs its steps in order; the last step of a chain that picks (Greedy or Dist) sets
// `Candidates::selected`. Built from SamplingOptions by make_sampler_chain().
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace lmgen {

// Our own documented random generator, identical on every platform and standard library:
// SplitMix64 seeding of xoshiro256** (Blackman & Vigna); uniform floats from the top 24 bits / 2^24 (in [0,1)).
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

struct Candidates {
  std::vector<Candidate> data;
  bool sorted = false;      // by logit, descending
  int32_t selected = -1;    // id chosen by the final step

  void reset(std::span<const float> logits);  // one candidate per vocabulary id, in id order
  void sort_desc();                            // by logit, descending; ties by lower id first
  void softmax();                              // p from logits (sorts first)
};

class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual std::string name() const = 0;
  virtual void apply(Candidates& c) = 0;
  virtual void accept(int32_t token) { (void)token; }  // a token was appended to the sequence
  virtual void reset() {}                              // a new sequence starts
};

class SamplerChain : public Sampler {
 public:
  void add(std::unique_ptr<Sampler> s) { steps_.push_back(std::move(s)); }
  std::string name() const override;  // "top-k -> top-p -> ... -> dist"
  void apply(Candidates& c) override;
  void accept(int32_t token) override;
  void reset() override;
  // Convenience: fill candidates from logits, apply, return the selected id.
  int32_t sample(std::span<const float> logits);
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
  // Order of the filtering steps, by name, e.g. "penalties,top_k,top_p,min_p,temperature" (the default order).
  std::string order = "penalties,logit_bias,top_k,top_p,min_p,temperature";
};

// Individual steps (exposed for tests and custom chains).
std::unique_ptr<Sampler> make_greedy();
std::unique_ptr<Sampler> make_top_k(int32_t k);
std::unique_ptr<Sampler> make_top_p(float p, size_t min_keep = 1);
std::unique_ptr<Sampler> make_min_p(float p, size_t min_keep = 1);
std::unique_ptr<Sampler> make_temperature(float t);
std::unique_ptr<Sampler> make_dist(uint64_t seed);
std::unique_ptr<Sampler> make_penalties(int32_t last_n, float repeat, float frequency, float presence);
std::unique_ptr<Sampler> make_logit_bias(std::vector<std::pair<int32_t, float>> bias);

// The chain for the options: the filtering steps in `order`, then Dist (or Greedy when temperature <= 0).
// Throws UsageError on invalid options (negative temperature, top_p outside (0,1], unknown step name).
std::unique_ptr<SamplerChain> make_sampler_chain(const SamplingOptions& opt);

}  // namespace lmgen
