// The tool fields of a chat request (`tools`, `tool_choice`, `parallel_tool_calls`), read by reply/tool_choice.hpp
// with the server's 400 for a bad value: which tools the template sees, how the reply is read back
// (reply/parser.hpp), and for "required" or a named function the grammar of a call the reply is constrained to
// (reply/call_grammar.hpp); and the conversation's earlier calls made ready for the template.
#pragma once

#include "chat/conversation.hpp"
#include "reply/parser.hpp"
#include "reply/tool_choice.hpp"
#include "serve/api.hpp"

namespace lmgen::serve {

// Reads the tool fields of `body` into conv.tools and the parse options' tool settings. Throws ApiError (400).
reply::ToolFields read_tool_fields(const Json& body, chat::Conversation& conv, reply::ParseOptions& parse);

// For a forced choice, the grammar of a call to the shown tools in the template's format (after a thinking block
// where req.reply_options.start allows one) becomes req's constraint. Throws ApiError (400) when the request has
// a constraint of its own or a schema cannot be converted.
void constrain_call(const reply::ToolFields& fields, const ApiContext& ctx, Request& req);

// Earlier assistant turns as templates expect them: a call's `arguments` given as JSON text (as OpenAI clients
// send it) becomes the object it holds (templates write it with tojson), and null content beside calls "".
void prepare_tool_turns(Json& messages);

}  // namespace lmgen::serve
