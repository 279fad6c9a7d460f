// The tool fields of a chat request (`tools`, `tool_choice`, `parallel_tool_calls`): which tools the template
// sees and how the reply is read back (reply/parser.hpp), and the conversation's earlier calls made ready for the
// template. OpenAI's semantics where lmgen can keep them without a grammar: "none" neither shows the tools to
// the model nor reads calls; "auto" and "required" show them all and read calls to them; a named function shows
// only that tool and reads only calls to it; parallel_tool_calls false keeps the first call (later ones stay
// content). Forcing the call ("required", named) needs a grammar and is not applied yet.
#pragma once

#include "chat/conversation.hpp"
#include "reply/parser.hpp"
#include "serve/api.hpp"

namespace lmgen::serve {

// Reads the tool fields of `body` into conv.tools and the parse options' tool settings. Throws ApiError (400).
void read_tool_fields(const Json& body, chat::Conversation& conv, reply::ParseOptions& parse);

// Earlier assistant turns as templates expect them: a call's `arguments` given as JSON text (as OpenAI clients
// send it) becomes the object it holds (templates write it with tojson), and null content beside calls "".
void prepare_tool_turns(Json& messages);

}  // namespace lmgen::serve
