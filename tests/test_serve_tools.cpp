// `lmgen serve` with tools and thinking, end to end through the real `openai` npm client (tests/openai_tools.mjs)
// on the random-weight fixtures: their replies are forced with logit_bias (one token, repeated), so what the
// server makes of them is known: a thinking block read apart or not (tiny-qwen3, Qwen3's template, thinking on
// and off), a broken call kept as content (tiny-qwen2, Qwen2.5's template, Hermes format; tiny-llama3 with
// Llama 3.2's template), and a second turn with the call and the tool's result rendered through the template.
// Well-formed calls cannot be forced this way: test_serve_reply.cpp feeds them to the reply assembly, and
// test_serve_tool_calls.cpp has the call grammar of tool_choice "required" / named make them.
#include <gtest/gtest.h>

#include "lmgen_run.hpp"
#include "serve_client.hpp"

namespace lmgen::test {
namespace {

using nlohmann::json;

int32_t token_id(int port, const std::string& text) {
  const json t = post(port, "/tokenize", {{"content", text}}).json();
  EXPECT_EQ(t["tokens"].size(), 1u) << text << " is not one token: " << t.dump();
  return t["tokens"][0];
}

json run_node(const std::string& dir, int port, const std::string& scenario, int32_t token) {
  std::string out;
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  EXPECT_EQ(shell("timeout 180 node '" + dir + "/openai_tools.mjs' " + url + " " + scenario + " " +
                      std::to_string(token), out), 0) << out;
  json j = json::parse(out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << out;
  return j;
}

std::string repeat(const std::string& s, int n) {
  std::string r;
  for (int i = 0; i < n; ++i) r += s;
  return r;
}

TEST(ServeTools, Qwen3ThinkingIsReasoningContentUnlessTurnedOff) {
  const std::string dir = openai_npm_dir("openai_tools.mjs");
  ASSERT_FALSE(dir.empty()) << "could not install the openai npm package (node, npm and the npm registry are needed)";
  ServeProcess s({"-m", shared_path("fixtures/tiny-qwen3/hf"), "--parallel", "2"});
  ASSERT_GT(s.port(), 0);
  const int32_t think = token_id(s.port(), "<think>");
  const json got = run_node(dir, s.port(), "think", think);

  // Thinking on: the reply "<think><think>..." (6 tokens) opens the block; the other five are its text.
  const json& on = got["on"];
  EXPECT_EQ(on["whole"]["message"]["reasoning_content"], repeat("<think>", 5));
  EXPECT_EQ(on["whole"]["message"]["content"], "");
  EXPECT_EQ(on["whole"]["finish"], "length");
  EXPECT_EQ(on["stream"]["reasoning_content"], repeat("<think>", 5));
  EXPECT_EQ(on["stream"]["content"], "");
  EXPECT_EQ(on["stream"]["finish"], "length");
  // enable_thinking false: the prompt closed the block, so the same reply is all answer.
  const json& off = got["off"];
  EXPECT_FALSE(off["whole"]["message"].contains("reasoning_content"));
  EXPECT_EQ(off["whole"]["message"]["content"], repeat("<think>", 6));
  EXPECT_EQ(off["stream"]["content"], repeat("<think>", 6));
  EXPECT_EQ(off["stream"]["reasoning_content"], "");
  EXPECT_GT(off["whole"]["usage"]["prompt_tokens"].get<int>(), on["whole"]["usage"]["prompt_tokens"].get<int>());
  // Unforced, thinking off: whatever the model says is content, streamed as whole.
  EXPECT_EQ(got["free_off"]["stream"]["content"], got["free_off"]["whole"]["message"]["content"]);
  EXPECT_FALSE(got["free_off"]["whole"]["message"].contains("reasoning_content"));

  // --reasoning-format none: the thinking stays in the content.
  ServeProcess raw({"-m", shared_path("fixtures/tiny-qwen3/hf"), "--reasoning-format", "none"});
  const json r = post(raw.port(), "/v1/chat/completions",
                      {{"messages", {{{"role", "user"}, {"content", "Hi"}}}}, {"max_tokens", 3},
                       {"logit_bias", {{std::to_string(think), 100}}}}).json();
  EXPECT_EQ(r["choices"][0]["message"]["content"], repeat("<think>", 3)) << r.dump();
}

// The tools scenario's checks on one server whose forced token is `forced`.
void expect_tools_scenario(const json& got, const std::string& forced) {
  for (const char* k : {"forced", "none"}) {
    const json& w = got[k]["whole"];
    EXPECT_EQ(w["message"]["content"], repeat(forced, 6)) << k;  // a broken call: kept, verbatim
    EXPECT_FALSE(w["message"].contains("tool_calls") && !w["message"]["tool_calls"].is_null()) << k;
    EXPECT_EQ(w["finish"], "length") << k;
    EXPECT_EQ(got[k]["stream"]["content"], repeat(forced, 6)) << k;
    EXPECT_EQ(got[k]["stream"]["tool_calls"], 0) << k;
  }
  // "none" does not show the tools to the template.
  EXPECT_LT(got["none"]["whole"]["usage"]["prompt_tokens"].get<int>(),
            got["forced"]["whole"]["usage"]["prompt_tokens"].get<int>());
  // The second turn renders the call and the result; arguments sent as JSON text render as the object would.
  EXPECT_GT(got["second"]["usage"]["prompt_tokens"].get<int>(), got["forced"]["whole"]["usage"]["prompt_tokens"].get<int>());
  EXPECT_EQ(got["second"]["usage"]["prompt_tokens"], got["second_object"]["usage"]["prompt_tokens"]);
  EXPECT_EQ(got["bad_choice"], 400);
}

TEST(ServeTools, HermesQwen2AndLlama3KeepBrokenCallsAndRenderTheSecondTurn) {
  const std::string dir = openai_npm_dir("openai_tools.mjs");
  ASSERT_FALSE(dir.empty()) << "could not install the openai npm package (node, npm and the npm registry are needed)";
  {
    ServeProcess s({"-m", shared_path("fixtures/tiny-qwen2/model-q8_0.gguf"), "--parallel", "2"});
    ASSERT_GT(s.port(), 0);
    expect_tools_scenario(run_node(dir, s.port(), "tools", token_id(s.port(), "<tool_call>")), "<tool_call>");
  }
  ServeProcess s({"-m", shared_path("fixtures/tiny-llama3/model-q8_0.gguf"), "--parallel", "2", "--chat-template",
                  shared_path("chat/templates/meta-llama-Llama-3.2-3B-Instruct.jinja")});
  ASSERT_GT(s.port(), 0);
  expect_tools_scenario(run_node(dir, s.port(), "tools", token_id(s.port(), "{")), "{");
}

}  // namespace
}  // namespace lmgen::test
