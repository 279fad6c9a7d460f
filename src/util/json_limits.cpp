#include "util/json_limits.hpp"

#include <utility>
#include <vector>

#include "lmgen/error.hpp"

namespace lmgen {

void check_json_depth(const nlohmann::json& j, const std::string& path, int max_depth) {
  std::vector<std::pair<const nlohmann::json*, int>> stack{{&j, 0}};
  while (!stack.empty()) {
    auto [v, depth] = stack.back();
    stack.pop_back();
    if (!v->is_structured()) continue;
    if (depth >= max_depth && !v->empty())
      throw Error(path, "JSON nested deeper than " + std::to_string(max_depth) + " levels");
    for (const auto& child : *v) stack.emplace_back(&child, depth + 1);
  }
}

}  // namespace lmgen
