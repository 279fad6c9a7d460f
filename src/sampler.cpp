// Candidates (the list a sampler works on) and SamplerChain (runs steps in order, with an optional trace).
#include "lmgen/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "lmgen/error.hpp"

namespace lmgen {

namespace {

// Max logit and sum of exp(logit - max) over v, in double. Throws when no candidate has a usable logit.
std::pair<double, double> max_and_expsum(const std::vector<Candidate>& v) {
  if (v.empty()) throw Error("sampler: no candidates to normalise (empty vocabulary or everything filtered)");
  float mx = -std::numeric_limits<float>::infinity();
  for (const Candidate& c : v) mx = std::max(mx, c.logit);
  if (!std::isfinite(mx)) throw Error("sampler: cannot normalise, the largest logit is not finite");
  double sum = 0.0;
  for (const Candidate& c : v) sum += std::exp(static_cast<double>(c.logit) - mx);
  return {mx, sum};
}

}  // namespace

void Candidates::reset(std::span<const float> logits) {
  data.resize(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) {
    const float l = logits[i];
    if (std::isnan(l) || l == std::numeric_limits<float>::infinity())
      throw Error("sampler: logit of token " + std::to_string(i) + " is " + (std::isnan(l) ? "NaN" : "+inf") +
                  " (the forward pass produced a non-finite value)");
    data[i] = Candidate{static_cast<int32_t>(i), l, 0.0f};
  }
  sorted = false;
  selected = -1;
}

void Candidates::sort_desc() {
  if (!sorted) std::sort(data.begin(), data.end(), ranks_before);
  sorted = true;
}

void Candidates::softmax() {
  sort_desc();
  const auto [mx, sum] = max_and_expsum(data);
  for (Candidate& c : data) c.p = static_cast<float>(std::exp(static_cast<double>(c.logit) - mx) / sum);
}

std::vector<Candidate> Candidates::top(size_t n) const {
  const auto [mx, sum] = max_and_expsum(data);
  n = std::min(n, data.size());
  std::vector<Candidate> out(n);
  std::partial_sort_copy(data.begin(), data.end(), out.begin(), out.end(), ranks_before);
  for (Candidate& c : out) c.p = static_cast<float>(std::exp(static_cast<double>(c.logit) - mx) / sum);
  return out;
}

std::string SamplerChain::name() const {
  std::string s;
  for (const auto& step : steps_) s += (s.empty() ? "" : " -> ") + step->name();
  return s.empty() ? "(empty)" : s;
}

void SamplerChain::apply(Candidates& c) {
  for (const auto& step : steps_) step->apply(c);
}

void SamplerChain::accept(int32_t token) {
  for (const auto& step : steps_) step->accept(token);
}

void SamplerChain::reset() {
  for (const auto& step : steps_) step->reset();
}

int32_t SamplerChain::sample(std::span<const float> logits) { return sample(logits, nullptr); }

int32_t SamplerChain::sample(std::span<const float> logits, SampleTrace* trace, size_t top_n) {
  scratch_.reset(logits);
  if (trace) {
    trace->before = scratch_.top(top_n);
    trace->before_count = scratch_.data.size();
  }
  apply(scratch_);
  if (scratch_.selected < 0)
    throw Error("sampler chain '" + name() + "' selected no token (it needs a greedy or dist step at the end)");
  if (trace) {
    trace->after = scratch_.top(top_n);
    trace->after_count = scratch_.data.size();
    trace->selected = scratch_.selected;
  }
  return scratch_.selected;
}

}  // namespace lmgen
