// The tool fields of a chat request (`tools`, `tool_choice`, `parallel_tool_calls`): which tools the template
// sees and how the reply is read back (reply/parser.hpp), and the conversation's earlier calls made ready for the
// template. OpenAI's semantics where lmgen can keep them without a grammar: "none" neither shows the tools to
// the model nor reads calls; "auto" and "required" show them all and read calls to them; a named function shows
// only that tool and reads only calls to it; parallel_tool_calls false keeps the first call (later ones stay
// content). "required" and a named function also constrain the reply with the grammar of a call to those tools
// (reply/call_grammar.hpp): one call when parallel_tool_calls is false, one or more where the family allows.
#pragma once

#include "chat/conversation.hpp"
#include "reply/parser.hpp"
#include "serve/api.hpp"

namespace lmgen::serve {

struct ToolChoice {
  bool forced = false;   // "required" or a named function: the reply must be a call
  bool parallel = true;  // parallel_tool_calls
};

// Reads the tool fields of `body` into conv.tools and the parse options' tool settings. Throws ApiError (400).
ToolChoice read_tool_fields(const Json& body, chat::Conversation& conv, reply::ParseOptions& parse);

// For a forced choice, the grammar of a call to conv.tools in the template's format (after a thinking block
// where req.reply_options.start allows one) becomes req's constraint. Throws ApiError (400) when the request has
// a constraint of its own or a schema cannot be converted.
void constrain_call(const ToolChoice& choice, const chat::Conversation& conv, const ApiContext& ctx, Request& req);

// Earlier assistant turns as templates expect them: a call's `arguments` given as JSON text (as OpenAI clients
// send it) becomes the object it holds (templates write it with tojson), and null content beside calls "".
void prepare_tool_turns(Json& messages);

}  // namespace lmgen::serve
