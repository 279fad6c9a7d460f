// Sampler tests: the Rng against values computed independently from the documented algorithm, every step's
// defining property, seeded draws (reproducibility and a chi-square goodness-of-fit). Chains: test_sampler_chain.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "lmgen/error.hpp"
#include "lmgen/sampler.hpp"
#include "sampler_helpers.hpp"

namespace lmgen {
namespace {

using test::ids_of;
using test::make_candidates;
using test::random_logits;

// Reference values: /tmp python script implementing the algorithm exactly as written in sampler.hpp
// (SplitMix64 seeding, xoshiro256**), run once; its output pasted here.
TEST(SamplerRng, MatchesReferenceForSeed0) {
  Rng r(0);
  EXPECT_EQ(r.next_u64(), 0x99EC5F36CB75F2B4ULL);
  EXPECT_EQ(r.next_u64(), 0xBF6E1F784956452AULL);
  EXPECT_EQ(r.next_u64(), 0x1A5F849D4933E6E0ULL);
  EXPECT_EQ(r.next_u64(), 0x6AA594F1262D2D2CULL);
  EXPECT_EQ(r.next_double(), 0.7329967790569901);  // 6602248042049669 * 2^-53
  EXPECT_EQ(r.next_float(), 0.9997484087944031f);  // 16772995 * 2^-24
}

TEST(SamplerRng, MatchesReferenceForSeed1AndMax) {
  Rng r(1);
  EXPECT_EQ(r.next_u64(), 0xB3F2AF6D0FC710C5ULL);
  EXPECT_EQ(r.next_u64(), 0x853B559647364CEAULL);
  EXPECT_EQ(r.next_u64(), 0x92F89756082A4514ULL);
  EXPECT_EQ(r.next_u64(), 0x642E1C7BC266A3A7ULL);
  EXPECT_EQ(r.next_double(), 0.6971784165599615);
  EXPECT_EQ(r.next_float(), 0.14357203245162964f);
  Rng m(0xFFFFFFFFFFFFFFFFULL);
  EXPECT_EQ(m.next_u64(), 0x8F5520D52A7EAD08ULL);
  EXPECT_EQ(m.next_u64(), 0xC476A018CAA1802DULL);
}

TEST(SamplerRng, UniformsInRangeAndSeedsDiffer) {
  Rng a(7), b(8);
  double sum = 0;
  int same = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    const double x = a.next_double();
    const float f = b.next_float();
    ASSERT_GE(x, 0.0);
    ASSERT_LT(x, 1.0);
    ASSERT_GE(f, 0.0f);
    ASSERT_LT(f, 1.0f);
    sum += x;
  }
  EXPECT_NEAR(sum / n, 0.5, 0.005);
  Rng c(7), d(8);
  for (int i = 0; i < 100; ++i) same += c.next_u64() == d.next_u64();
  EXPECT_EQ(same, 0);
}

// ---- helpers ----

// Softmax in double, computed directly (independent of Candidates::softmax).
std::vector<double> probs(const std::vector<float>& logits) {
  const double mx = *std::max_element(logits.begin(), logits.end());
  std::vector<double> p(logits.size());
  double s = 0;
  for (size_t i = 0; i < p.size(); ++i) s += p[i] = std::exp(logits[i] - mx);
  for (double& x : p) x /= s;
  return p;
}

// ---- Candidates ----

TEST(SamplerCandidates, SortIsDescendingWithTiesByLowerId) {
  Candidates c = make_candidates({1.0f, 3.0f, 3.0f, 2.0f, 3.0f, -INFINITY});
  c.sort_desc();
  std::vector<int32_t> ids;
  for (const Candidate& x : c.data) ids.push_back(x.id);
  EXPECT_EQ(ids, (std::vector<int32_t>{1, 2, 4, 3, 0, 5}));
  EXPECT_TRUE(c.sorted);
}

TEST(SamplerCandidates, SoftmaxIsStableAndMatchesDirectComputation) {
  const std::vector<float> logits = {1000.0f, 999.0f, 998.0f, -INFINITY, 990.0f};
  Candidates c = make_candidates(logits);
  c.softmax();
  const std::vector<double> want = probs(logits);
  double total = 0;
  for (const Candidate& x : c.data) {
    ASSERT_TRUE(std::isfinite(x.p));
    EXPECT_NEAR(x.p, want[x.id], 1e-7);
    total += x.p;
  }
  EXPECT_NEAR(total, 1.0, 1e-6);
  EXPECT_EQ(c.data.back().id, 3);
  EXPECT_EQ(c.data.back().p, 0.0f);
}

TEST(SamplerCandidates, RejectsNaNAndPositiveInfinity) {
  Candidates c;
  const std::vector<float> nan = {0.0f, NAN};
  const std::vector<float> inf = {INFINITY, 0.0f};
  EXPECT_THROW(c.reset(nan), Error);
  EXPECT_THROW(c.reset(inf), Error);
  Candidates all_masked = make_candidates({-INFINITY, -INFINITY});
  EXPECT_THROW(all_masked.softmax(), Error);
}

TEST(SamplerCandidates, TopMatchesFullSoftmaxPrefix) {
  const std::vector<float> logits = random_logits(500, 3);
  const Candidates c = make_candidates(logits);
  const std::vector<Candidate> top = c.top(10);
  Candidates full = c;
  full.softmax();
  ASSERT_EQ(top.size(), 10u);
  for (size_t i = 0; i < top.size(); ++i) {
    EXPECT_EQ(top[i].id, full.data[i].id);
    EXPECT_FLOAT_EQ(top[i].p, full.data[i].p);
  }
  EXPECT_FALSE(c.sorted);  // top() leaves the list alone
}

// ---- steps ----

TEST(SamplerSteps, GreedyPicksLowestIdAmongTies) {
  Candidates c = make_candidates({1.0f, 5.0f, 3.0f, 5.0f, 5.0f});
  make_greedy()->apply(c);
  EXPECT_EQ(c.selected, 1);
  Candidates s = make_candidates({5.0f, 1.0f, 5.0f});
  s.data = {{2, 5.0f, 0}, {1, 1.0f, 0}, {0, 5.0f, 0}};  // unsorted, filtered-looking order
  make_greedy()->apply(s);
  EXPECT_EQ(s.selected, 0);
  s.sort_desc();
  make_greedy()->apply(s);
  EXPECT_EQ(s.selected, 0);
}

TEST(SamplerSteps, TopKKeepsKHighestWithDeterministicTies) {
  Candidates c = make_candidates({5.0f, 7.0f, 7.0f, 7.0f, 1.0f, 9.0f, 7.0f});
  make_top_k(3)->apply(c);
  ASSERT_EQ(c.data.size(), 3u);
  EXPECT_EQ(c.data[0].id, 5);
  EXPECT_EQ(c.data[1].id, 1);
  EXPECT_EQ(c.data[2].id, 2);
  EXPECT_TRUE(c.sorted);
  // Random logits: exactly the k largest.
  const std::vector<float> logits = random_logits(1000, 11);
  for (int32_t k : {1, 2, 17, 999}) {
    Candidates r = make_candidates(logits);
    make_top_k(k)->apply(r);
    ASSERT_EQ(r.data.size(), static_cast<size_t>(k));
    std::vector<float> sorted = logits;
    std::sort(sorted.begin(), sorted.end(), std::greater<float>());
    for (const Candidate& x : r.data) EXPECT_GE(x.logit, sorted[k - 1]);
  }
  Candidates all = make_candidates(logits);
  make_top_k(0)->apply(all);
  EXPECT_EQ(all.data.size(), logits.size());
}

TEST(SamplerSteps, TopPKeepsExactlyTheSmallestPrefixReachingP) {
  const std::vector<float> logits = random_logits(200, 5);
  const std::vector<double> p = probs(logits);
  std::vector<int32_t> order(p.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return p[a] > p[b]; });
  int checked = 0;
  for (float top_p = 0.01f; top_p < 1.0f; top_p += 0.0173f) {
    size_t m = 0;
    double cum = 0;
    while (cum < top_p) cum += p[order[m++]];
    if (std::abs(cum - top_p) < 1e-5 || std::abs(cum - p[order[m - 1]] - top_p) < 1e-5) continue;  // borderline
    Candidates c = make_candidates(logits);
    make_top_p(top_p)->apply(c);
    ASSERT_EQ(c.data.size(), m) << "top_p " << top_p;
    EXPECT_EQ(ids_of(c), std::set<int32_t>(order.begin(), order.begin() + static_cast<long>(m)));
    ++checked;
  }
  EXPECT_GT(checked, 40);
  // min_keep wins over a tiny p; p = 1 keeps (nearly) everything.
  Candidates c = make_candidates(logits);
  make_top_p(0.001f, 5)->apply(c);
  EXPECT_EQ(c.data.size(), 5u);
  Candidates one = make_candidates({0.0f, 10.0f, 0.0f});
  make_top_p(0.5f)->apply(one);
  ASSERT_EQ(one.data.size(), 1u);
  EXPECT_EQ(one.data[0].id, 1);
}

