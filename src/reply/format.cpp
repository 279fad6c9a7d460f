// detect_format and reasoning_start (format.hpp): which call syntax and thinking markers a template's source
// names, and where the rendered prompt leaves the reply.
#include "reply/format.hpp"

#include "lmgen/error.hpp"

namespace lmgen::reply {

namespace {

bool has(std::string_view s, std::string_view needle) { return s.find(needle) != std::string_view::npos; }

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

const char* family_name(Family f) {
  switch (f) {
    case Family::Hermes: return "hermes";
    case Family::Llama3: return "llama3";
    case Family::Mistral: return "mistral";
    case Family::Phi4Mini: return "phi4-mini";
    case Family::Generic: break;
  }
  return "generic";
}

ReplyFormat detect_format(std::string_view src) {
  // Each form in full: {open, close, array, args_key, bare_at_start, separator}.
  ReplyFormat f;
  if (has(src, "<tool_call>")) {
    f.family = Family::Hermes;
    f.calls.push_back({"<tool_call>", "</tool_call>", false, "arguments", false, ""});
  } else if (has(src, "[TOOL_CALLS]")) {
    f.family = Family::Mistral;
    f.calls.push_back({"[TOOL_CALLS]", "", true, "arguments", true, ""});
  } else if (has(src, "<|tool_call|>") || has(src, "<|tool|>")) {
    f.family = Family::Phi4Mini;
    f.calls.push_back({"<|tool_call|>", "<|/tool_call|>", true, "arguments", true, ""});
  } else if (has(src, "<|start_header_id|>") && has(src, "\"parameters\"")) {
    f.family = Family::Llama3;
    f.calls.push_back({"", "", false, "parameters", true, ";"});
    f.calls.push_back({"<|python_tag|>", "", false, "parameters", false, ";"});
  } else {
    f.calls.push_back({"", "", false, "arguments", true, ""});
  }
  if (has(src, "<think>")) f.reasoning = ReasoningSyntax{};
  return f;
}

bool is_call_marker(const ReplyFormat& format, std::string_view text) {
  if (text.empty()) return false;
  for (const CallSyntax& c : format.calls)
    if (text == c.open || text == c.close) return true;
  return false;
}

ReasoningStart reasoning_start(const ReplyFormat& format, std::string_view prompt) {
  if (!format.reasoning) return ReasoningStart::MayOpen;
  const std::string_view tail = trim_right(prompt);
  if (tail.ends_with(format.reasoning->open)) return ReasoningStart::Open;
  if (tail.ends_with(format.reasoning->close)) return ReasoningStart::Closed;
  return ReasoningStart::MayOpen;
}

ReasoningFormat reasoning_format_from(std::string_view name) {
  if (name == "auto") return ReasoningFormat::Auto;
  if (name == "deepseek") return ReasoningFormat::DeepSeek;
  if (name == "none") return ReasoningFormat::None;
  throw UsageError("--reasoning-format must be none, deepseek or auto, got '" + std::string(name) + "'");
}

}  // namespace lmgen::reply
