// Reading OpenAI completion and chat-completion requests (api.hpp).
#include "serve/api.hpp"

#include <cmath>
#include <limits>

#include "chat/conversation.hpp"
#include "lmgen/error.hpp"
#include "serve/chat_tools.hpp"

namespace lmgen::serve {

namespace {

[[noreturn]] void bad(const std::string& msg) { throw ApiError(400, msg); }

bool present(const Json& b, const char* key) { return b.contains(key) && !b[key].is_null(); }

int64_t get_int(const Json& b, const char* key, int64_t lo, int64_t hi) {
  const Json& v = b[key];
  if (!v.is_number_integer() && !(v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()))
    bad(std::string("'") + key + "' must be an integer, got " + v.dump());
  const double d = v.get<double>();
  if (d < static_cast<double>(lo) || d > static_cast<double>(hi))
    bad(std::string("'") + key + "' must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " +
        v.dump());
  return v.is_number_float() ? static_cast<int64_t>(d) : v.get<int64_t>();
}

float get_float(const Json& b, const char* key, double lo, double hi) {
  const Json& v = b[key];
  if (!v.is_number()) bad(std::string("'") + key + "' must be a number, got " + v.dump());
  const double d = v.get<double>();
  if (!(d >= lo && d <= hi))
    bad(std::string("'") + key + "' must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return static_cast<float>(d);
}

bool get_bool(const Json& b, const char* key) {
  if (!b[key].is_boolean()) bad(std::string("'") + key + "' must be true or false, got " + b[key].dump());
  return b[key].get<bool>();
}

// The constraint of a request: llama.cpp's "grammar" (GBNF) or "json_schema", or OpenAI's response_format
// ({"type": "json_object"} or {"type": "json_schema", "json_schema": {"schema": ..., "strict": ...}}). At most one.
void grammar_fields(const Json& b, const ApiContext& ctx, SamplingOptions& s) {
  std::string gbnf;
  int given = 0;
  try {
    if (present(b, "grammar")) {
      if (!b["grammar"].is_string()) bad("'grammar' must be GBNF text (a string)");
      gbnf = b["grammar"].get<std::string>();
      ++given;
    }
    if (present(b, "json_schema")) {
      if (!b["json_schema"].is_object() && !b["json_schema"].is_boolean()) bad("'json_schema' must be a JSON schema");
      gbnf = json_schema_to_gbnf(b["json_schema"].dump());
      ++given;
    }
    if (present(b, "response_format")) {
      const Json& f = b["response_format"];
      if (!f.is_object() || !f.contains("type") || !f["type"].is_string())
        bad("'response_format' must be an object with a string 'type'");
      const std::string type = f["type"].get<std::string>();
      if (type == "json_object") {
        // llama.cpp also takes a schema here: {"type": "json_object", "schema": {...}}.
        gbnf = f.contains("schema") ? json_schema_to_gbnf(f["schema"].dump()) : json_object_gbnf();
        ++given;
      } else if (type == "json_schema") {
        const Json* js = f.contains("json_schema") ? &f["json_schema"] : nullptr;
        if (!js || !js->is_object() || !js->contains("schema"))
          bad("'response_format' of type json_schema needs 'json_schema': {'schema': ...}");
        if (js->contains("strict") && !(*js)["strict"].is_boolean()) bad("'response_format.json_schema.strict' must be a boolean");
        gbnf = json_schema_to_gbnf((*js)["schema"].dump());
        ++given;
      } else if (type != "text") {
        bad("'response_format' type must be text, json_object or json_schema, got '" + type + "'");
      }
    }
    if (given > 1) bad("give one of 'grammar', 'json_schema' and 'response_format'");
    if (given == 1 && !ctx.vocab) bad("this server cannot constrain output (no vocabulary index)");
    if (given == 1) s.grammar = GrammarConstraint{compile_gbnf(gbnf), ctx.vocab, ""};
  } catch (const ApiError&) {
    throw;
  } catch (const Error& e) {
    bad(e.what());
  }
}

// The fields both endpoints share: sampling, stop, stream, n, max_tokens.
void common_fields(const Json& b, const ApiContext& ctx, Request& r, const char* max_key) {
  SamplingOptions& s = r.job.gen.sampling;
  s = ctx.sampling;
  if (present(b, "model") && !b["model"].is_string()) bad("'model' must be a string");
  if (present(b, "temperature")) s.temperature = get_float(b, "temperature", 0.0, 100.0);
  if (present(b, "top_p")) s.top_p = get_float(b, "top_p", 0.0, 1.0);
  if (present(b, "top_k")) s.top_k = static_cast<int32_t>(get_int(b, "top_k", 0, std::numeric_limits<int32_t>::max()));
  if (present(b, "min_p")) s.min_p = get_float(b, "min_p", 0.0, 1.0);
  if (present(b, "seed")) s.seed = static_cast<uint64_t>(get_int(b, "seed", std::numeric_limits<int64_t>::min(),
                                                                 std::numeric_limits<int64_t>::max()));
  if (present(b, "frequency_penalty")) s.frequency_penalty = get_float(b, "frequency_penalty", -2.0, 2.0);
  if (present(b, "presence_penalty")) s.presence_penalty = get_float(b, "presence_penalty", -2.0, 2.0);
  if (present(b, "repeat_penalty")) s.repeat_penalty = get_float(b, "repeat_penalty", 0.0, 100.0);
  if (present(b, "logit_bias")) {
    if (!b["logit_bias"].is_object()) bad("'logit_bias' must be an object of token id -> bias");
    for (const auto& [k, v] : b["logit_bias"].items()) {
      char* end = nullptr;
      const long id = std::strtol(k.c_str(), &end, 10);
      if (k.empty() || *end != '\0' || id < 0 || id >= ctx.tok->n_vocab() || !v.is_number())
        bad("'logit_bias' keys must be token ids of the vocabulary and values numbers, got \"" + k + "\": " + v.dump());
      s.logit_bias.emplace_back(static_cast<int32_t>(id), v.get<float>());
    }
  }
  grammar_fields(b, ctx, s);
  try {
    validate_sampling_options(s);
  } catch (const UsageError& e) {
    bad(e.what());
  }
  if (present(b, "stop")) {
    const Json& v = b["stop"];
    if (v.is_string()) r.job.gen.stop.push_back(v.get<std::string>());
    else if (v.is_array())
      for (const Json& x : v) {
        if (!x.is_string()) bad("'stop' must be a string or an array of strings");
        r.job.gen.stop.push_back(x.get<std::string>());
      }
    else bad("'stop' must be a string or an array of strings");
  }
  if (present(b, "stream")) r.stream = get_bool(b, "stream");
  if (present(b, "stream_options")) {
    const Json& o = b["stream_options"];
    if (!o.is_object()) bad("'stream_options' must be an object");
    if (present(o, "include_usage")) r.include_usage = get_bool(o, "include_usage");
  }
  if (present(b, "n") && get_int(b, "n", 1, 1) != 1) bad("'n' must be 1");
  if (present(b, "ignore_eos")) r.job.gen.ignore_eos = get_bool(b, "ignore_eos");
  if (present(b, "cache_prompt")) r.job.cache_prompt = get_bool(b, "cache_prompt");
  const int32_t limit = ctx.max_tokens_limit;
  if (present(b, max_key)) r.job.gen.n_predict = static_cast<int32_t>(get_int(b, max_key, 0, limit));
  r.job.gen.eog_ids = ctx.eog_ids;
}

// The prompt must leave room to generate (or, for max_tokens 0, fit).
void check_prompt(const Request& r, const ApiContext& ctx) {
  const auto n = static_cast<int64_t>(r.job.prompt.size());
  if (n == 0) bad("the prompt is empty (and the model has no BOS token to start from)");
  if (n > ctx.n_ctx || (r.job.gen.n_predict > 0 && n >= ctx.n_ctx))
    bad("the prompt has " + std::to_string(n) + " tokens but the context holds " + std::to_string(ctx.n_ctx) +
        " (the server's -c)");
  for (int32_t id : r.job.prompt)
    if (id < 0 || id >= ctx.tok->n_vocab()) bad("token id " + std::to_string(id) + " is outside the vocabulary");
}

std::vector<int32_t> encode_prompt(const std::string& text, const Tokenizer& tok) {
  std::vector<int32_t> ids = tok.encode(text, EncodeOptions{.add_special = true, .parse_special = true});
  if (ids.empty() && tok.bos_id() >= 0) ids.push_back(tok.bos_id());
  return ids;
}

// Message content given as a list of parts ([{"type": "text", "text": ...}]) becomes their text joined.
Json normalized_messages(const Json& messages) {
  if (!messages.is_array() || messages.empty()) bad("'messages' must be a non-empty array of message objects");
  Json out = Json::array();
  for (const Json& m : messages) {
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
      bad("each message must be an object with a string 'role'");
    Json copy = m;
    if (m.contains("content") && m["content"].is_array()) {
      std::string text;
      for (const Json& part : m["content"]) {
        if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string())
          bad("only text content parts ({\"type\": \"text\", \"text\": ...}) are supported");
        text += part["text"].get<std::string>();
      }
      copy["content"] = text;
    } else if (m.contains("content") && !m["content"].is_string() && !m["content"].is_null()) {
      bad("a message's 'content' must be a string, null or an array of text parts");
    }
    out.push_back(std::move(copy));
  }
  return out;
}

}  // namespace

Json error_body(int status, const std::string& message) {
  const char* type = status == 401   ? "authentication_error"
                     : status == 404 ? "not_found_error"
                     : status == 503 ? "unavailable_error"
                     : status >= 500 ? "server_error"
                                     : "invalid_request_error";
  return Json{{"error", {{"message", message}, {"type", type}, {"code", status}}}};
}

Json parse_body(const std::string& body) {
  Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded()) bad("the request body is not valid JSON");
  if (!j.is_object()) bad("the request body must be a JSON object");
  return j;
}

