// read_tool_fields, constrain_call and prepare_tool_turns (chat_tools.hpp).
#include "serve/chat_tools.hpp"

#include "lmgen/error.hpp"
#include "lmgen/grammar.hpp"

namespace lmgen::serve {

namespace {

[[noreturn]] void bad(const std::string& msg) { throw ApiError(400, msg); }

}  // namespace

reply::ToolFields read_tool_fields(const Json& b, chat::Conversation& conv, reply::ParseOptions& parse) {
  try {
    reply::ToolFields f = reply::read_tool_fields(b);
    Json shown = reply::shown_tools(f);
    if (!shown.empty()) conv.tools = std::move(shown);
    reply::apply_tool_choice(f, parse);
    return f;
  } catch (const UsageError& e) {
    bad(e.what());
  }
}

void constrain_call(const reply::ToolFields& fields, const ApiContext& ctx, Request& req) {
  if (!fields.choice.forced()) return;
  SamplingOptions& s = req.job.gen.sampling;
  if (s.grammar.grammar) bad("'tool_choice' \"required\" or a named function constrains the reply itself: give no 'grammar', 'json_schema' or 'response_format' with it");
  if (!ctx.vocab) bad("this server cannot constrain output (no vocabulary index)");
  try {
    s.grammar = GrammarConstraint{
        compile_gbnf(reply::forced_call_gbnf(fields, ctx.reply_format, req.reply_options.start)), ctx.vocab, ""};
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
