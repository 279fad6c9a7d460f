// ChatTemplate: parse once, render many times (see template.hpp).
#include "chat/template.hpp"

#include "chat/parser.hpp"
#include "chat/renderer.hpp"

namespace lmgen::chat {

struct ChatTemplate::Parsed {
  Body body;
};

ChatTemplate::ChatTemplate(std::string source, Limits limits)
    : source_(std::move(source)), limits_(limits), parsed_(std::make_unique<Parsed>()) {
  ParseOptions po;
  po.max_depth = limits_.max_depth;
  parsed_->body = parse_template(source_, po);
}

ChatTemplate::~ChatTemplate() = default;
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;

std::string ChatTemplate::render(const nlohmann::ordered_json& context, const RenderOptions& options) const {
  if (!context.is_object()) throw TemplateError(1, 1, "the render context must be a JSON object");
  Scope globals;
  try {
    for (const auto& [k, v] : context.items()) globals.set(k, Value::from_json(v));
  } catch (const ValueError& e) {
    throw TemplateError(1, 1, e.what());
  }
  Renderer r(limits_, options);
  return r.render(parsed_->body, globals);
}

}  // namespace lmgen::chat
