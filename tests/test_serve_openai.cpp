// `lmgen serve` driven by the real `openai` npm client (Node): completions, echo log-probs, chat completions,
// streaming of both, structured output (response_format json_schema), models, and its error handling. The package is installed once under the build directory by
// tools/npm_openai.sh; a machine without node/npm or the registry fails this test (it is never skipped).
#include <gtest/gtest.h>

#include "lmgen_run.hpp"
#include "serve_client.hpp"

namespace lmgen::test {
namespace {

using nlohmann::json;

TEST(ServeOpenAI, NodeClientCompletionsChatStreamingAndLogprobs) {
  const std::string dir = openai_npm_dir("openai_client.mjs");
  ASSERT_FALSE(dir.empty()) << "could not install the openai npm package (node, npm and the npm registry are needed)";
  std::string out;

  ServeProcess s({"-m", shared_path("fixtures/tiny-qwen2/model-q8_0.gguf"), "--parallel", "2", "--api-key", "k1"});
  ASSERT_GT(s.port(), 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(s.port()) + "/v1";
  ASSERT_EQ(shell("timeout 120 node '" + dir + "/openai_client.mjs' " + url + " k1", out), 0) << out;
  const json got = json::parse(out, nullptr, false);
  ASSERT_FALSE(got.is_discarded()) << out;

  // What raw HTTP gets for the same requests.
  const std::vector<std::string> key = {"Authorization: Bearer k1"};
  const json raw = post(s.port(), "/v1/completions",
                        {{"prompt", "Hello world"}, {"max_tokens", 8}, {"temperature", 0}}, key).json();
  EXPECT_EQ(got["completion"]["text"], raw["choices"][0]["text"]);
  EXPECT_EQ(got["completion"]["n_logprobs"], 8);
  EXPECT_EQ(got["completion"]["n_top"], 2);
  EXPECT_EQ(got["completion"]["usage"]["completion_tokens"], 8);
  EXPECT_EQ(got["completion_stream"], got["completion"]["text"]);

  const json& echo = got["echo"];
  EXPECT_EQ(echo["text"], "Hello world, hello");
  ASSERT_EQ(echo["token_logprobs"].size(), echo["usage"]["prompt_tokens"].get<size_t>());
  EXPECT_TRUE(echo["token_logprobs"][0].is_null());
  for (size_t i = 1; i < echo["token_logprobs"].size(); ++i) EXPECT_LT(echo["token_logprobs"][i].get<double>(), 0.0);

  const json raw_chat = post(s.port(), "/v1/chat/completions",
                             {{"messages", {{{"role", "user"}, {"content", "Hello there"}}}}, {"max_tokens", 10},
                              {"temperature", 0}}, key).json();
  EXPECT_EQ(got["chat"]["content"], raw_chat["choices"][0]["message"]["content"]);
  EXPECT_EQ(got["chat"]["role"], "assistant");
  EXPECT_EQ(got["chat"]["n_logprobs"], got["chat"]["usage"]["completion_tokens"]);
  EXPECT_EQ(got["chat"]["top"], 2);
  EXPECT_EQ(got["chat_stream"]["content"], got["chat"]["content"]);
  EXPECT_EQ(got["chat_stream"]["finish"], got["chat"]["finish"]);
  EXPECT_EQ(got["chat_stream"]["usage"]["completion_tokens"], got["chat"]["usage"]["completion_tokens"]);

  ASSERT_EQ(got["structured"].size(), 4u);
  for (const json& r : got["structured"]) {
    const json v = json::parse(r["content"].get<std::string>(), nullptr, false);
    ASSERT_TRUE(v.is_object()) << r.dump();
    EXPECT_EQ(v.size(), 2u) << r.dump();
    ASSERT_TRUE(v["city"].is_string() && v["n"].is_number_integer()) << r.dump();
    EXPECT_LE(v["city"].get<std::string>().size(), 12u * 4) << r.dump();  // 12 characters of up to 4 bytes
    EXPECT_GE(v["n"].get<int>(), 0);
    EXPECT_LE(v["n"].get<int>(), 9);
    EXPECT_EQ(r["finish"], "stop") << r.dump();
  }

  EXPECT_EQ(got["models"], json::array({"model-q8_0.gguf"}));
  EXPECT_EQ(got["bad_key"], 401);
  EXPECT_EQ(got["bad_request"]["status"], 400);
  EXPECT_EQ(got["bad_request"]["type"], "invalid_request_error");
}

}  // namespace
}  // namespace lmgen::test
