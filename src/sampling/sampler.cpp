// Candidates (the list a sampler works on) and SamplerChain (runs steps in order, with an optional trace).
#include "lmgen/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "lmgen/error.hpp"
#include "sampling/sampler_internal.hpp"

namespace lmgen {

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Max logit over v; throws when there is nothing to normalise.
float max_logit(const std::vector<Candidate>& v) {
  if (v.empty()) throw Error("sampler: no candidates to normalise (empty vocabulary or everything filtered)");
  float mx = -kInf;
  for (const Candidate& c : v) mx = std::max(mx, c.logit);
  if (!std::isfinite(mx)) throw Error("sampler: cannot normalise, the largest logit is not finite");
  return mx;
}

}  // namespace

namespace sampler_detail {

// p_i = expf(l_i - max) / sum (sum in double). top() uses the same arithmetic, so both agree to the bit.
double normalise(Candidates& c) {
  const float mx = max_logit(c.data);
  double sum = 0.0;
  for (Candidate& x : c.data) sum += x.p = std::exp(x.logit - mx);
  double total = 0.0;
  for (Candidate& x : c.data) total += x.p = static_cast<float>(x.p / sum);
  return total;
}

void sort_prefix(Candidates& c, size_t done, size_t m) {
  auto first = c.data.begin() + static_cast<std::ptrdiff_t>(done);
  auto mid = c.data.begin() + static_cast<std::ptrdiff_t>(m);
  if (m >= c.data.size()) {
    std::sort(first, c.data.end(), ranks_before);
    c.sorted = true;
    return;
  }
  if (m - done <= 4096) {  // a heap select: ~1 comparison per element when the prefix is short
    std::partial_sort(first, mid, c.data.end(), ranks_before);
  } else {
    std::nth_element(first, mid, c.data.end(), ranks_before);
    std::sort(first, mid, ranks_before);
  }
}

}  // namespace sampler_detail

void Candidates::reset(std::span<const float> logits) {
  data.resize(logits.size());
  bool bad = false;
  for (size_t i = 0; i < logits.size(); ++i) {
    data[i] = Candidate{static_cast<int32_t>(i), logits[i], 0.0f};
    bad |= !(logits[i] < kInf);  // NaN or +inf
  }
  if (bad) {
    const auto it = std::find_if(logits.begin(), logits.end(), [](float l) { return !(l < kInf); });
    throw Error("sampler: logit of token " + std::to_string(it - logits.begin()) + " is " +
                (std::isnan(*it) ? "NaN" : "+inf") + " (the forward pass produced a non-finite value)");
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
  sampler_detail::normalise(*this);
}

std::vector<Candidate> Candidates::top(size_t n) const {
  const float mx = max_logit(data);
  double sum = 0.0;
  for (const Candidate& x : data) sum += std::exp(x.logit - mx);
  n = std::min(n, data.size());
  std::vector<Candidate> out(n);
  std::partial_sort_copy(data.begin(), data.end(), out.begin(), out.end(), ranks_before);
  for (Candidate& x : out) x.p = static_cast<float>(std::exp(x.logit - mx) / sum);
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

TokenConstraint* SamplerChain::constraint() {
  for (const auto& step : steps_)
    if (TokenConstraint* k = step->constraint()) return k;
  return nullptr;
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
    // A constraint's fast path leaves disallowed tokens among the survivors: the trace shows the allowed ones,
    // renormalised (the constrained distribution), from one trie walk of the vocabulary.
    Candidates after;
    const Candidates* shown = &scratch_;
    if (TokenConstraint* k = constraint()) {
      std::vector<uint8_t> mask;
      k->mark_allowed(mask);
      after.data = scratch_.data;
      std::erase_if(after.data, [&](const Candidate& x) {
        return x.id != scratch_.selected && (static_cast<size_t>(x.id) >= mask.size() || !mask[static_cast<size_t>(x.id)]);
      });
      shown = &after;
    }
    trace->after = shown->top(top_n);
    trace->after_count = shown->data.size();
    trace->selected = scratch_.selected;
  }
  return scratch_.selected;
}

}  // namespace lmgen
