// message_json, tool_call_json and parse_options_for (message.hpp).
#include "reply/message.hpp"

namespace lmgen::reply {

nlohmann::ordered_json tool_call_json(const ToolCall& c) {
  return {{"id", c.id}, {"type", "function"}, {"function", {{"name", c.name}, {"arguments", c.arguments}}}};
}

nlohmann::ordered_json message_json(const ParsedReply& r) {
  nlohmann::ordered_json m = {{"role", "assistant"}, {"content", r.content}};
  if (!r.reasoning.empty()) m["reasoning_content"] = r.reasoning;
  if (!r.calls.empty()) {
    if (r.content.empty()) m["content"] = nullptr;
    m["tool_calls"] = nlohmann::ordered_json::array();
    for (const ToolCall& c : r.calls) m["tool_calls"].push_back(tool_call_json(c));
  }
  return m;
}

ParseOptions parse_options_for(const ReplyFormat& format, const nlohmann::ordered_json* tools,
                               ReasoningFormat reasoning, std::string_view prompt) {
  ParseOptions o;
  o.reasoning = reasoning != ReasoningFormat::None;
  o.start = reasoning_start(format, prompt);
  if (tools == nullptr || !tools->is_array() || tools->empty()) return o;
  o.tools = true;
  for (const auto& t : *tools) {
    const auto& f = t.contains("function") ? t["function"] : t;
    if (f.is_object() && f.contains("name") && f["name"].is_string()) o.tool_names.push_back(f["name"].get<std::string>());
  }
  return o;
}

}  // namespace lmgen::reply
