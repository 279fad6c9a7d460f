// ReplyFormat — how a model family writes tool calls and thinking in its reply, as its chat template tells it to:
// the texts around a call, where the call's JSON sits and which key holds the arguments, and the reasoning
// markers. The format is read from the template's source (detect_format), and where the reply starts relative to
// the thinking markers from the rendered prompt (reasoning_start). The parser (reply/parser.hpp) reads replies by
// it; the same description is what a grammar for a required call is built from: `open`, then one JSON object
// {"name": <one of the tools>, <args_key>: <the tool's parameter schema>} (or an array of them when `array`),
// then `close`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lmgen::reply {

enum class Family {
  Generic,   // no call syntax of its own: a reply that is only a JSON call object (or {"tool_calls": [...]})
  Hermes,    // <tool_call>{"name": ..., "arguments": {...}}</tool_call>: Qwen2.5, Qwen3, SmolLM3, Hermes 2/3
  Llama3,    // {"name": ..., "parameters": {...}}, optionally after <|python_tag|>: Llama 3.1 / 3.2 / 3.3
  Mistral,   // [TOOL_CALLS][{"name": ..., "arguments": {...}}, ...]: Mistral, Mistral Nemo
  Phi4Mini,  // <|tool_call|>[{"name": ..., "arguments": {...}}]<|/tool_call|>: Phi-4-mini
};
const char* family_name(Family f);

// One way the family writes calls.
struct CallSyntax {
  std::string open;             // the text before the call's JSON ("" for none)
  std::string close;            // the text after it ("" for none)
  bool array = false;           // the JSON is an array of call objects rather than one object
  std::string args_key;         // the key the family writes the arguments under ("arguments" or "parameters")
  // The JSON alone also counts as a call where the reply starts (or the previous call ended): the family has no
  // opener, or its opener is a special token the detokenizer drops from the text.
  bool bare_at_start = false;
  std::string separator;        // between consecutive calls besides whitespace (Llama 3: ";")
};

struct ReasoningSyntax {
  std::string open = "<think>";
  std::string close = "</think>";
};

struct ReplyFormat {
  Family family = Family::Generic;
  std::vector<CallSyntax> calls;            // every form the family's calls take; the first is the canonical one
  std::optional<ReasoningSyntax> reasoning; // the template thinks
};

// The format a chat template's source asks its model to reply in (Generic when it names none).
ReplyFormat detect_format(std::string_view template_source);

// Whether `text` is one of the format's call openers or closers. A model may write one as a special token, whose
// text the detokenizer drops: front ends hand the parser the marker's text for it (the parser never releases a
// marker as content unless the call it opens is broken).
bool is_call_marker(const ReplyFormat& format, std::string_view text);

// Where the reply starts relative to the thinking markers, from the rendered prompt's end: Open when the prompt
// opened a thinking block the reply continues (DeepSeek-R1 distills), Closed when it wrote an empty, closed one
// (Qwen3 and SmolLM3 with thinking off: the reply is the answer), MayOpen otherwise (the reply may start with one).
enum class ReasoningStart { MayOpen, Open, Closed };
ReasoningStart reasoning_start(const ReplyFormat& format, std::string_view prompt);

// What becomes of the thinking, by llama.cpp's --reasoning-format names: `none` leaves it in the content as the
// model wrote it; `deepseek` returns it apart (OpenAI-style `reasoning_content`); `auto` (the default) is
// `deepseek` for every family lmgen reads.
enum class ReasoningFormat { Auto, DeepSeek, None };
// Throws UsageError for any other name.
ReasoningFormat reasoning_format_from(std::string_view name);

}  // namespace lmgen::reply