TEST(SamplerSteps, MinPKeepsTokensAboveFractionOfMax) {
  const std::vector<float> logits = random_logits(300, 9);
  const std::vector<double> p = probs(logits);
  const double pmax = *std::max_element(p.begin(), p.end());
  for (float min_p : {0.01f, 0.05f, 0.2f, 0.5f, 1.0f}) {
    std::set<int32_t> want;
    bool borderline = false;
    for (size_t i = 0; i < p.size(); ++i) {
      if (p[i] >= min_p * pmax) want.insert(static_cast<int32_t>(i));
      borderline |= std::abs(p[i] - min_p * pmax) < 1e-9 && p[i] != pmax;
    }
    if (borderline) continue;
    Candidates c = make_candidates(logits);
    make_min_p(min_p)->apply(c);
    EXPECT_EQ(ids_of(c), want) << "min_p " << min_p;
    Candidates s = make_candidates(logits);  // same on an already sorted list, which stays sorted
    s.sort_desc();
    make_min_p(min_p)->apply(s);
    EXPECT_EQ(ids_of(s), want);
    EXPECT_TRUE(std::is_sorted(s.data.begin(), s.data.end(), ranks_before));
  }
  Candidates k = make_candidates(logits);
  make_min_p(1.0f, 3)->apply(k);
  EXPECT_EQ(k.data.size(), 3u);
}

