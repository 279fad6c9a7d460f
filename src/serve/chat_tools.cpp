// read_tool_fields and prepare_tool_turns (chat_tools.hpp).
#include "serve/chat_tools.hpp"

#include "lmgen/error.hpp"
#include "lmgen/grammar.hpp"
#include "reply/call_grammar.hpp"

namespace lmgen::serve {

namespace {

[[noreturn]] void bad(const std::string& msg) { throw ApiError(400, msg); }

std::string tool_name(const Json& tool) {
  if (!tool.is_object() || tool.value("type", "") != "function" || !tool.contains("function") ||
      !tool["function"].is_object() || !tool["function"].contains("name") || !tool["function"]["name"].is_string())
    bad("each of 'tools' must be {\"type\": \"function\", \"function\": {\"name\": ..., \"parameters\": ...}}");
  return tool["function"]["name"].get<std::string>();
}

}  // namespace

ToolChoice read_tool_fields(const Json& b, chat::Conversation& conv, reply::ParseOptions& parse) {
  ToolChoice out;
  Json tools = Json::array();
  if (b.contains("tools") && !b["tools"].is_null()) {
    if (!b["tools"].is_array()) bad("'tools' must be an array");
    tools = b["tools"];
  }
  std::vector<std::string> names;
  for (const Json& t : tools) names.push_back(tool_name(t));
  std::string choice = "auto";
  std::string named;
  if (b.contains("tool_choice") && !b["tool_choice"].is_null()) {
    const Json& c = b["tool_choice"];
    if (c.is_string() && (c == "none" || c == "auto" || c == "required")) {
      choice = c.get<std::string>();
    } else if (c.is_object() && c.value("type", "") == "function" && c.contains("function") &&
               c["function"].is_object() && c["function"].contains("name") && c["function"]["name"].is_string()) {
      choice = "named";
      named = c["function"]["name"].get<std::string>();
      if (std::find(names.begin(), names.end(), named) == names.end())
        bad("'tool_choice' names the function '" + named + "', which is not one of 'tools'");
    } else {
      bad("'tool_choice' must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}");
    }
  }
  if (choice == "required" && tools.empty()) bad("'tool_choice' \"required\" needs 'tools'");
  if (b.contains("parallel_tool_calls") && !b["parallel_tool_calls"].is_null()) {
    if (!b["parallel_tool_calls"].is_boolean()) bad("'parallel_tool_calls' must be true or false");
    out.parallel = b["parallel_tool_calls"].get<bool>();
    if (!out.parallel) parse.max_calls = 1;
  }
  if (tools.empty() || choice == "none") return out;
  if (choice == "named") {
    Json only = Json::array();
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] == named) only.push_back(tools[i]);
    tools = only;
    names = {named};
  }
  conv.tools = tools;
  parse.tools = true;
  parse.tool_names = names;
  out.forced = choice == "required" || choice == "named";
  return out;
}

void constrain_call(const ToolChoice& choice, const chat::Conversation& conv, const ApiContext& ctx, Request& req) {
  if (!choice.forced || !conv.tools) return;
  SamplingOptions& s = req.job.gen.sampling;
  if (s.grammar.grammar) bad("'tool_choice' \"required\" or a named function constrains the reply itself: give no 'grammar', 'json_schema' or 'response_format' with it");
  if (!ctx.vocab) bad("this server cannot constrain output (no vocabulary index)");
  try {
    s.grammar = GrammarConstraint{
        compile_gbnf(reply::call_grammar(ctx.reply_format, *conv.tools, {.parallel = choice.parallel,
                                                                          .start = req.reply_options.start})
                         .gbnf),
        ctx.vocab, ""};
  } catch (const Error& e) {
    bad(e.what());
  }
}

void prepare_tool_turns(Json& messages) {
  for (Json& m : messages) {
    if (!m.contains("tool_calls") || !m["tool_calls"].is_array()) continue;
    if (!m.contains("content") || m["content"].is_null()) m["content"] = "";
    for (Json& call : m["tool_calls"]) {
      if (!call.is_object() || !call.contains("function") || !call["function"].is_object()) continue;
      Json& f = call["function"];
      if (!f.contains("arguments") || !f["arguments"].is_string()) continue;
      Json args = Json::parse(f["arguments"].get<std::string>(), nullptr, false);
      if (args.is_object()) f["arguments"] = std::move(args);
    }
  }
}

}  // namespace lmgen::serve
