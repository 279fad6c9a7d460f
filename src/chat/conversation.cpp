// render_conversation and parse_conversation (see conversation.hpp).
#include "chat/conversation.hpp"

#include "lmgen/error.hpp"

namespace lmgen::chat {

Conversation parse_conversation(const nlohmann::ordered_json& j) {
  Conversation c;
  if (j.is_array()) {
    c.messages = j;
  } else if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (k == "messages") c.messages = v;
      else if (k == "tools") c.tools = v;
      else throw UsageError("conversation: unknown key '" + k + "' (expected \"messages\" and optionally \"tools\")");
    }
    if (!j.contains("messages")) throw UsageError("conversation: the object has no \"messages\"");
  } else {
    throw UsageError("conversation: expected a JSON array of messages or an object {\"messages\": [...]}");
  }
  if (!c.messages.is_array()) throw UsageError("conversation: \"messages\" must be an array");
  for (const auto& m : c.messages)
    if (!m.is_object()) throw UsageError("conversation: every message must be a JSON object");
  if (c.tools && !c.tools->is_array()) throw UsageError("conversation: \"tools\" must be an array");
  return c;
}

std::string render_conversation(const ChatTemplate& tmpl, const std::map<std::string, std::string>& special_tokens,
                                const Conversation& c, const RenderOptions& options) {
  nlohmann::ordered_json ctx = nlohmann::ordered_json::object();
  ctx["messages"] = c.messages;
  if (c.tools) ctx["tools"] = *c.tools;
  ctx["add_generation_prompt"] = c.add_generation_prompt;
  for (const auto& [k, v] : special_tokens) ctx[k] = v;
  for (const auto& [k, v] : c.kwargs.items()) ctx[k] = v;  // keyword arguments override
  return tmpl.render(ctx, options);
}

}  // namespace lmgen::chat