TEST(SamplerSteps, TemperatureScalesLogOdds) {
  const std::vector<float> logits = random_logits(50, 21, 3.0f);
  const std::vector<double> p0 = probs(logits);
  for (float t : {0.25f, 0.7f, 1.5f, 4.0f}) {
    Candidates c = make_candidates(logits);
    make_temperature(t)->apply(c);
    c.softmax();
    std::vector<double> p1(logits.size());
    for (const Candidate& x : c.data) p1[x.id] = x.p;
    for (size_t i = 1; i < logits.size(); ++i) {
      if (p1[i] < 1e-30 || p1[0] < 1e-30) continue;
      const double before = std::log(p0[i] / p0[0]);
      const double after = std::log(p1[i] / p1[0]);
      EXPECT_NEAR(after, before / t, 1e-4 * std::max(1.0, std::abs(before / t))) << "T=" << t << " i=" << i;
    }
  }
}

TEST(SamplerSteps, TemperatureNeverCreatesInfinity) {
  Candidates c = make_candidates({100.0f, -100.0f, -INFINITY, 99.0f});
  make_temperature(1e-38f)->apply(c);
  for (const Candidate& x : c.data) EXPECT_NE(x.logit, INFINITY);
  make_dist(1)->apply(c);
  EXPECT_TRUE(c.selected == 0 || c.selected == 3);  // 100 and 99 both clamp to FLT_MAX: a tie, p 0.5 each
}

