// Log-probabilities of a logits row: the one log-softmax of the engine (generation's --n-probs, scoring, and the
// server's logprobs all use it, so the same token gets the same number everywhere).
//
//   log p(i) = l_i - log Z,   log Z = m + log(sum_j exp(l_j - m)),   m = max_j l_j
//
// in double, summed in index order (a fixed order: the result does not depend on threads or batch size).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "lmgen/error.hpp"
#include "lmgen/generator.hpp"

namespace lmgen {

double log_partition(std::span<const float> logits) {
  double mx = -INFINITY;
  for (float l : logits) mx = std::max(mx, static_cast<double>(l));
  double sum = 0;
  for (float l : logits) sum += std::exp(static_cast<double>(l) - mx);
  return mx + std::log(sum);
}

double token_logprob(std::span<const float> logits, int32_t id) {
  if (id < 0 || static_cast<size_t>(id) >= logits.size())
    throw Error("token_logprob: token id " + std::to_string(id) + " is outside the logits row (" +
                std::to_string(logits.size()) + ")");
  return static_cast<double>(logits[static_cast<size_t>(id)]) - log_partition(logits);
}

std::vector<TopToken> top_logprobs(std::span<const float> logits, int32_t k) {
  const double log_z = log_partition(logits);
  std::vector<int32_t> ids(logits.size());
  std::iota(ids.begin(), ids.end(), 0);
  const size_t kk = std::min<size_t>(static_cast<size_t>(std::max(k, 0)), ids.size());
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(kk), ids.end(), [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  std::vector<TopToken> out(kk);
  for (size_t i = 0; i < kk; ++i)
    out[i] = {ids[i], static_cast<float>(static_cast<double>(logits[static_cast<size_t>(ids[i])]) - log_z)};
  return out;
}

}  // namespace lmgen
