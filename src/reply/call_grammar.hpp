// The grammar of a forced tool call (tool_choice "required" or a named function): a reply that is nothing but
// calls, written in the family's call syntax (format.hpp), each {"name": <one of the tools>, <args_key>: <that
// tool's parameter schema>}. Constrained by it, even a tiny model returns a call the reply parser reads and whose
// arguments validate against the tool's schema. Used by every front end that takes tools (the server, `lmgen chat
// --jsonl`, `--batch` lines).
//
//   Hermes     <tool_call>\n{call}\n</tool_call>, repeated (separated by "\n") when parallel
//   Llama 3    {call} with "parameters": one call always (Llama 3.x templates refuse several on the next turn)
//   Mistral    [TOOL_CALLS][{call}, ...]            (one element when not parallel)
//   Phi-4-mini <|tool_call|>[{call}, ...]<|/tool_call|>
//   Generic    {call}: one call
// A template that thinks may have a thinking block before the calls (CallGrammarOptions::start).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reply/format.hpp"

namespace lmgen::reply {

struct CallGrammarOptions {
  bool parallel = true;  // parallel_tool_calls: one or more calls where the syntax allows several; false: exactly one
  // Where the reply starts (format.hpp), for a template that thinks: MayOpen lets a thinking block come before the
  // calls, Open has the reply start inside one (it must close first), Closed allows none.
  ReasoningStart start = ReasoningStart::Closed;
};

struct CallGrammar {
  std::string gbnf;
  std::vector<std::string> warnings;  // schema keywords the grammar does not enforce (json_schema.hpp)
};

// `tools`: OpenAI tools ([{"type": "function", "function": {"name", "parameters"}}], the calls may be to any of
// them). A tool without parameters takes any object. Throws lmgen::Error naming the tool for a schema the
// converter cannot take, for tools that are not a non-empty array of named functions, or nested deeper than
// kMaxJsonDepth.
CallGrammar call_grammar(const ReplyFormat& format, const nlohmann::ordered_json& tools,
                         const CallGrammarOptions& opt = {});

}  // namespace lmgen::reply
