// read_calls and call_id (calls.hpp).
#include "reply/calls.hpp"

#include <algorithm>

namespace lmgen::reply {

namespace {

using Json = nlohmann::json;

std::optional<ToolCall> read_call(const Json& v, const std::vector<std::string>& names) {
  if (!v.is_object()) return std::nullopt;
  if (v.contains("function") && v["function"].is_object()) return read_call(v["function"], names);
  if (!v.contains("name") || !v["name"].is_string()) return std::nullopt;
  const Json* args = nullptr;
  for (const char* key : {"arguments", "parameters"})
    if (v.contains(key)) args = &v[key];
  if (args == nullptr) return std::nullopt;
  Json obj = *args;
  if (obj.is_string()) obj = Json::parse(obj.get<std::string>(), nullptr, false);
  if (!obj.is_object()) return std::nullopt;
  ToolCall c;
  c.name = v["name"].get<std::string>();
  if (!names.empty() && std::find(names.begin(), names.end(), c.name) == names.end()) return std::nullopt;
  c.arguments = obj.dump(-1, ' ', false, Json::error_handler_t::replace);
  return c;
}

}  // namespace

std::optional<std::vector<ToolCall>> read_calls(const Json& value, bool array, const std::vector<std::string>& names) {
  if (value.is_object() && value.size() == 1 && value.contains("tool_call")) return read_calls(value["tool_call"], false, names);
  if (value.is_object() && value.size() == 1 && value.contains("tool_calls")) return read_calls(value["tool_calls"], true, names);
  std::vector<ToolCall> calls;
  if (array && value.is_array()) {
    if (value.empty()) return std::nullopt;
    for (const Json& v : value) {
      std::optional<ToolCall> c = read_call(v, names);
      if (!c) return std::nullopt;
      calls.push_back(std::move(*c));
    }
    return calls;
  }
  std::optional<ToolCall> c = read_call(value, names);
  if (!c) return std::nullopt;
  calls.push_back(std::move(*c));
  return calls;
}

std::string call_id(std::string_view seed, size_t index) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  uint64_t h = 14695981039346656037ull;  // FNV-1a over the seed and the index, then mixed
  for (char c : seed) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  h = (h ^ index) * 1099511628211ull;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 32;
  std::string id;
  for (int i = 0; i < 9; ++i, h /= 62) id += kAlphabet[h % 62];
  return id;
}

}  // namespace lmgen::reply
