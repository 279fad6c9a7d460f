// Rendering a conversation with a model's chat template, as Hugging Face's apply_chat_template does: the template
// sees `messages`, `add_generation_prompt`, `tools` (when given), the tokenizer's special-token strings
// (`bos_token`, `eos_token`, ...) and any extra keyword arguments, which override the others.
#pragma once

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "chat/template.hpp"

namespace lmgen::chat {

struct Conversation {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();  // [{"role": ..., "content": ...}, ...]
  std::optional<nlohmann::ordered_json> tools;                         // the "tools" array, when given
  bool add_generation_prompt = true;
  nlohmann::ordered_json kwargs = nlohmann::ordered_json::object();    // e.g. {"enable_thinking": false}
};

// Reads a conversation given as a JSON array of messages or an object {"messages": [...], "tools": [...]}.
// Throws UsageError on any other shape.
Conversation parse_conversation(const nlohmann::ordered_json& j);

std::string render_conversation(const ChatTemplate& tmpl, const std::map<std::string, std::string>& special_tokens,
                                const Conversation& c, const RenderOptions& options = {});

}  // namespace lmgen::chat
