// The picking and truncation steps: greedy, top-k, top-p, min-p, temperature, dist.
#include <algorithm>
#include <cfloat>
#include <cmath>

#include "lmgen/error.hpp"
#include "lmgen/sampler.hpp"
#include "sampling/sampler_internal.hpp"

namespace lmgen {

using sampler_detail::num;

namespace {

// Argmax; ties go to the lowest id (the first candidate in ranks_before order). Leaves the list untouched.
class Greedy final : public Sampler {
 public:
  std::string name() const override { return "greedy"; }
  void apply(Candidates& c) override {
    if (c.data.empty()) throw Error("sampler: greedy step got no candidates");
    c.selected = c.sorted ? c.data.front().id
                          : std::min_element(c.data.begin(), c.data.end(), ranks_before)->id;
  }
};

// Keep the k highest logits (ties by lower id); k == 0 keeps all. Leaves the list sorted when it truncates.
class TopK final : public Sampler {
 public:
  explicit TopK(int32_t k) : k_(static_cast<size_t>(k)) {}
  std::string name() const override { return "top_k(" + num(static_cast<double>(k_)) + ")"; }
  void apply(Candidates& c) override {
    if (k_ == 0 || k_ >= c.data.size()) return;
    if (!c.sorted) sampler_detail::sort_prefix(c, 0, k_);
    c.data.resize(k_);
    c.sorted = true;
  }

 private:
  size_t k_;
};

// Keep the smallest prefix of the sorted list whose probability mass reaches p (at least min_keep).
class TopP final : public Sampler {
 public:
  TopP(float p, size_t min_keep) : p_(p), min_keep_(min_keep) {}
  std::string name() const override { return "top_p(" + num(p_) + ")"; }
  void apply(Candidates& c) override {
    sampler_detail::normalise(c);
    const size_t last = sampler_detail::walk_sorted(c, [this](size_t i, double mass) {
      return mass >= p_ && i + 1 >= min_keep_;
    });
    c.data.resize(last + 1);  // the walked prefix is sorted
    c.sorted = true;
  }

 private:
  float p_;
  size_t min_keep_;
};

// Keep tokens with p >= min_p * p_max, i.e. logit >= max_logit + log(min_p) (no normalisation needed).
class MinP final : public Sampler {
 public:
  MinP(float p, size_t min_keep) : p_(p), min_keep_(min_keep) {}
  std::string name() const override { return "min_p(" + num(p_) + ")"; }
  void apply(Candidates& c) override {
    if (p_ <= 0.0f || c.data.empty()) return;
    const float mx = c.sorted ? c.data.front().logit
                              : std::min_element(c.data.begin(), c.data.end(), ranks_before)->logit;
    const double threshold = static_cast<double>(mx) + std::log(static_cast<double>(p_));
    auto below = [threshold](const Candidate& x) { return static_cast<double>(x.logit) < threshold; };
    const size_t kept = c.data.size() - static_cast<size_t>(std::count_if(c.data.begin(), c.data.end(), below));
    if (kept >= min_keep_) {
      std::erase_if(c.data, below);  // keeps the relative order (a sorted list stays sorted)
    } else {
      c.sort_desc();
      c.data.resize(std::min(min_keep_, c.data.size()));
    }
  }

 private:
  float p_;
  size_t min_keep_;
};

// Divide every logit by t (> 0). Results are clamped to +-FLT_MAX so a tiny t cannot create +inf (-inf stays).
class Temperature final : public Sampler {
 public:
  explicit Temperature(float t) : t_(t) {}
  std::string name() const override { return "temperature(" + num(t_) + ")"; }
  void apply(Candidates& c) override {
    for (Candidate& x : c.data) {
      if (std::isinf(x.logit)) continue;
      const double v = static_cast<double>(x.logit) / t_;
      x.logit = static_cast<float>(std::clamp(v, -static_cast<double>(FLT_MAX), static_cast<double>(FLT_MAX)));
    }
    // Division by a positive number keeps the order, but rounding can create new ties (broken by id).
    if (c.sorted) c.sorted = std::is_sorted(c.data.begin(), c.data.end(), ranks_before);
  }

 private:
  float t_;
};

// Seeded draw: softmax, then inverse CDF with one uniform u = Rng::next_double() per call: the first candidate
// (in sorted order) whose cumulative probability exceeds u * total mass. reset() re-seeds. Afterwards every p is
// valid but only the walked prefix is guaranteed sorted (c.sorted says whether all of it is).
class Dist final : public Sampler {
 public:
  explicit Dist(uint64_t seed) : seed_(seed), rng_(seed) {}
  std::string name() const override { return "dist(seed=" + std::to_string(seed_) + ")"; }
  void reset() override { rng_ = Rng(seed_); }
  void apply(Candidates& c) override {
    const double target = rng_.next_double() * sampler_detail::normalise(c);
    size_t pick = sampler_detail::walk_sorted(c, [target](size_t, double mass) { return target < mass; });
    while (pick > 0 && c.data[pick].p == 0.0f) --pick;  // rounding fallback: the last candidate with p > 0
    c.selected = c.data[pick].id;
  }

 private:
  uint64_t seed_;
  Rng rng_;
};

}  // namespace

std::unique_ptr<Sampler> make_greedy() { return std::make_unique<Greedy>(); }

std::unique_ptr<Sampler> make_top_k(int32_t k) {
  if (k < 0) throw UsageError("top_k must be >= 0 (0 = off), got " + std::to_string(k));
  return std::make_unique<TopK>(k);
}

std::unique_ptr<Sampler> make_top_p(float p, size_t min_keep) {
  if (!(p > 0.0f && p <= 1.0f)) throw UsageError("top_p must be in (0, 1] (1 = off), got " + num(p));
  return std::make_unique<TopP>(p, min_keep);
}

std::unique_ptr<Sampler> make_min_p(float p, size_t min_keep) {
  if (!(p >= 0.0f && p <= 1.0f)) throw UsageError("min_p must be in [0, 1] (0 = off), got " + num(p));
  return std::make_unique<MinP>(p, min_keep);
}

std::unique_ptr<Sampler> make_temperature(float t) {
  if (!(t > 0.0f) || std::isinf(t))
    throw UsageError("temperature step needs a finite temperature > 0, got " + num(t) + " (use greedy for 0)");
  return std::make_unique<Temperature>(t);
}

std::unique_ptr<Sampler> make_dist(uint64_t seed) { return std::make_unique<Dist>(seed); }

}  // namespace lmgen
