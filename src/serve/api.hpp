// The OpenAI request bodies the server understands, read into a JobParams and a few response flags. Every field
// is type-checked: a wrong type or value is an ApiError (HTTP 400) naming the field. docs/server.md lists the
// fields supported and those accepted and ignored.
#pragma once

#include <map>
#include <mutex>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "chat/template.hpp"
#include "lmgen/tokenizer.hpp"
#include "reply/parser.hpp"
#include "serve/job.hpp"

namespace lmgen::serve {

using Json = nlohmann::ordered_json;

// An error answered in OpenAI's shape: {"error": {"message", "type", "code"}} with HTTP status `status`.
struct ApiError : std::runtime_error {
  ApiError(int status, const std::string& message) : std::runtime_error(message), status(status) {}
  int status;
};
// The body of an error response.
Json error_body(int status, const std::string& message);

// What the request parser needs to know about the model and the server's settings.
struct ApiContext {
  const Tokenizer* tok = nullptr;
  const chat::ChatTemplate* tmpl = nullptr;  // null: the model has none (chat completions answer 400)
  std::mutex* render_mu = nullptr;           // one render at a time
  std::map<std::string, std::string> special_tokens;
  Json chat_kwargs = Json::object();         // --chat-template-kwargs (a request's chat_template_kwargs override)
  reply::ReplyFormat reply_format;           // how the template's model writes calls and thinking
  reply::ReasoningFormat reasoning_format = reply::ReasoningFormat::Auto;  // --reasoning-format
  std::vector<int32_t> eog_ids;
  std::shared_ptr<const TokenIndex> vocab;   // the vocabulary trie for grammar-constrained requests
  SamplingOptions sampling;                  // the server's defaults, which a request overrides field by field
  int64_t n_ctx = 0;
  int32_t max_tokens_limit = 0;              // a request may ask for at most this many tokens
  int32_t max_top_logprobs = 20;
};

struct Request {
  bool chat = false;
  JobParams job;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool echo = false;           // completions: the prompt is part of the returned text (and of the logprobs)
  std::string echo_text;       // the prompt text to echo
  reply::ReplyFormat reply_format;   // chat: how the reply is split into reasoning, content and tool calls
  reply::ParseOptions reply_options;
};

// POST /v1/completions and POST /v1/chat/completions bodies. Throws ApiError.
Request parse_completion(const Json& body, const ApiContext& ctx);
Request parse_chat(const Json& body, const ApiContext& ctx);

// A JSON body (ApiError 400 when it is not JSON or not an object).
Json parse_body(const std::string& body);

}  // namespace lmgen::serve
