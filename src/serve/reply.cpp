// OpenAI response shapes (reply.hpp):
//   completions: {"id", "object": "text_completion", "created", "model", "choices": [{"index", "text",
//                 "logprobs": null | {"tokens", "token_logprobs", "top_logprobs", "text_offset"}, "finish_reason"}],
//                 "usage": {"prompt_tokens", "completion_tokens", "total_tokens"}}
//   chat:        {"id", "object": "chat.completion", ..., "choices": [{"index", "message": {"role", "content"},
//                 "logprobs": null | {"content": [{"token", "logprob", "bytes", "top_logprobs"}]}, "finish_reason"}],
//                 "usage"}
//                the message also has "reasoning_content" (the thinking, when read apart) and "tool_calls":
//                [{"id", "type": "function", "function": {"name", "arguments": JSON text}}] (content then null when
//                empty; finish_reason "tool_calls")
//   streaming:   "text_completion" / "chat.completion.chunk" objects, chat deltas {"role"} then {"content"} /
//                {"reasoning_content"} / {"tool_calls": [{"index", "id", "type", "function": {"name",
//                "arguments": ""}}]} followed by {"tool_calls": [{"index", "function": {"arguments"}}]} per call.
#include "serve/reply.hpp"

#include <ctime>

#include "reply/message.hpp"
#include "reply/token_text.hpp"

