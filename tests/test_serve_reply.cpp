// serve/reply on scripted token streams at the engine boundary: the replies a random-weight fixture will not
// write (tool calls, thinking) handed to Reply as the engine hands them, piece by piece, then read back as a
// client reads them: the whole object, the stream's deltas added up (they must give the same message), and the
// real `openai` npm client over HTTP (its stream helper assembles the same tool calls).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "common.hpp"
#include "gguf_edit.hpp"
#include "lmgen/loader.hpp"
#include "serve/chat_tools.hpp"
#include "serve/reply.hpp"
#include "serve_client.hpp"

namespace lmgen::test {
namespace {

using nlohmann::json;

const Tokenizer& qwen_tokenizer() {
  static const LoadedModel lm = load_model(shared_path("fixtures/tiny-qwen2/model-q8_0.gguf"), LoadOptions{});
  return *lm.tokenizer;
}

serve::Request chat_request(const std::string& template_source, bool tools, const std::string& prompt_end = "") {
  serve::Request r;
  r.chat = true;
  r.job.prompt = {1, 2, 3};
  r.reply_format = reply::detect_format(template_source);
  r.reply_options.tools = tools;
  r.reply_options.tool_names = {"get_weather"};
  r.reply_options.start = reply::reasoning_start(r.reply_format, prompt_end);
  return r;
}

std::vector<TokenEvent> pieces(const std::string& text, size_t size) {
  std::vector<TokenEvent> evs;
  for (size_t i = 0; i < text.size(); i += size) {
    TokenEvent ev;
    ev.id = 0;
    ev.piece = ev.text = text.substr(i, size);
    evs.push_back(ev);
  }
  return evs;
}

// The stream's deltas added up as a client does: {"content", "reasoning_content", "tool_calls", "finish"}.
json add_up(const std::string& sse_body) {
  const SseStream s = parse_sse(sse_body);
  EXPECT_TRUE(s.done);
  json m = {{"content", ""}, {"reasoning_content", ""}, {"tool_calls", json::array()}, {"finish", nullptr}};
  for (const json& e : s.events) {
    if (e["choices"].empty()) continue;
    const json& c = e["choices"][0];
    const json& d = c["delta"];
    if (d.contains("content")) m["content"] = m["content"].get<std::string>() + d["content"].get<std::string>();
    if (d.contains("reasoning_content"))
      m["reasoning_content"] = m["reasoning_content"].get<std::string>() + d["reasoning_content"].get<std::string>();
    for (const json& t : d.value("tool_calls", json::array())) {
      const size_t i = t["index"];
      if (i == m["tool_calls"].size()) {  // a new call: id, type and name come once, with it
        EXPECT_TRUE(t.contains("id") && t["type"] == "function" && t["function"].contains("name")) << t;
        m["tool_calls"].push_back({{"id", t["id"]}, {"name", t["function"]["name"]}, {"arguments", ""}});
      }
      if (i >= m["tool_calls"].size()) {
        ADD_FAILURE() << "tool call deltas out of order: " << t;
        return m;
      }
      EXPECT_FALSE(t.contains("id") && t["id"] != m["tool_calls"][i]["id"]);
      m["tool_calls"][i]["arguments"] =
          m["tool_calls"][i]["arguments"].get<std::string>() + t["function"].value("arguments", "");
    }
    if (!c["finish_reason"].is_null()) m["finish"] = c["finish_reason"];
  }
  return m;
}

struct Both {
  json whole;     // choices[0] of the whole object
  json streamed;  // add_up of the stream
  std::string sse;
  std::string whole_body;
};

Both run_reply(const serve::Request& req, const std::string& text, size_t piece, StopReason f = StopReason::Eos) {
  const std::vector<TokenEvent> evs = pieces(text, piece);
  serve::JobResult res;
  res.finish = f;
  res.n_generated = static_cast<int64_t>(evs.size());
  serve::Reply whole(req, qwen_tokenizer(), "chatcmpl-7", "m");
  serve::Reply stream(req, qwen_tokenizer(), "chatcmpl-7", "m");
  Both b;
  b.whole_body = whole.full(evs, res);
  for (const TokenEvent& ev : evs) b.sse += stream.stream_events({ev});
  b.sse += stream.stream_end(res);
  b.whole = json::parse(b.whole_body)["choices"][0];
  b.streamed = add_up(b.sse);
  return b;
}

void expect_stream_matches_whole(const Both& b) {
  const json& m = b.whole["message"];
  EXPECT_EQ(b.streamed["content"], m["content"].is_null() ? "" : m["content"].get<std::string>());
  EXPECT_EQ(b.streamed["reasoning_content"], m.value("reasoning_content", ""));
  const json calls = m.value("tool_calls", json::array());
  ASSERT_EQ(b.streamed["tool_calls"].size(), calls.size());
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(b.streamed["tool_calls"][i]["id"], calls[i]["id"]);
    EXPECT_EQ(b.streamed["tool_calls"][i]["name"], calls[i]["function"]["name"]);
    EXPECT_EQ(b.streamed["tool_calls"][i]["arguments"], calls[i]["function"]["arguments"]);
  }
  EXPECT_EQ(b.streamed["finish"], b.whole["finish_reason"]);
}

const std::string kCall = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>";

TEST(ServeReply, HermesCallsBecomeToolCallsWholeAndStreamed) {
  const std::string qwen25 = read_file(shared_path("chat/templates/Qwen-Qwen2.5-7B-Instruct.jinja"));
  const serve::Request req = chat_request(qwen25, true);
  for (size_t piece : {1, 3, 7, 1000}) {
    const Both b = run_reply(req, "Checking.\n" + kCall + "\n" + kCall, piece);
    const json& m = b.whole["message"];
    EXPECT_EQ(b.whole["finish_reason"], "tool_calls");
    EXPECT_EQ(m["content"], "Checking.");
    ASSERT_EQ(m["tool_calls"].size(), 2u);
    EXPECT_EQ(m["tool_calls"][0]["type"], "function");
    EXPECT_EQ(m["tool_calls"][0]["function"]["name"], "get_weather");
    EXPECT_EQ(json::parse(m["tool_calls"][0]["function"]["arguments"].get<std::string>()), json({{"city", "Paris"}}));
    EXPECT_NE(m["tool_calls"][0]["id"], m["tool_calls"][1]["id"]);
    expect_stream_matches_whole(b);
  }
  // Only a call: content is null. Cut off by max_tokens: "length", and the broken call is content.
  EXPECT_TRUE(run_reply(req, kCall, 4).whole["message"]["content"].is_null());
  const Both cut = run_reply(req, kCall.substr(0, 40), 4, StopReason::Length);
  EXPECT_EQ(cut.whole["finish_reason"], "length");
  EXPECT_EQ(cut.whole["message"]["content"], kCall.substr(0, 40));
  EXPECT_FALSE(cut.whole["message"].contains("tool_calls"));
  expect_stream_matches_whole(cut);
  // Without tools in the request the same text is plain content.
  const Both plain = run_reply(chat_request(qwen25, false), kCall, 5);
  EXPECT_EQ(plain.whole["message"]["content"], kCall);
  EXPECT_EQ(plain.whole["finish_reason"], "stop");
  expect_stream_matches_whole(plain);
}

TEST(ServeReply, ThinkingBecomesReasoningContent) {
  const std::string qwen3 =
      json::parse(read_file(shared_path("fixtures/tiny-qwen3/hf/tokenizer_config.json")))["chat_template"];
  const std::string text = "<think>\nThe user greets me.\n</think>\n\nHello!";
  for (size_t piece : {1, 2, 5}) {
    const Both on = run_reply(chat_request(qwen3, false, "<|im_start|>assistant\n"), text, piece);
    EXPECT_EQ(on.whole["message"]["reasoning_content"], "The user greets me.");
    EXPECT_EQ(on.whole["message"]["content"], "Hello!");
    expect_stream_matches_whole(on);
    // enable_thinking false: the prompt closed the block, so the reply is all answer.
    const Both off = run_reply(chat_request(qwen3, false, "<|im_start|>assistant\n<think>\n\n</think>\n\n"), text, piece);
    EXPECT_FALSE(off.whole["message"].contains("reasoning_content"));
    EXPECT_EQ(off.whole["message"]["content"], text);
    expect_stream_matches_whole(off);
  }
  // --reasoning-format none: left in the content.
  serve::Request none = chat_request(qwen3, false);
  none.reply_options.reasoning = false;
  EXPECT_EQ(run_reply(none, text, 3).whole["message"]["content"], text);
}

TEST(ServeReply, ToolFieldsOfTheRequest) {
  const json tools = json::parse(R"([{"type": "function", "function": {"name": "get_weather", "parameters": {}}},
                                     {"type": "function", "function": {"name": "get_time", "parameters": {}}}])");
  auto read = [&](json extra) {
    json b = {{"tools", tools}};
    b.update(extra);
    chat::Conversation conv;
    reply::ParseOptions o;
    serve::read_tool_fields(b, conv, o);
    return std::make_pair(conv, o);
  };
  auto [conv, o] = read(json::object());
  EXPECT_TRUE(o.tools);
  EXPECT_EQ(conv.tools->size(), 2u);
  EXPECT_EQ(o.tool_names, (std::vector<std::string>{"get_weather", "get_time"}));
  std::tie(conv, o) = read({{"tool_choice", "none"}});
  EXPECT_FALSE(o.tools);
  EXPECT_FALSE(conv.tools);
  std::tie(conv, o) = read(json{{"tool_choice", {{"type", "function"}, {"function", {{"name", "get_time"}}}}},
                                {"parallel_tool_calls", false}});
  EXPECT_EQ(conv.tools->size(), 1u);
  EXPECT_EQ((*conv.tools)[0]["function"]["name"], "get_time");
  EXPECT_EQ(o.tool_names, std::vector<std::string>{"get_time"});
  EXPECT_EQ(o.max_calls, 1u);
  for (const json& bad : {json{{"tool_choice", "sometimes"}}, json{{"tool_choice", {{"type", "function"}, {"function", {{"name", "nope"}}}}}},
                          json{{"parallel_tool_calls", "yes"}}, json{{"tools", json::array({{{"type", "function"}}})}}}) {
    EXPECT_THROW(read(bad), serve::ApiError) << bad;
  }
  serve::Json messages = serve::Json::parse(R"([{"role": "assistant", "content": null, "tool_calls": [{"id": "abc", "type": "function",
                                  "function": {"name": "get_time", "arguments": "{\"tz\": \"UTC\"}"}}]}])");
  serve::prepare_tool_turns(messages);
  EXPECT_EQ(messages[0]["content"], "");
  EXPECT_EQ(messages[0]["tool_calls"][0]["function"]["arguments"], serve::Json({{"tz", "UTC"}}));
}

