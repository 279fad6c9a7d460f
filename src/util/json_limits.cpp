#include "util/json_limits.hpp"

#include <utility>
#include <vector>

#include "lmgen/error.hpp"

namespace lmgen {

namespace {

template <class Json>
void check_depth(const Json& j, const std::string& path, int max_depth) {
  std::vector<std::pair<const Json*, int>> stack{{&j, 0}};
  while (!stack.empty()) {
    auto [v, depth] = stack.back();
    stack.pop_back();
    if (!v->is_structured()) continue;
    if (depth >= max_depth && !v->empty())
      throw Error(path, "JSON nested deeper than " + std::to_string(max_depth) + " levels");
    for (const auto& child : *v) stack.emplace_back(&child, depth + 1);
  }
}

}  // namespace

void check_json_depth(const nlohmann::json& j, const std::string& path, int max_depth) {
  check_depth(j, path, max_depth);
}

void check_json_depth(const nlohmann::ordered_json& j, const std::string& path, int max_depth) {
  check_depth(j, path, max_depth);
}

std::string json_error_text(const nlohmann::json::exception& e) {
  std::string s = e.what();
  if (s.rfind("[json.exception.", 0) == 0) {
    const size_t close = s.find("] ");
    if (close != std::string::npos) s.erase(0, close + 2);
  }
  for (const char* prefix : {"parse error at ", "parse error: "})
    if (s.rfind(prefix, 0) == 0) s.erase(0, std::string(prefix).size());
  return s;
}

}  // namespace lmgen
