// ToolChoice — a chat request's `tool_choice` and `parallel_tool_calls`, as OpenAI defines them, read the same way
// wherever tools come in (the server's request body, a `lmgen chat --messages` file, a `--batch` line):
// "auto" (the default) shows every tool and reads calls to them; "none" neither shows the tools nor reads calls;
// "required" and {"type": "function", "function": {"name"}} force a call (to any tool / to that one only, the
// only one the template is shown), with the grammar of call_grammar.hpp.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reply/format.hpp"
#include "reply/parser.hpp"

namespace lmgen::reply {

struct ToolChoice {
  enum class Mode { Auto, None, Required, Named };
  Mode mode = Mode::Auto;
  std::string name;      // Named: the function
  bool parallel = true;  // parallel_tool_calls
  bool forced() const { return mode == Mode::Required || mode == Mode::Named; }
};

// The tool fields of `request` ("tools", "tool_choice", "parallel_tool_calls"; any may be absent or null).
// Throws UsageError naming the field for a value OpenAI's API would refuse (tools not named functions, an unknown
// choice, a named function not among the tools, "required" without tools).
struct ToolFields {
  nlohmann::ordered_json tools = nlohmann::ordered_json::array();  // as given
  std::vector<std::string> names;                                  // their function names
  ToolChoice choice;
};
ToolFields read_tool_fields(const nlohmann::ordered_json& request);

// The tools the template is shown (none for "none", the named one alone, else all); empty = no "tools" at all.
nlohmann::ordered_json shown_tools(const ToolFields& fields);

// Sets `parse` to read calls to the shown tools (one at most without parallel_tool_calls).
void apply_tool_choice(const ToolFields& fields, ParseOptions& parse);

// The GBNF a forced choice constrains the reply with ("" when the choice does not force a call): a call to the
// shown tools in `format`, after a thinking block where `start` allows one. Throws Error (call_grammar.hpp).
std::string forced_call_gbnf(const ToolFields& fields, const ReplyFormat& format, ReasoningStart start);

}  // namespace lmgen::reply