// A call opener the model writes as a special token (Llama 3.1's <|python_tag|>) has no text, yet the parser must
// see it: after text, only the opener makes the JSON a call. It never shows in the content. (tiny-llama3 has Llama
// 3.0's vocabulary: a copy gives one of its reserved control tokens the tag's text, as Llama 3.1 does.)
TEST(ServeReply, SpecialTokenOpenerReachesTheParser) {
  const std::string src = shared_path("fixtures/tiny-llama3/model-q8_0.gguf");
  const std::string path = edited_gguf(src, "llama3-python-tag.gguf", [&](GgufWriter& w) {
    const GgufFile g(src);
    std::vector<std::string> tokens(g.get_string_array("tokenizer.ggml.tokens").begin(),
                                    g.get_string_array("tokenizer.ggml.tokens").end());
    std::replace(tokens.begin(), tokens.end(), std::string("<|reserved_special_token_2|>"), std::string("<|python_tag|>"));
    w.set_string_array("tokenizer.ggml.tokens", tokens);
  });
  const LoadedModel lm = load_model(path, LoadOptions{});
  const Tokenizer& tok = *lm.tokenizer;
  const std::vector<int32_t> tag = tok.encode("<|python_tag|>", EncodeOptions{.add_special = false, .parse_special = true});
  ASSERT_EQ(tag.size(), 1u);
  ASSERT_TRUE(tok.is_special(tag[0]));
  ASSERT_EQ(tok.token_to_piece(tag[0], false), "");
  ASSERT_EQ(tok.token_to_piece(tag[0], true), "<|python_tag|>");
  serve::Request req =
      chat_request(read_file(shared_path("chat/templates/meta-llama-Llama-3.2-3B-Instruct.jinja")), true);
  std::vector<TokenEvent> evs = pieces("Let me check.", 4);
  TokenEvent opener;
  opener.id = tag[0];  // as the decoder hands a special token: no text
  evs.push_back(opener);
  for (const TokenEvent& ev : pieces(R"({"name": "get_weather", "parameters": {"city": "Oslo"}})", 5)) evs.push_back(ev);
  serve::JobResult res;
  res.finish = StopReason::Eos;
  serve::Reply whole(req, tok, "chatcmpl-8", "m");
  serve::Reply stream(req, tok, "chatcmpl-8", "m");
  const json w = json::parse(whole.full(evs, res))["choices"][0];
  std::string sse;
  for (const TokenEvent& ev : evs) sse += stream.stream_events({ev});
  sse += stream.stream_end(res);
  EXPECT_EQ(w["finish_reason"], "tool_calls");
  EXPECT_EQ(w["message"]["content"], "Let me check.");
  ASSERT_EQ(w["message"]["tool_calls"].size(), 1u);
  EXPECT_EQ(w["message"]["tool_calls"][0]["function"]["name"], "get_weather");
  Both b;
  b.whole = w;
  b.streamed = add_up(sse);
  expect_stream_matches_whole(b);
  // Without tools the special token is dropped as before.
  req.reply_options.tools = false;
  serve::Reply plain(req, tok, "chatcmpl-9", "m");
  EXPECT_EQ(json::parse(plain.full(evs, res))["choices"][0]["message"]["content"],
            R"(Let me check.{"name": "get_weather", "parameters": {"city": "Oslo"}})");
}

