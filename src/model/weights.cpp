// The canonical weights' buffer helpers and their summary by type.
#include "lmgen/weights.hpp"

#include <map>

namespace lmgen {

Vector Weights::own_vector(std::vector<float> v) {
  auto p = std::make_shared<std::vector<float>>(std::move(v));
  keep_alive.push_back(p);
  return Vector{p->data(), static_cast<int64_t>(p->size())};
}

const uint8_t* Weights::own_bytes(std::vector<uint8_t> bytes) {
  auto p = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
  keep_alive.push_back(p);
  return p->data();
}

std::vector<std::pair<DType, int>> Weights::matrix_types() const {
  std::map<DType, int> n;
  auto add = [&](const Matrix& m) {
    if (!m.empty()) ++n[m.type];
  };
  add(tok_embd);
  add(pos_embd);
  if (output.data != tok_embd.data) add(output);
  for (const LayerWeights& l : layers)
    for (const Matrix* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) add(*m);
  return {n.begin(), n.end()};
}

}  // namespace lmgen
