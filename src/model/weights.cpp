#include "lmgen/weights.hpp"

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

}  // namespace lmgen
