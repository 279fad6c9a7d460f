// ReplyParser (parser.hpp). The reply is read in three modes: Start (the reply may open a thinking block),
// Reasoning (inside it, until its close marker) and Content (the answer, where calls may begin). Each step
// releases what can no longer change and keeps the rest in `pending_`: the possible start of a marker, the
// whitespace before a possible block, or a call whose JSON is still open.
#include "reply/parser.hpp"

#include <algorithm>

#include "reply/json_span.hpp"

namespace lmgen::reply {

namespace {

bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

size_t skip_ws(std::string_view s, size_t i) {
  while (i < s.size() && is_ws(s[i])) ++i;
  return i;
}

// Where the whitespace that ends s[0, end) starts.
size_t trailing_ws(std::string_view s, size_t end) {
  while (end > 0 && is_ws(s[end - 1])) --end;
  return end;
}

// The length of the longest suffix of s that is a proper, non-empty prefix of marker.
size_t partial_suffix(std::string_view s, std::string_view marker) {
  for (size_t k = std::min(s.size(), marker.size() - 1); k > 0; --k)
    if (s.substr(s.size() - k) == marker.substr(0, k)) return k;
  return 0;
}

}  // namespace

ReplyParser::ReplyParser(ReplyFormat format, ParseOptions options)
    : format_(std::move(format)), opt_(std::move(options)) {
  if (!format_.reasoning || !opt_.reasoning || opt_.start == ReasoningStart::Closed) mode_ = Mode::Content;
  else if (opt_.start == ReasoningStart::Open) mode_ = Mode::Reasoning;
  call_position_ = std::any_of(format_.calls.begin(), format_.calls.end(),
                               [](const CallSyntax& s) { return s.bare_at_start; });
}

ReplyDelta ReplyParser::feed(std::string_view piece) {
  pending_.append(piece);
  return run(false);
}

ReplyDelta ReplyParser::finish() { return run(true); }

ReplyDelta ReplyParser::run(bool final) {
  ReplyDelta d;
  d.first_call = out_.calls.size();
  for (bool more = true; more;) {
    switch (mode_) {
      case Mode::Start: more = step_start(final); break;
      case Mode::Reasoning: more = step_reasoning(final, d); break;
      case Mode::Content: more = step_content(final, d); break;
    }
  }
  d.n_calls = out_.calls.size() - d.first_call;
  return d;
}

bool ReplyParser::step_start(bool final) {
  const std::string& open = format_.reasoning->open;
  const size_t i = skip_ws(pending_, 0);
  const std::string_view rest = std::string_view(pending_).substr(i);
  if (rest.starts_with(open)) {
    pending_.erase(0, i + open.size());
    mode_ = Mode::Reasoning;
    return true;
  }
  if (!final && std::string_view(open).starts_with(rest)) return false;  // not decided yet
  mode_ = Mode::Content;
  return true;
}

bool ReplyParser::step_reasoning(bool final, ReplyDelta& d) {
  const std::string& close = format_.reasoning->close;
  const size_t pos = pending_.find(close);
  if (pos != std::string::npos) {
    emit_reasoning(std::string_view(pending_).substr(0, trailing_ws(pending_, pos)), d);
    pending_.erase(0, pos + close.size());
    mode_ = Mode::Content;
    skip_ws_ = true;
    return true;
  }
  // Keep a possible start of the close marker, and the whitespace before it (dropped if the block closes there).
  const size_t n = trailing_ws(pending_, pending_.size() - (final ? 0 : partial_suffix(pending_, close)));
  emit_reasoning(std::string_view(pending_).substr(0, n), d);
  pending_.erase(0, n);
  if (final) pending_.clear();  // the whitespace that ends an unclosed thinking block
  return false;
}

bool ReplyParser::step_content(bool final, ReplyDelta& d) {
  if (!opt_.tools) {
    release_content(pending_.size(), final, d);
    return false;
  }
  if (call_position_) {  // a bare call may start here, after whitespace (and a separator, after a call)
    std::string skip = " \n\t\r";
    if (after_call_)
      for (const CallSyntax& s : format_.calls) skip += s.separator;
    const size_t i = std::min(pending_.find_first_not_of(skip), pending_.size());
    if (i == pending_.size()) {
      if (final) release_content(pending_.size(), final, d);
      return false;
    }
    const std::string_view rest = std::string_view(pending_).substr(i);
    const bool opener = std::any_of(format_.calls.begin(), format_.calls.end(), [&](const CallSyntax& s) {
      return !s.open.empty() && (rest.starts_with(s.open) || (!final && std::string_view(s.open).starts_with(rest)));
    });
    if (!opener) {
      for (const CallSyntax& s : format_.calls)
        if (s.bare_at_start && (rest[0] == '{' || (s.array && rest[0] == '[')))
          return step_call(Where{i, 0, true}, s, final, d);
      call_position_ = after_call_ = false;
    }
  }
  size_t best = std::string::npos, hold = 0;
  const CallSyntax* which = nullptr;
  for (const CallSyntax& s : format_.calls) {
    if (s.open.empty()) continue;
    const size_t p = pending_.find(s.open);
    if (p < best) best = p, which = &s;
    hold = std::max(hold, partial_suffix(pending_, s.open));
  }
  if (which != nullptr) return step_call(Where{best, trailing_ws(pending_, best), false}, *which, final, d);
  release_content(pending_.size() - (final ? 0 : hold), final, d);
  return false;
}

// A call may start at pending_[where.at] (its opener, or its JSON for a bare call); the text before
// where.text_end is content, the rest before the call (whitespace, separators) goes with it.
bool ReplyParser::step_call(Where where, const CallSyntax& syntax, bool final, ReplyDelta& d) {
  emit_content(std::string_view(pending_).substr(0, where.text_end), d);
  pending_.erase(0, where.text_end);
  const size_t at = where.at - where.text_end;
  const size_t open_len = where.bare ? 0 : syntax.open.size();
  Attempt a = try_call(syntax, at + open_len, final);
  if (a.state == CallState::Partial) return false;
  if (a.state == CallState::Complete && out_.calls.size() + a.calls.size() <= opt_.max_calls) {
    for (ToolCall& c : a.calls) {
      c.id = call_id(opt_.id_seed, out_.calls.size());
      out_.calls.push_back(std::move(c));
    }
    pending_.erase(0, a.consumed);
    call_position_ = after_call_ = skip_ws_ = true;
    return true;
  }
  // Not a call: up to its first character (or its opener) is content, and the search goes on after it.
  emit_content(std::string_view(pending_).substr(0, at + std::max<size_t>(1, open_len)), d);
  pending_.erase(0, at + std::max<size_t>(1, open_len));
  call_position_ = after_call_ = false;
  return true;
}

// The call whose JSON is expected at pending_[body] (after whitespace).
ReplyParser::Attempt ReplyParser::try_call(const CallSyntax& syntax, size_t body, bool final) const {
  const std::string_view text = pending_;
  const Attempt partial{final ? CallState::Invalid : CallState::Partial, 0, {}};
  const size_t i = skip_ws(text, body);
  if (i == text.size()) return partial;
  const JsonSpan js = scan_json(text.substr(i));
  if (js.state == JsonState::Partial) return partial;
  if (js.state == JsonState::Invalid) return {};
  std::optional<std::vector<ToolCall>> calls =
      read_calls(nlohmann::json::parse(text.substr(i, js.end)), syntax.array, opt_.tool_names);
  if (!calls) return {};
  const size_t j = i + js.end;
  Attempt done{CallState::Complete, j, std::move(*calls)};
  if (syntax.close.empty()) return done;
  const size_t k = skip_ws(text, j);
  if (text.substr(k).starts_with(syntax.close)) {
    done.consumed = k + syntax.close.size();
    return done;
  }
  if (k == text.size()) return final ? done : partial;  // the reply may end without the close marker
  if (!final && std::string_view(syntax.close).starts_with(text.substr(k))) return partial;
  return {};
}

void ReplyParser::emit_reasoning(std::string_view text, ReplyDelta& d) {
  if (reasoning_ws_) text.remove_prefix(skip_ws(text, 0));
  if (text.empty()) return;
  reasoning_ws_ = false;
  d.reasoning.append(text);
  out_.reasoning.append(text);
}

// Whitespace right after a block is dropped at the reply's start and end; between two stretches of text, kept.
void ReplyParser::emit_content(std::string_view text, ReplyDelta& d, bool at_end) {
  if (skip_ws_) {
    const size_t i = skip_ws(text, 0);
    if (out_.content.empty() || (at_end && i == text.size())) text.remove_prefix(i);
  }
  if (text.empty()) return;
  skip_ws_ = false;
  d.content.append(text);
  out_.content.append(text);
}

// Releases pending_[0, n) as content; with tools, whitespace at its end waits (a call may follow it).
void ReplyParser::release_content(size_t n, bool final, ReplyDelta& d) {
  const size_t end = opt_.tools && !final ? trailing_ws(pending_, n) : n;
  emit_content(std::string_view(pending_).substr(0, end), d, final && end == pending_.size());
  pending_.erase(0, end);
}

ParsedReply parse_reply(const ReplyFormat& format, const ParseOptions& options, std::string_view text) {
  ReplyParser p(format, options);
  p.feed(text);
  p.finish();
  return p.reply();
}

}  // namespace lmgen::reply