std::vector<int32_t> draw(Sampler& s, const std::vector<float>& logits, int n) {
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) {
    Candidates c = make_candidates(logits);
    s.apply(c);
    out.push_back(c.selected);
  }
  return out;
}

TEST(SamplerSteps, DistSameSeedSameDrawsDifferentSeedsDiffer) {
  const std::vector<float> logits = random_logits(100, 2, 1.0f);
  auto a = make_dist(42), b = make_dist(42), c = make_dist(43);
  const auto da = draw(*a, logits, 500), db = draw(*b, logits, 500), dc = draw(*c, logits, 500);
  EXPECT_EQ(da, db);
  EXPECT_NE(da, dc);
  a->reset();  // re-seeds: the sequence starts over
  EXPECT_EQ(draw(*a, logits, 500), da);
}

TEST(SamplerSteps, DistIsInverseCdfOverSortedCandidates) {
  const std::vector<float> logits = {0.5f, 2.0f, -1.0f, 1.0f, 0.0f, 1.5f};
  const std::vector<double> p = probs(logits);
  std::vector<int32_t> order(p.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return p[a] > p[b]; });
  for (uint64_t seed = 0; seed < 50; ++seed) {
    const double u = Rng(seed).next_double();  // Dist uses exactly one uniform per draw
    double cum = 0;
    int32_t want = -1;
    bool borderline = false;
    for (int32_t id : order) {
      cum += p[id];
      borderline |= std::abs(cum - u) < 1e-6;
      if (u < cum) {
        want = id;
        break;
      }
    }
    if (borderline) continue;
    Candidates c = make_candidates(logits);
    make_dist(seed)->apply(c);
    EXPECT_EQ(c.selected, want) << "seed " << seed << " u " << u;
  }
}

// Chi-square statistic of observed counts against probabilities q.
double chi_square(const std::vector<int>& counts, const std::vector<double>& q, int n) {
  double chi = 0;
  for (size_t i = 0; i < q.size(); ++i) chi += std::pow(counts[i] - n * q[i], 2) / (n * q[i]);
  return chi;
}

TEST(SamplerSteps, DistFrequenciesMatchDistributionChiSquare) {
  const std::vector<double> q = {0.3, 0.2, 0.15, 0.1, 0.1, 0.08, 0.05, 0.02};
  std::vector<float> logits;
  for (double x : q) logits.push_back(static_cast<float>(std::log(x)));
  const int n = 200000;
  std::vector<int> counts(q.size(), 0);
  auto dist = make_dist(12345);
  for (int32_t id : draw(*dist, logits, n)) ++counts.at(static_cast<size_t>(id));
  const double critical = 24.322;  // chi-square, 7 degrees of freedom, p = 0.001
  EXPECT_LT(chi_square(counts, q, n), critical);
  // The test has power: swapping two probabilities (0.15 <-> 0.1) is rejected by a wide margin.
  std::vector<double> wrong = q;
  std::swap(wrong[2], wrong[3]);
  EXPECT_GT(chi_square(counts, wrong, n), 10 * critical);
}