Request parse_completion(const Json& b, const ApiContext& ctx) {
  Request r;
  r.job.gen.n_predict = std::min<int32_t>(16, ctx.max_tokens_limit);  // OpenAI's default for completions
  common_fields(b, ctx, r, "max_tokens");
  if (!b.contains("prompt")) bad("'prompt' is required");
  const Json& p = b["prompt"];
  auto token_list = [&](const Json& arr) {
    std::vector<int32_t> ids;
    for (const Json& t : arr) {
      if (!t.is_number_integer()) bad("'prompt' must be a string, an array of token ids or an array of one string");
      ids.push_back(static_cast<int32_t>(std::clamp<int64_t>(t.get<int64_t>(), -1, ctx.tok->n_vocab())));
    }
    return ids;
  };
  if (p.is_string()) {
    r.echo_text = p.get<std::string>();
    r.job.prompt = encode_prompt(r.echo_text, *ctx.tok);
  } else if (p.is_array() && p.size() == 1 && p[0].is_string()) {
    r.echo_text = p[0].get<std::string>();
    r.job.prompt = encode_prompt(r.echo_text, *ctx.tok);
  } else if (p.is_array() && p.size() == 1 && p[0].is_array()) {
    r.job.prompt = token_list(p[0]);
  } else if (p.is_array() && (p.empty() || !p[0].is_string())) {
    r.job.prompt = token_list(p);
  } else {
    bad("'prompt' must be a string, an array of token ids or an array of one string (batches of prompts: one request each)");
  }
  if (present(b, "echo")) r.echo = get_bool(b, "echo");
  if (present(b, "logprobs")) {
    r.job.gen.logprobs = true;
    r.job.gen.n_probs = static_cast<int32_t>(get_int(b, "logprobs", 0, ctx.max_top_logprobs));
  }
  r.job.prompt_logprobs = r.echo && r.job.gen.logprobs;
  if (present(b, "suffix")) bad("'suffix' is not supported");
  if (present(b, "best_of") && get_int(b, "best_of", 1, 1) != 1) bad("'best_of' must be 1");
  check_prompt(r, ctx);
  if (r.echo && r.echo_text.empty()) r.echo_text = ctx.tok->decode(r.job.prompt);
  return r;
}

