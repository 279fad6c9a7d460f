// ToolCall — one function call read out of a reply — and the reading of a call's JSON in the shapes models
// write: {"name", "arguments" | "parameters"} (the arguments an object, or a string holding one), OpenAI's
// {"type": "function", "function": {...}}, and the generic wrappers {"tool_call": {...}} / {"tool_calls": [...]}.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace lmgen::reply {

struct ToolCall {
  std::string id;         // 9 letters and digits (Mistral's templates require exactly that on the next turn)
  std::string name;
  std::string arguments;  // a JSON object, as text
};

// The calls a parsed JSON value holds, or nullopt when it is not a call (or a list of them, when `array`) to one
// of `tool_names` (any name when that is empty). Ids are left empty.
std::optional<std::vector<ToolCall>> read_calls(const nlohmann::json& value, bool array,
                                                const std::vector<std::string>& tool_names);

// A call id: 9 letters and digits, a function of `seed` and the call's index in the reply.
std::string call_id(std::string_view seed, size_t index);

}  // namespace lmgen::reply