// Top-p and dist sort big unsorted lists lazily, in chunks; the result must equal working on a fully sorted list.
TEST(SamplerSteps, LazySortOnBigListsMatchesFullSort) {
  const std::vector<float> logits = random_logits(50000, 31, 6.0f);
  Candidates sorted = make_candidates(logits);
  sorted.sort_desc();
  for (float top_p : {0.05f, 0.5f, 0.9f, 0.999f}) {
    Candidates lazy = make_candidates(logits), full = sorted;
    make_top_p(top_p)->apply(lazy);
    make_top_p(top_p)->apply(full);
    ASSERT_EQ(lazy.data.size(), full.data.size()) << top_p;
    for (size_t i = 0; i < lazy.data.size(); ++i) {
      ASSERT_EQ(lazy.data[i].id, full.data[i].id) << i;
      ASSERT_EQ(lazy.data[i].p, full.data[i].p) << i;
    }
    EXPECT_TRUE(std::is_sorted(lazy.data.begin(), lazy.data.end(), ranks_before));
  }
  Candidates probe = make_candidates(logits);
  make_top_p(0.999f)->apply(probe);
  EXPECT_GT(probe.data.size(), 2000u);  // the walk above really crossed several chunks
  auto a = make_dist(5), b = make_dist(5);
  for (int i = 0; i < 100; ++i) {
    Candidates lazy = make_candidates(logits), full = sorted;
    a->apply(lazy);
    b->apply(full);
    ASSERT_EQ(lazy.selected, full.selected) << "draw " << i;
  }
}

// ---- penalties and bias ----

TEST(SamplerSteps, PenaltiesChangeExactlyThePenalisedLogits) {
  const std::vector<float> logits = {2.0f, -1.0f, 3.0f, -2.0f, 0.5f, 1.0f, 0.0f, 4.0f};
  auto pen = make_penalties(64, 2.0f, 0.5f, 1.0f);
  for (int32_t t : {2, 3, 3, 7}) pen->accept(t);
  Candidates c = make_candidates(logits);
  pen->apply(c);
  std::vector<float> want = logits;
  want[2] = 3.0f / 2.0f - (1 * 0.5f + 1.0f);   // positive: divided
  want[3] = -2.0f * 2.0f - (2 * 0.5f + 1.0f);  // negative: multiplied, seen twice
  want[7] = 4.0f / 2.0f - (1 * 0.5f + 1.0f);
  for (const Candidate& x : c.data) EXPECT_EQ(x.logit, want[x.id]) << "id " << x.id;
  // Same result on a sorted, truncated list (the slow lookup path).
  Candidates s = make_candidates(logits);
  make_top_k(6)->apply(s);
  pen->apply(s);
  for (const Candidate& x : s.data) EXPECT_EQ(x.logit, want[x.id]) << "id " << x.id;
  EXPECT_FALSE(s.sorted);
  // Only the last N tokens count; reset() forgets everything.
  auto last2 = make_penalties(2, 2.0f, 0.0f, 0.0f);
  for (int32_t t : {2, 3, 7}) last2->accept(t);
  Candidates w = make_candidates(logits);
  last2->apply(w);
  EXPECT_EQ(w.data[2].logit, 3.0f);
  EXPECT_EQ(w.data[3].logit, -4.0f);
  EXPECT_EQ(w.data[7].logit, 2.0f);
  last2->reset();
  Candidates r = make_candidates(logits);
  last2->apply(r);
  for (const Candidate& x : r.data) EXPECT_EQ(x.logit, logits[x.id]);
}

TEST(SamplerSteps, LogitBiasAddsToListedIdsOnly) {
  const std::vector<float> logits = {1.0f, 2.0f, 3.0f, 4.0f};
  auto bias = make_logit_bias({{0, 5.0f}, {2, -INFINITY}, {0, 1.0f}, {99, 3.0f}});
  Candidates c = make_candidates(logits);
  bias->apply(c);
  EXPECT_EQ(c.data[0].logit, 7.0f);  // repeated ids add up
  EXPECT_EQ(c.data[1].logit, 2.0f);
  EXPECT_EQ(c.data[2].logit, -INFINITY);
  EXPECT_EQ(c.data[3].logit, 4.0f);
  Candidates s = make_candidates(logits);
  s.sort_desc();
  bias->apply(s);
  for (const Candidate& x : s.data) EXPECT_EQ(x.logit, c.data[x.id].logit);
  EXPECT_THROW(make_logit_bias({{-1, 1.0f}}), UsageError);
  EXPECT_THROW(make_logit_bias({{1, NAN}}), UsageError);
}

}  // namespace
}  // namespace lmgen