namespace lmgen::serve {

namespace {

Json byte_list(const std::string& s) {
  Json b = Json::array();
  for (unsigned char c : s) b.push_back(static_cast<int>(c));
  return b;
}

// OpenAI's finish_reason: "stop" at an end-of-generation token or a stop string ("tool_calls" when the reply ends
// with calls), else "length" (max_tokens, the context, the request's time; a cancelled request is cut short).
const char* finish_text(StopReason r, bool calls) {
  if (r != StopReason::Eos && r != StopReason::Stop) return "length";
  return calls ? "tool_calls" : "stop";
}

reply::ParseOptions parse_options(const Request& req, const std::string& id) {
  reply::ParseOptions o = req.reply_options;
  o.id_seed = id;
  return o;
}

}  // namespace

std::string dump(const Json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

std::string sse(const Json& j) { return "data: " + dump(j) + "\n\n"; }

Reply::Reply(const Request& req, const Tokenizer& tok, std::string id, std::string model)
    : req_(req), tok_(tok), id_(std::move(id)), model_(std::move(model)),
      created_(static_cast<int64_t>(std::time(nullptr))) {
  if (req_.chat) parser_.emplace(req_.reply_format, parse_options(req_, id_));
}

Json Reply::chat_choice(Json delta, Json logprobs) const {
  return Json{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", std::move(logprobs)}, {"finish_reason", nullptr}};
}

std::string Reply::delta_events(const reply::ReplyDelta& d, Json logprobs) {
  std::string out;
  auto send = [&](Json delta) {
    Json c = chunk_base();
    c["choices"] = Json::array({chat_choice(std::move(delta), logprobs)});
    logprobs = nullptr;
    out += sse(c);
  };
  if (!d.reasoning.empty()) send(Json{{"reasoning_content", d.reasoning}});
  if (!d.content.empty()) send(Json{{"content", d.content}});
  for (size_t i = d.first_call; i < d.first_call + d.n_calls; ++i) {
    const reply::ToolCall& call = parser_->reply().calls[i];
    Json head = reply::tool_call_json(call);
    head["index"] = i;
    head["function"]["arguments"] = "";
    send(Json{{"tool_calls", Json::array({head})}});
    send(Json{{"tool_calls", Json::array({Json{{"index", i}, {"function", {{"arguments", call.arguments}}}}})}});
  }
  if (out.empty() && !logprobs.is_null()) send(Json{{"content", ""}});
  return out;
}

std::string Reply::parser_text(const TokenEvent& ev) const {
  return reply::parser_text(req_.reply_format, req_.reply_options.tools, tok_, ev);
}

Json Reply::chunk_base() const {
  return Json{{"id", id_},
              {"object", req_.chat ? "chat.completion.chunk" : "text_completion"},
              {"created", created_},
              {"model", model_}};
}

// OpenAI's usage, with prompt_tokens_details.cached_tokens: the prompt tokens found in the slot's cache.
Json Reply::usage(const JobResult& r) const {
  const auto n_prompt = static_cast<int64_t>(req_.job.prompt.size());
  return Json{{"prompt_tokens", n_prompt},
              {"completion_tokens", r.n_generated},
              {"total_tokens", n_prompt + r.n_generated},
              {"prompt_tokens_details", {{"cached_tokens", r.n_reused}}}};
}

Json Reply::chat_logprob(const TokenEvent& ev) const {
  const std::string piece = tok_.token_to_piece(ev.id);
  Json top = Json::array();
  for (const TopToken& t : ev.top) {
    const std::string p = tok_.token_to_piece(t.id);
    top.push_back(Json{{"token", p}, {"logprob", t.logprob}, {"bytes", byte_list(p)}});
  }
  return Json{{"token", piece}, {"logprob", ev.logprob}, {"bytes", byte_list(piece)}, {"top_logprobs", top}};
}

Json Reply::empty_legacy_logprobs() {
  return Json{{"tokens", Json::array()}, {"token_logprobs", Json::array()}, {"top_logprobs", Json::array()},
              {"text_offset", Json::array()}};
}

void Reply::add_legacy_logprob(Json& lp, const TokenEvent& ev, size_t& offset) const {
  const std::string piece = ev.kind == TokenEvent::Prompt ? ev.piece : tok_.token_to_piece(ev.id);
  lp["tokens"].push_back(piece);
  lp["text_offset"].push_back(offset);
  offset += ev.kind == TokenEvent::Prompt ? piece.size() : ev.text.size();
  if (!ev.has_logprob) {
    lp["token_logprobs"].push_back(nullptr);
    lp["top_logprobs"].push_back(nullptr);
    return;
  }
  lp["token_logprobs"].push_back(ev.logprob);
  Json top = Json::object();
  for (const TopToken& t : ev.top) {
    const std::string p = tok_.token_to_piece(t.id);
    if (!top.contains(p)) top[p] = t.logprob;  // two ids with one piece: the likelier one (listed first)
  }
  lp["top_logprobs"].push_back(top);
}

std::string Reply::stream_events(const std::vector<TokenEvent>& evs) {
  const bool want_lp = req_.job.gen.logprobs;
  std::string out;
  if (req_.chat && !role_sent_) {
    Json c = chunk_base();
    c["choices"] = Json::array({Json{{"index", 0}, {"delta", {{"role", "assistant"}, {"content", ""}}},
                                     {"logprobs", nullptr}, {"finish_reason", nullptr}}});
    out += sse(c);
    role_sent_ = true;
  }
  if (!req_.chat && req_.echo && !req_.job.gen.logprobs && !echo_sent_) {  // echo without log-probs: the prompt first
    Json c = chunk_base();
    c["choices"] = Json::array({Json{{"index", 0}, {"text", req_.echo_text}, {"logprobs", nullptr},
                                     {"finish_reason", nullptr}}});
    out += sse(c);
    text_offset_ += req_.echo_text.size();
    echo_sent_ = true;
  }
  for (const TokenEvent& ev : evs) {
    if (ev.kind == TokenEvent::Prompt && !req_.echo) continue;
    std::string text = ev.text;
    if (ev.kind == TokenEvent::Prompt && !want_lp) continue;  // echo text without log-probs goes in one piece below
    const bool lp = want_lp && ev.kind != TokenEvent::Tail;
    if (req_.chat) {
      out += delta_events(parser_->feed(parser_text(ev)), lp ? Json{{"content", Json::array({chat_logprob(ev)})}} : Json(nullptr));
      continue;
    }
    if (text.empty() && !lp) continue;
    Json choice{{"index", 0}, {"text", text}};
    Json l = empty_legacy_logprobs();
    if (lp) add_legacy_logprob(l, ev, text_offset_);
    else text_offset_ += text.size();
    choice["logprobs"] = lp ? l : Json(nullptr);
    choice["finish_reason"] = nullptr;
    Json c = chunk_base();
    c["choices"] = Json::array({choice});
    out += sse(c);
  }
  return out;
}

std::string Reply::stream_end(const JobResult& r) {
  std::string out = req_.chat ? delta_events(parser_->finish(), nullptr) : std::string();
  Json c = chunk_base();
  Json choice{{"index", 0}};
  if (req_.chat) choice["delta"] = Json::object();
  else choice["text"] = "";
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = finish_text(r.finish, req_.chat && !parser_->reply().calls.empty());
  c["choices"] = Json::array({choice});
  out += sse(c);
  if (req_.include_usage) {
    Json u = chunk_base();
    u["choices"] = Json::array();
    u["usage"] = usage(r);
    out += sse(u);
  }
  return out + "data: [DONE]\n\n";
}

std::string Reply::full(const std::vector<TokenEvent>& evs, const JobResult& res) {
  std::string text = req_.echo ? req_.echo_text : std::string();
  std::string reply_text;  // chat: what the reply parser reads
  Json legacy = empty_legacy_logprobs();
  Json content = Json::array();
  size_t offset = 0;
  for (const TokenEvent& ev : evs) {
    if (ev.kind == TokenEvent::Prompt) {
      if (!req_.echo) continue;
      add_legacy_logprob(legacy, ev, offset);
      continue;
    }
    text += ev.text;
    if (req_.chat) reply_text += parser_text(ev);
    if (ev.kind == TokenEvent::Tail || !req_.job.gen.logprobs) continue;
    if (req_.chat) content.push_back(chat_logprob(ev));
    else add_legacy_logprob(legacy, ev, offset);
  }
  Json choice{{"index", 0}};
  bool calls = false;
  if (req_.chat) {
    const reply::ParsedReply r = reply::parse_reply(req_.reply_format, parse_options(req_, id_), reply_text);
    Json message = reply::message_json(r);
    calls = !r.calls.empty();
    choice["message"] = std::move(message);
  } else {
    choice["text"] = text;
  }
  if (!req_.job.gen.logprobs) choice["logprobs"] = nullptr;
  else choice["logprobs"] = req_.chat ? Json{{"content", content}} : legacy;
  choice["finish_reason"] = finish_text(res.finish, calls);
  Json r{{"id", id_},
         {"object", req_.chat ? "chat.completion" : "text_completion"},
         {"created", created_},
         {"model", model_},
         {"choices", Json::array({choice})},
         {"usage", usage(res)}};
  return dump(r);
}

}  // namespace lmgen::serve
