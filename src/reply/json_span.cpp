// scan_json (json_span.hpp): a bracket-and-string scan finds where the value closes; nlohmann/json then judges
// the value, or, while it is open, whether the text so far can still begin one (its parse error is then at the
// end of the input and not before).
#include "reply/json_span.hpp"

#include <nlohmann/json.hpp>

namespace lmgen::reply {

namespace {

// One past the closing bracket that balances text[0], or npos while the value is open.
size_t closing(std::string_view text) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') ++depth;
    else if ((c == '}' || c == ']') && --depth == 0) return i + 1;
  }
  return std::string_view::npos;
}

bool valid_prefix(std::string_view text) {
  try {
    const nlohmann::json complete = nlohmann::json::parse(text);  // the whole text is a value
    (void)complete;
  } catch (const nlohmann::json::parse_error& e) {
    return e.byte > text.size();  // the parser ran out of input: more text could still complete it
  }
  return true;
}

}  // namespace

JsonSpan scan_json(std::string_view text) {
  if (text.empty() || (text[0] != '{' && text[0] != '[')) return {};
  const size_t end = closing(text);
  if (end == std::string_view::npos)
    return {valid_prefix(text) ? JsonState::Partial : JsonState::Invalid, 0};
  if (!nlohmann::json::accept(text.substr(0, end))) return {};
  return {JsonState::Complete, end};
}

}  // namespace lmgen::reply
