// read_tool_fields, shown_tools, apply_tool_choice and forced_call_gbnf (tool_choice.hpp).
#include "reply/tool_choice.hpp"

#include <algorithm>

#include "lmgen/error.hpp"
#include "reply/call_grammar.hpp"

namespace lmgen::reply {

namespace {

using OJson = nlohmann::ordered_json;

bool given(const OJson& r, const char* key) { return r.is_object() && r.contains(key) && !r[key].is_null(); }

std::string tool_name(const OJson& tool) {
  if (!tool.is_object() || tool.value("type", "") != "function" || !tool.contains("function") ||
      !tool["function"].is_object() || !tool["function"].contains("name") || !tool["function"]["name"].is_string())
    throw UsageError("each of 'tools' must be {\"type\": \"function\", \"function\": {\"name\": ..., \"parameters\": ...}}");
  return tool["function"]["name"].get<std::string>();
}

ToolChoice read_choice(const OJson& c, const std::vector<std::string>& names) {
  ToolChoice out;
  if (c == "auto") return out;
  if (c == "none" || c == "required") {
    out.mode = c == "none" ? ToolChoice::Mode::None : ToolChoice::Mode::Required;
    return out;
  }
  if (!c.is_object() || c.value("type", "") != "function" || !c.contains("function") || !c["function"].is_object() ||
      !c["function"].contains("name") || !c["function"]["name"].is_string())
    throw UsageError("'tool_choice' must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}");
  out.mode = ToolChoice::Mode::Named;
  out.name = c["function"]["name"].get<std::string>();
  if (std::find(names.begin(), names.end(), out.name) == names.end())
    throw UsageError("'tool_choice' names the function '" + out.name + "', which is not one of 'tools'");
  return out;
}

}  // namespace

ToolFields read_tool_fields(const OJson& r) {
  ToolFields f;
  if (given(r, "tools")) {
    if (!r["tools"].is_array()) throw UsageError("'tools' must be an array");
    f.tools = r["tools"];
  }
  for (const OJson& t : f.tools) f.names.push_back(tool_name(t));
  if (given(r, "tool_choice")) f.choice = read_choice(r["tool_choice"], f.names);
  if (f.choice.mode == ToolChoice::Mode::Required && f.tools.empty())
    throw UsageError("'tool_choice' \"required\" needs 'tools'");
  if (given(r, "parallel_tool_calls")) {
    if (!r["parallel_tool_calls"].is_boolean()) throw UsageError("'parallel_tool_calls' must be true or false");
    f.choice.parallel = r["parallel_tool_calls"].get<bool>();
  }
  return f;
}

OJson shown_tools(const ToolFields& f) {
  if (f.choice.mode == ToolChoice::Mode::None) return OJson::array();
  if (f.choice.mode != ToolChoice::Mode::Named) return f.tools;
  OJson only = OJson::array();
  for (size_t i = 0; i < f.names.size(); ++i)
    if (f.names[i] == f.choice.name) only.push_back(f.tools[i]);
  return only;
}

void apply_tool_choice(const ToolFields& f, ParseOptions& parse) {
  if (!f.choice.parallel) parse.max_calls = 1;
  if (f.tools.empty() || f.choice.mode == ToolChoice::Mode::None) return;
  parse.tools = true;
  parse.tool_names = f.choice.mode == ToolChoice::Mode::Named ? std::vector<std::string>{f.choice.name} : f.names;
}

std::string forced_call_gbnf(const ToolFields& f, const ReplyFormat& format, ReasoningStart start) {
  if (!f.choice.forced()) return "";
  return call_grammar(format, shown_tools(f), {.parallel = f.choice.parallel, .start = start}).gbnf;
}

}  // namespace lmgen::reply