TEST(ServeReply, OpenAINodeClientAssemblesTheReply) {
  const std::string dir = openai_npm_dir("openai_replay.mjs");
  ASSERT_FALSE(dir.empty()) << "could not install the openai npm package (node, npm and the npm registry are needed)";
  const std::string qwen3 =
      json::parse(read_file(shared_path("fixtures/tiny-qwen3/hf/tokenizer_config.json")))["chat_template"];
  const Both b = run_reply(chat_request(qwen3, true, "<|im_start|>assistant\n"),
                           "<think>\nNeed the weather.\n</think>\n\nLet me look.\n" + kCall, 3);
  const std::string whole = write_scratch("replay-whole.json", b.whole_body);
  const std::string sse = write_scratch("replay-stream.sse", b.sse);
  std::string out;
  ASSERT_EQ(shell("timeout 60 node '" + dir + "/openai_replay.mjs' '" + whole + "' '" + sse + "'", out), 0) << out;
  const json got = json::parse(out, nullptr, false);
  ASSERT_FALSE(got.is_discarded()) << out;
  const json& want = b.whole["message"];
  ASSERT_EQ(want["tool_calls"].size(), 1u);
  for (const char* how : {"whole", "stream_helper"}) {
    const json& m = got[how]["message"];
    EXPECT_EQ(got[how]["finish"], "tool_calls") << how;
    EXPECT_EQ(m["content"], "Let me look.") << how;
    ASSERT_EQ(m["tool_calls"].size(), 1u) << how;
    EXPECT_EQ(m["tool_calls"][0]["id"], want["tool_calls"][0]["id"]) << how;
    EXPECT_EQ(m["tool_calls"][0]["function"]["name"], "get_weather") << how;
    EXPECT_EQ(m["tool_calls"][0]["function"]["arguments"], R"({"city":"Paris"})") << how;
  }
  EXPECT_EQ(got["whole"]["message"]["reasoning_content"], "Need the weather.");
  EXPECT_EQ(got["stream"]["reasoning_content"], "Need the weather.");
  EXPECT_EQ(got["stream"]["content"], "Let me look.");
  EXPECT_EQ(got["stream"]["tool_calls"][0]["arguments"], R"({"city":"Paris"})");
  EXPECT_EQ(got["stream"]["finish"], "tool_calls");
}

}  // namespace
}  // namespace lmgen::test
