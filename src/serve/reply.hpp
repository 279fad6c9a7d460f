// Reply — the response bodies of one completion or chat-completion request, in OpenAI's shapes: the whole JSON
// object at the end, or server-sent events ("data: {chunk}\n\n" ... "data: [DONE]\n\n") as tokens arrive.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "serve/api.hpp"

namespace lmgen::serve {

class Reply {
 public:
  Reply(const Request& req, const Tokenizer& tok, std::string id, std::string model);

  // Streaming: the events for tokens that just arrived ("" when they carry nothing to send).
  std::string stream_events(const std::vector<TokenEvent>& evs);
  // Streaming: the final chunk with finish_reason, the usage chunk when asked for, and [DONE].
  std::string stream_end(const JobResult& r);
  // Not streaming: the whole response object, from every event of the job.
  std::string full(const std::vector<TokenEvent>& evs, const JobResult& r);

 private:
  Json chunk_base() const;
  Json usage(const JobResult& r) const;
  // Log-prob records: chat {"token", "logprob", "bytes", "top_logprobs"}; completions add to the legacy arrays.
  Json chat_logprob(const TokenEvent& ev) const;
  void add_legacy_logprob(Json& lp, const TokenEvent& ev, size_t& offset) const;
  static Json empty_legacy_logprobs();
  // Chat: the chunks of what the reply parser released (reasoning, content, tool calls), the first one carrying
  // `logprobs` when given.
  std::string delta_events(const reply::ReplyDelta& d, Json logprobs);
  Json chat_choice(Json delta, Json logprobs) const;
  // The text the reply parser reads for an event (reply/token_text.hpp).
  std::string parser_text(const TokenEvent& ev) const;

  const Request& req_;
  const Tokenizer& tok_;
  std::string id_, model_;
  int64_t created_;
  bool role_sent_ = false;
  bool echo_sent_ = false;
  size_t text_offset_ = 0;  // completions: where the next token's text starts in the returned text
  std::optional<reply::ReplyParser> parser_;  // chat: streaming
};

// "data: <json>\n\n"
std::string sse(const Json& j);
// JSON text with invalid UTF-8 replaced by U+FFFD (a token's piece may be part of a character).
std::string dump(const Json& j);

}  // namespace lmgen::serve
