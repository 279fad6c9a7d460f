// ReplyParser — splits a model's reply, as it streams in, into reasoning (the thinking block), content (the
// answer) and tool calls, by the family's ReplyFormat. Feed it the reply's text piece by piece; each feed returns
// what became certain: reasoning and content text, and the calls completed. Text that might still be the start of
// a marker or of a call is held back until it is decided. A call is released whole, when its JSON has closed and
// read as a call to one of the tools; anything that only looks like a call (broken JSON, an unknown function, a
// call cut off by the end of the reply) is released as content, verbatim: the parser never throws on the reply's
// text and never drops any of it except the whitespace around blocks and the markers themselves.
// Parsing the whole text at once (parse_reply) gives what the pieces add up to, wherever the text is split.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "reply/calls.hpp"
#include "reply/format.hpp"

namespace lmgen::reply {

struct ParseOptions {
  bool tools = false;                     // read tool calls (the request has tools and tool_choice is not "none")
  std::vector<std::string> tool_names;    // calls to other names stay content (empty: any name)
  size_t max_calls = std::numeric_limits<size_t>::max();  // parallel_tool_calls false: 1; later calls stay content
  bool reasoning = true;                  // read the thinking block (false: --reasoning-format none)
  ReasoningStart start = ReasoningStart::MayOpen;
  std::string id_seed;                    // call ids are a function of this and the call's index
};

struct ParsedReply {
  std::string reasoning;
  std::string content;
  std::vector<ToolCall> calls;
};

struct ReplyDelta {
  std::string reasoning;
  std::string content;
  size_t first_call = 0;  // calls[first_call, first_call + n_calls) of the reply are new
  size_t n_calls = 0;
  bool empty() const { return reasoning.empty() && content.empty() && n_calls == 0; }
};

class ReplyParser {
 public:
  ReplyParser(ReplyFormat format, ParseOptions options);

  // The next piece of the reply (any bytes; a piece may end inside a marker, a call or a UTF-8 sequence).
  ReplyDelta feed(std::string_view piece);
  // The reply has ended: releases whatever was held back.
  ReplyDelta finish();
  // Everything released so far.
  const ParsedReply& reply() const { return out_; }

 private:
  enum class Mode { Start, Reasoning, Content };
  enum class CallState { Complete, Partial, Invalid };
  struct Attempt {
    CallState state = CallState::Invalid;
    size_t consumed = 0;
    std::vector<ToolCall> calls;
  };

  ReplyDelta run(bool final);
  bool step_start(bool final);
  bool step_reasoning(bool final, ReplyDelta& d);
  bool step_content(bool final, ReplyDelta& d);
  struct Where {
    size_t at = 0;        // where the call (its opener, or its JSON when bare) starts in pending_
    size_t text_end = 0;  // pending_[0, text_end) is content before it
    bool bare = false;    // the call has no opener
  };
  bool step_call(Where where, const CallSyntax& syntax, bool final, ReplyDelta& d);
  Attempt try_call(const CallSyntax& syntax, size_t body, bool final) const;
  void emit_reasoning(std::string_view text, ReplyDelta& d);
  void emit_content(std::string_view text, ReplyDelta& d, bool at_end = false);
  void release_content(size_t n, bool final, ReplyDelta& d);

  ReplyFormat format_;
  ParseOptions opt_;
  Mode mode_ = Mode::Start;
  std::string pending_;         // text not yet released
  bool skip_ws_ = false;        // drop the whitespace that follows a block
  bool reasoning_ws_ = true;    // drop the whitespace that opens the thinking
  bool call_position_ = true;   // at the reply's start or right after a call: a bare call may begin here
  bool after_call_ = false;     // ... right after a call: a separator may come first
  ParsedReply out_;
};

// The whole reply at once.
ParsedReply parse_reply(const ReplyFormat& format, const ParseOptions& options, std::string_view text);

}  // namespace lmgen::reply
