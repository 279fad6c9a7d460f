// lmgen::chat::ChatTemplate — renders a Hugging Face chat template (Jinja2 source from tokenizer_config.json or a
// GGUF file) as transformers' apply_chat_template does: jinja2 ImmutableSandboxedEnvironment with trim_blocks,
// lstrip_blocks and loop controls; tojson is Python's json.dumps(ensure_ascii=False); raise_exception(msg) and
// strftime_now(fmt) are globals.
//
// A template is untrusted input: parsing and rendering are bounded by Limits, and every failure (syntax error,
// undefined attribute, type error, raise_exception, exceeded limit) is a TemplateError whose message starts with
// "chat template:LINE:COLUMN: ". Nothing else escapes.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "chat/error.hpp"

namespace lmgen::chat {

struct Limits {
  int max_depth = 64;                     // nesting of blocks and of expressions; recursion of macros
  long max_loop_iterations = 1'000'000;   // loop iterations plus calls, per render; expression work (values made,
                                          // lists searched) is bounded by 256 units per allowed iteration
  size_t max_output_bytes = 16 << 20;     // the rendered text, and any string or printed value made on the way
  size_t max_list_items = 1 << 20;        // any list made while rendering (range, list * n, list + list, ...)
};

struct RenderOptions {
  // strftime_now(format): empty = the real local time formatted by strftime(3). Tests fix it (the Hugging Face
  // references return "26 Jul 2024").
  std::function<std::string(const std::string& format)> strftime_now;
};

class ChatTemplate {
 public:
  // Parses; throws TemplateError on syntax errors and on templates nested deeper than limits.max_depth.
  explicit ChatTemplate(std::string source, Limits limits = {});
  ~ChatTemplate();
  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;

  // context: a JSON object whose members become template variables (messages, add_generation_prompt, tools,
  // bos_token, eos_token, any other kwargs). Throws TemplateError.
  std::string render(const nlohmann::ordered_json& context, const RenderOptions& options = {}) const;

  const std::string& source() const { return source_; }

 private:
  struct Parsed;
  std::string source_;
  Limits limits_;
  std::unique_ptr<Parsed> parsed_;
};

}  // namespace lmgen::chat
