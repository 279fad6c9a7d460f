// Options shared by the commands that apply a chat template (chat-template, chat, and --batch lines with
// "messages"): where the template comes from, its keyword arguments, and the clock of strftime_now.
#pragma once

#include <map>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "chat/conversation.hpp"
#include "chat/template.hpp"
#include "lmgen/loader.hpp"

namespace lmgen::cli {

struct ChatArgs {
  std::string template_file;  // --chat-template FILE (overrides the model's)
  std::string template_name;  // --chat-template-name NAME (a named variant of the model's, e.g. tool_use)
  std::string kwargs_json;    // --chat-template-kwargs JSON
  std::string reasoning_format = "auto";  // --reasoning-format none | deepseek | auto
};

void add_chat_options(CLI::App& app, ChatArgs& a);
// --reasoning-format, for the commands that read replies (chat, serve).
void add_reasoning_option(CLI::App& app, ChatArgs& a);

// The template to use: --chat-template FILE, else the model's (its named variant with --chat-template-name).
// Throws Error when the model has none (saying how to give one), TemplateError when it does not parse.
chat::ChatTemplate chat_template_for(const ChatArgs& a, const LoadedModel* model);
// --chat-template-kwargs as a JSON object (UsageError otherwise).
nlohmann::ordered_json chat_kwargs(const ChatArgs& a);
// strftime_now's clock: SOURCE_DATE_EPOCH (seconds, UTC) when set, for reproducible renders; else local time.
chat::RenderOptions chat_render_options();

}  // namespace lmgen::cli
