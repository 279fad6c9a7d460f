// `lmgen serve` with tool_choice "required" and a named function, end to end through the real `openai` npm client
// (tests/openai_tool_calls.mjs): the random-weight fixtures sample freely (temperature 1, several seeds, no
// logit_bias), and the call grammar (reply/call_grammar.hpp) must still give calls to the right tools whose
// arguments python3-jsonschema accepts, whole and streamed; parallel_tool_calls false gives exactly one (with
// parallel calls a random model may call on until max_tokens cuts one off: the complete ones are returned). Then the
// second turn, with the calls and their results, renders through the template and gets a reply. On tiny-qwen2
// (Qwen2.5's template, Hermes format) and tiny-llama3 with Llama 3.2's template (JSON with "parameters").
#include <gtest/gtest.h>

#include "jsonschema_check.hpp"
#include "lmgen_run.hpp"
#include "serve_client.hpp"

namespace lmgen::test {
namespace {

using nlohmann::json;

json run_node(const std::string& dir, int port) {
  std::string out;
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  EXPECT_EQ(shell("timeout 600 node '" + dir + "/openai_tool_calls.mjs' " + url + " 1,2,3", out), 0) << out;
  json j = json::parse(out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << out;
  return j;
}

// Checks every run's calls (names, count, finish) and adds the (schema, arguments) pairs to validate to `pairs`.
void check_runs(const json& got, json& pairs) {
  json schema_of = json::object();
  for (const json& t : got["tools"]) schema_of[t["function"]["name"].get<std::string>()] = t["function"]["parameters"];
  EXPECT_EQ(got["runs"].size(), 9u);
  for (const json& run : got["runs"]) {
    const std::string kind = run["kind"];
    for (const char* how : {"whole", "stream"}) {
      const json& r = run[how];
      const std::string where = kind + " seed " + run["seed"].dump() + " " + how + ": " + r.dump();
      if (kind == "required" && r["finish"] == "length") {
        // Parallel calls: the model may go on calling until max_tokens cuts the last call off; that one stays
        // content (a Hermes block begun), the complete ones before it are returned.
        EXPECT_TRUE(r["content"].is_string() && r["content"].get<std::string>().starts_with("<tool_call>")) << where;
      } else {
        EXPECT_EQ(r["finish"], "tool_calls") << where;
        EXPECT_TRUE(r["content"].is_null() || r["content"] == "") << where;
      }
      ASSERT_GE(r["calls"].size(), 1u) << where;
      if (kind != "required") {
        EXPECT_EQ(r["calls"].size(), 1u) << where;
      }
      for (const json& c : r["calls"]) {
        const std::string name = c["name"];
        if (kind == "named") {
          EXPECT_EQ(name, "book_table") << where;
        }
        ASSERT_TRUE(schema_of.contains(name)) << where;
        EXPECT_EQ(c["id"].get<std::string>().size(), 9u) << where;
        pairs.push_back({{"schema", schema_of[name].dump()}, {"text", c["arguments"]}});
      }
    }
    // The same seed gives the same calls (the ids differ: they follow the request's id).
    ASSERT_EQ(run["whole"]["calls"].size(), run["stream"]["calls"].size());
    for (size_t i = 0; i < run["whole"]["calls"].size(); ++i) {
      EXPECT_EQ(run["whole"]["calls"][i]["name"], run["stream"]["calls"][i]["name"]);
      EXPECT_EQ(run["whole"]["calls"][i]["arguments"], run["stream"]["calls"][i]["arguments"]);
    }
  }
}

void expect_valid_calls(const std::vector<std::string>& serve_args) {
  const std::string dir = openai_npm_dir("openai_tool_calls.mjs");
  ASSERT_FALSE(dir.empty()) << "could not install the openai npm package (node, npm and the npm registry are needed)";
  ServeProcess s(serve_args);
  ASSERT_GT(s.port(), 0);
  const json got = run_node(dir, s.port());
  ASSERT_TRUE(got.contains("runs")) << got.dump();
  json pairs = json::array();
  check_runs(got, pairs);
  ASSERT_FALSE(pairs.empty());
  EXPECT_EQ(validate_with_jsonschema(pairs), "");
  // The second turn: the calls and the results went through the template, and a reply came back.
  const json& second = got["second"];
  EXPECT_GT(second["prompt_tokens"].get<int>(), second["first_prompt_tokens"].get<int>() + 10) << second;
  EXPECT_TRUE(second["has_message"].get<bool>()) << second;
  EXPECT_TRUE(second["finish"] == "stop" || second["finish"] == "length" || second["finish"] == "tool_calls") << second;
}

TEST(ServeToolCalls, RequiredAndNamedCallsValidateOnQwen2Hermes) {
  expect_valid_calls({"-m", shared_path("fixtures/tiny-qwen2/model-q8_0.gguf"), "--parallel", "2", "-c", "1024"});
}

TEST(ServeToolCalls, RequiredAndNamedCallsValidateOnLlama3) {
  expect_valid_calls({"-m", shared_path("fixtures/tiny-llama3/model-q8_0.gguf"), "--parallel", "2", "-c", "1024", "--chat-template",
                      shared_path("chat/templates/meta-llama-Llama-3.2-3B-Instruct.jinja")});
}

}  // namespace
}  // namespace lmgen::test
