// Shared by the sampler tests: random logits from the library's Rng, candidate lists, and the ids one holds.
#pragma once

#include <cstdint>
#include <set>
#include <vector>

#include "lmgen/sampler.hpp"

namespace lmgen::test {

inline std::vector<float> random_logits(size_t n, uint64_t seed, float scale = 4.0f) {
  Rng r(seed);
  std::vector<float> v(n);
  for (float& x : v) x = (r.next_float() - 0.5f) * 2.0f * scale;
  return v;
}

inline std::set<int32_t> ids_of(const Candidates& c) {
  std::set<int32_t> s;
  for (const Candidate& x : c.data) s.insert(x.id);
  return s;
}

inline Candidates make_candidates(const std::vector<float>& logits) {
  Candidates c;
  c.reset(logits);
  return c;
}

}  // namespace lmgen::test
