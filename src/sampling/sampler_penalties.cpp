// Steps that change the logits of particular ids: repetition/frequency/presence penalties and logit bias.
#include <cmath>
#include <deque>
#include <unordered_map>

#include "lmgen/error.hpp"
#include "lmgen/sampler.hpp"
#include "sampling/sampler_internal.hpp"

namespace lmgen {

using sampler_detail::num;

namespace {

// Calls fn(candidate, value) for every candidate whose id is a key of m. Fast path: a list still in id order
// (fresh from reset) has id i at index i; anything else is found by one pass over the list.
template <class V, class Fn>
void for_each_listed(Candidates& c, const std::unordered_map<int32_t, V>& m, Fn fn) {
  const size_t n = c.data.size();
  bool missing = false;
  for (const auto& [id, v] : m) {
    if (static_cast<size_t>(id) < n && c.data[static_cast<size_t>(id)].id == id)
      fn(c.data[static_cast<size_t>(id)], v);
    else
      missing = true;
  }
  if (!missing) return;
  for (size_t i = 0; i < n; ++i) {
    Candidate& x = c.data[i];
    if (static_cast<size_t>(x.id) == i) continue;  // handled by the fast path above
    if (auto it = m.find(x.id); it != m.end()) fn(x, it->second);
  }
}

// Over the last `last_n` accepted tokens, for each token seen `count` times: repetition penalty (llama.cpp
// semantics: positive logits divided by `repeat`, others multiplied), then logit -= count*frequency + presence.
class Penalties final : public Sampler {
 public:
  Penalties(int32_t last_n, float repeat, float frequency, float presence)
      : last_n_(static_cast<size_t>(last_n)), repeat_(repeat), frequency_(frequency), presence_(presence) {}
  std::string name() const override {
    return "penalties(last_n=" + std::to_string(last_n_) + ", repeat=" + num(repeat_) +
           ", frequency=" + num(frequency_) + ", presence=" + num(presence_) + ")";
  }
  void accept(int32_t token) override {
    if (last_n_ == 0) return;
    window_.push_back(token);
    ++counts_[token];
    if (window_.size() > last_n_) {
      const int32_t old = window_.front();
      window_.pop_front();
      if (--counts_[old] == 0) counts_.erase(old);
    }
  }
  void reset() override {
    window_.clear();
    counts_.clear();
  }
  void apply(Candidates& c) override {
    if (counts_.empty()) return;
    for_each_listed(c, counts_, [this](Candidate& x, int32_t count) {
      if (repeat_ != 1.0f) x.logit = x.logit > 0.0f ? x.logit / repeat_ : x.logit * repeat_;
      x.logit -= static_cast<float>(count) * frequency_ + presence_;
    });
    c.sorted = false;
  }

 private:
  size_t last_n_;
  float repeat_, frequency_, presence_;
  std::deque<int32_t> window_;
  std::unordered_map<int32_t, int32_t> counts_;  // token -> occurrences in window_
};

// Adds a fixed bias to the logit of each listed id (repeated ids add up); ids not among the candidates are ignored.
class LogitBias final : public Sampler {
 public:
  explicit LogitBias(std::unordered_map<int32_t, float> bias) : bias_(std::move(bias)) {}
  std::string name() const override { return "logit_bias(" + std::to_string(bias_.size()) + " ids)"; }
  void apply(Candidates& c) override {
    if (bias_.empty()) return;
    for_each_listed(c, bias_, [](Candidate& x, float b) { x.logit += b; });
    c.sorted = false;
  }

 private:
  std::unordered_map<int32_t, float> bias_;
};

}  // namespace

std::unique_ptr<Sampler> make_penalties(int32_t last_n, float repeat, float frequency, float presence) {
  if (last_n < 0) throw UsageError("penalty_last_n must be >= 0, got " + std::to_string(last_n));
  if (!(repeat > 0.0f) || std::isinf(repeat))
    throw UsageError("repeat_penalty must be a finite number > 0 (1 = off), got " + num(repeat));
  if (!std::isfinite(frequency)) throw UsageError("frequency_penalty must be finite, got " + num(frequency));
  if (!std::isfinite(presence)) throw UsageError("presence_penalty must be finite, got " + num(presence));
  return std::make_unique<Penalties>(last_n, repeat, frequency, presence);
}

std::unique_ptr<Sampler> make_logit_bias(std::vector<std::pair<int32_t, float>> bias) {
  std::unordered_map<int32_t, float> sum;
  for (const auto& [id, b] : bias) {
    if (id < 0) throw UsageError("logit bias: token id must be >= 0, got " + std::to_string(id));
    if (std::isnan(b) || b == INFINITY)
      throw UsageError("logit bias for token " + std::to_string(id) + " must be finite or -inf, got " + num(b));
    sum[id] += b;
  }
  return std::make_unique<LogitBias>(std::move(sum));
}

}  // namespace lmgen
