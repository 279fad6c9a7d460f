// constrained_top: the part of a logits row a constraint (a grammar) allows, renormalised — what --n-probs, the
// log-probs and the server's top_logprobs report while a grammar is active. Lazy, so a 150k vocabulary is not
// filtered per step: candidates are checked in logit order until enough are allowed and what is left unchecked
// cannot matter; only a walk that runs long marks the whole vocabulary (one trie walk) and becomes exact.
#include <algorithm>
#include <cmath>

#include "lmgen/error.hpp"
#include "lmgen/sampler.hpp"
#include "sampling/sampler_internal.hpp"

namespace lmgen {

namespace {

constexpr double kUncheckedShare = 1e-4;  // stop once the unchecked mass is below this share of the allowed mass

// Sum of exp(l - mx) over the ids the mask allows.
double allowed_mass(std::span<const float> logits, const std::vector<uint8_t>& mask, float mx) {
  double s = 0.0;
  const size_t n = std::min(logits.size(), mask.size());
  for (size_t i = 0; i < n; ++i)
    if (mask[i]) s += std::exp(static_cast<double>(logits[i]) - mx);
  return s;
}

}  // namespace

ConstrainedTop constrained_top(std::span<const float> logits, size_t n, TokenConstraint& allowed) {
  Candidates c;
  c.reset(logits);
  const size_t size = c.data.size();
  float mx = -INFINITY;
  for (float l : logits) mx = std::max(mx, l);
  if (!std::isfinite(mx)) throw Error("constrained_top: no finite logit to normalise");
  double total = 0.0;
  for (float l : logits) total += std::exp(static_cast<double>(l) - mx);

  ConstrainedTop out;
  std::vector<uint8_t> mask;
  bool exact = false;  // mask holds every allowed id and `kept` their whole mass
  double seen = 0.0, kept = 0.0;
  size_t done = 0, chunk = 64, i = 0;
  for (; i < size; ++i) {
    if (i == done) {
      sampler_detail::sort_prefix(c, done, std::min(size, done + chunk));
      done = std::min(size, done + chunk);
      chunk *= 8;
    }
    if (!exact && i == kConstrainedWalkBudget) {
      allowed.mark_allowed(mask);
      kept = allowed_mass(logits, mask, mx);
      exact = true;
    }
    const Candidate& x = c.data[i];
    const double e = std::exp(static_cast<double>(x.logit) - mx);
    seen += e;
    const auto id = static_cast<size_t>(x.id);
    const bool ok = exact ? id < mask.size() && mask[id] != 0 : allowed.allows(x.id);
    if (ok && !exact) kept += e;
    if (ok && out.top.size() < n) out.top.push_back(Candidate{x.id, x.logit, static_cast<float>(e)});
    if (out.top.size() >= n && (exact || total - seen < kUncheckedShare * kept)) break;
  }
  // Unless the walk saw everything or the mask is exact, the unchecked rest may be allowed: count it (an upper
  // bound of Z, so no reported p is above its exact value).
  const double z = kept + (exact || i >= size ? 0.0 : std::max(0.0, total - seen));
  out.log_z = mx + std::log(z);
  for (Candidate& x : out.top) x.p = static_cast<float>(static_cast<double>(x.p) / z);
  return out;
}

}  // namespace lmgen