Request parse_chat(const Json& b, const ApiContext& ctx) {
  Request r;
  r.chat = true;
  r.job.gen.n_predict = ctx.max_tokens_limit;
  common_fields(b, ctx, r, present(b, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens");
  if (!b.contains("messages")) bad("'messages' is required");
  if (present(b, "logprobs")) r.job.gen.logprobs = get_bool(b, "logprobs");
  if (present(b, "top_logprobs")) {
    if (!r.job.gen.logprobs) bad("'top_logprobs' needs 'logprobs': true");
    r.job.gen.n_probs = static_cast<int32_t>(get_int(b, "top_logprobs", 0, ctx.max_top_logprobs));
  }
  if (ctx.tmpl == nullptr) bad("the model has no chat template (start the server with --chat-template FILE)");
  chat::Conversation conv;
  conv.messages = normalized_messages(b["messages"]);
  prepare_tool_turns(conv.messages);
  const reply::ToolFields tool_fields = read_tool_fields(b, conv, r.reply_options);
  conv.kwargs = ctx.chat_kwargs;
  if (present(b, "chat_template_kwargs")) {
    if (!b["chat_template_kwargs"].is_object()) bad("'chat_template_kwargs' must be an object");
    for (const auto& [k, v] : b["chat_template_kwargs"].items()) conv.kwargs[k] = v;
  }
  std::string text;
  try {
    std::lock_guard<std::mutex> lock(*ctx.render_mu);
    text = chat::render_conversation(*ctx.tmpl, ctx.special_tokens, conv);
  } catch (const std::exception& e) {
    bad(std::string("the chat template failed on these messages: ") + e.what());
  }
  // As transformers' apply_chat_template(tokenize=True): the template writes the special tokens itself.
  r.job.prompt = ctx.tok->encode(text, EncodeOptions{.add_special = false, .parse_special = true});
  check_prompt(r, ctx);
  r.reply_format = ctx.reply_format;
  r.reply_options.reasoning = ctx.reasoning_format != reply::ReasoningFormat::None;
  r.reply_options.start = reply::reasoning_start(ctx.reply_format, text);
  constrain_call(tool_fields, ctx, r);
  return r;
}

}  // namespace lmgen::serve
