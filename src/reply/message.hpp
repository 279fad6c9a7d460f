// A parsed reply as the fields of an OpenAI assistant message, for every front end that prints or returns one
// (the server's response, `lmgen chat --jsonl`, `--batch` lines): "content" (null when the reply is only calls),
// "reasoning_content" (when there was thinking) and "tool_calls": [{"id", "type": "function", "function":
// {"name", "arguments": JSON text}}] (when there were calls).
#pragma once

#include <nlohmann/json.hpp>

#include "reply/parser.hpp"

namespace lmgen::reply {

nlohmann::ordered_json tool_call_json(const ToolCall& call);

// {"role": "assistant", ...the fields above}.
nlohmann::ordered_json message_json(const ParsedReply& reply);

// The options for reading a reply to `conversation_tools` (the request's tools, or none) after `prompt`.
ParseOptions parse_options_for(const ReplyFormat& format, const nlohmann::ordered_json* conversation_tools,
                               ReasoningFormat reasoning, std::string_view prompt);

}  // namespace lmgen::reply
