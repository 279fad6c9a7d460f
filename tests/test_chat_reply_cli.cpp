// `lmgen chat` and `--batch` with a thinking model: tiny-qwen3 (Qwen3's template) forced by --logit-bias to reply
// "<think>" again and again, so the reply is known: --jsonl and batch lines carry it apart (reasoning_content,
// content), thinking off makes it all content, text output shows it dimmed at a terminal, as written in a pipe,
// and not at all with --hide-thinking. And a forced tool_choice in --batch lines and a --messages file: tiny-qwen2
// sampling freely still returns calls whose arguments python3-jsonschema accepts.
#include <gtest/gtest.h>

#include "common.hpp"
#include "jsonschema_check.hpp"
#include "lmgen_run.hpp"

namespace lmgen::test {
namespace {

using nlohmann::json;

const char* const kQwen3 = "fixtures/tiny-qwen3/hf";
const char* const kThinkBias = "151667+100";  // <think> in Qwen3's vocabulary

std::string thinks(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += "<think>";
  return s;
}

json last_record(const RunResult& r) {
  const size_t at = r.out.rfind("{\"done\"");
  if (at == std::string::npos) return json();
  return json::parse(r.out.substr(at), nullptr, false);
}

std::vector<std::string> forced_chat(std::vector<std::string> extra) {
  std::vector<std::string> a = {"chat", "-m", shared_path(kQwen3), "-p", "Hi", "--logit-bias", kThinkBias, "-n", "5", "-q"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

TEST(ChatReplyCli, JsonlKeepsThinkingApartUnlessTurnedOff) {
  const RunResult on = run_lmgen(forced_chat({"--jsonl"}), 60.0);
  ASSERT_EQ(on.exit_code, 0) << on.describe();
  const json done = last_record(on);
  EXPECT_EQ(done["text"], thinks(5)) << on.out;
  EXPECT_EQ(done["reasoning_content"], thinks(4));
  EXPECT_EQ(done["content"], "");
  EXPECT_FALSE(done.contains("tool_calls"));

  const RunResult off = run_lmgen(forced_chat({"--jsonl", "--chat-template-kwargs", R"({"enable_thinking": false})"}), 60.0);
  ASSERT_EQ(off.exit_code, 0) << off.describe();
  EXPECT_EQ(last_record(off)["content"], thinks(5)) << off.out;
  EXPECT_FALSE(last_record(off).contains("reasoning_content"));

  const RunResult none = run_lmgen(forced_chat({"--jsonl", "--reasoning-format", "none"}), 60.0);
  EXPECT_EQ(last_record(none)["content"], thinks(5)) << none.out;
  EXPECT_EQ(run_lmgen(forced_chat({"--reasoning-format", "sometimes"}), 60.0).exit_code, 2);
}

TEST(ChatReplyCli, TextShowsThinkingDimmedAtATerminalAsWrittenInAPipeAndHides) {
  const RunResult piped = run_lmgen(forced_chat({}), 60.0);
  ASSERT_EQ(piped.exit_code, 0) << piped.describe();
  EXPECT_EQ(piped.out, thinks(5) + "\n");
  const RunResult hidden = run_lmgen(forced_chat({"--hide-thinking"}), 60.0);
  EXPECT_EQ(hidden.out, "\n");

  // script(1) gives stdout a pseudo-terminal.
  auto at_terminal = [](const std::string& env, const std::string& extra) {
    std::string cmd = std::string(LMGEN_BINARY) + " chat -m " + shared_path(kQwen3) + " -p Hi --logit-bias " +
                      kThinkBias + " -n 5 -q " + extra;
    const std::string log = scratch_dir() + "/chat-think-pty.log";
    const std::string run = env + " TERM=dumb timeout 120 script -qec '" + cmd + "' " + log + " < /dev/null > /dev/null 2>&1";
    EXPECT_EQ(std::system(run.c_str()), 0);
    return read_file(log);
  };
  const std::string dim = "\033[2m<think>\033[0m";
  const std::string tty = at_terminal("", "");
  EXPECT_NE(tty.find(dim + dim + dim + dim), std::string::npos) << tty;
  EXPECT_EQ(tty.find(dim + dim + dim + dim + dim), std::string::npos) << "the opening marker is not thinking: " << tty;
  const std::string plain = at_terminal("NO_COLOR=1", "");
  EXPECT_EQ(plain.find('\033'), std::string::npos) << plain;
  EXPECT_NE(plain.find(thinks(4)), std::string::npos) << plain;
  const std::string hide = at_terminal("", "--hide-thinking");
  EXPECT_EQ(hide.find("<think>"), std::string::npos) << hide;
}

TEST(ChatReplyCli, BatchChatLinesCarryTheReplyApart) {
  const std::string lines =
      R"({"messages": [{"role": "user", "content": "Hi"}]})" "\n"
      R"({"messages": [{"role": "user", "content": "Weather?"}], "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]})" "\n"
      R"({"prompt": "plain"})" "\n";
  const RunResult r = run_lmgen({"-m", shared_path(kQwen3), "--batch", "-n", "5", "--logit-bias", kThinkBias}, 60.0,
                                lines, true);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const auto out = read_lines(write_scratch("batch-think.out", r.out));
  ASSERT_EQ(out.size(), 3u) << r.out;
  for (int i = 0; i < 2; ++i) {
    const json j = json::parse(out[i]);
    EXPECT_EQ(j["text"], thinks(5)) << out[i];
    EXPECT_EQ(j["reasoning_content"], thinks(4)) << out[i];
    EXPECT_EQ(j["content"], "") << out[i];
  }
  const json plain = json::parse(out[2]);
  EXPECT_EQ(plain["text"], thinks(5));
  EXPECT_FALSE(plain.contains("content")) << "a plain prompt is not a chat reply";
}

const char* const kWeatherTool = R"({"type": "function", "function": {"name": "get_weather", "parameters": {
  "type": "object", "properties": {"city": {"type": "string", "maxLength": 10}, "days": {"type": "integer",
  "minimum": 1, "maximum": 5}, "unit": {"enum": ["c", "f"]}}, "required": ["city", "days"]}}})";
const char* const kTimeTool = R"({"type": "function", "function": {"name": "get_time", "parameters": {
  "type": "object", "properties": {"zone": {"enum": ["UTC", "CET"]}}, "required": ["zone"]}}})";

// The (schema, arguments) pair of each call in a reply record, for validate_with_jsonschema.
void add_calls(const json& record, const json& schemas, json& pairs, const std::string& only = "") {
  ASSERT_TRUE(record.contains("tool_calls")) << record;
  EXPECT_TRUE(record["content"].is_null()) << record;
  for (const json& c : record["tool_calls"]) {
    const std::string name = c["function"]["name"];
    ASSERT_TRUE(schemas.contains(name)) << record;
    if (!only.empty()) {
      EXPECT_EQ(name, only) << record;
    }
    pairs.push_back({{"schema", schemas[name].dump()}, {"text", c["function"]["arguments"]}});
  }
}

TEST(ChatReplyCli, ForcedToolChoiceInBatchLinesAndAMessagesFile) {
  const json tools = json::array({json::parse(kWeatherTool), json::parse(kTimeTool)});
  json schemas;
  for (const json& t : tools) schemas[t["function"]["name"].get<std::string>()] = t["function"]["parameters"];
  const json messages = json::array({{{"role", "user"}, {"content", "Weather in Oslo?"}}});
  std::string lines;
  for (int seed : {1, 2, 3}) {
    lines += json{{"messages", messages}, {"tools", tools}, {"tool_choice", "required"}, {"parallel_tool_calls", false},
                  {"seed", seed}}.dump() + "\n";
  }
  const std::string model = shared_path("fixtures/tiny-qwen2/model-q8_0.gguf");
  const RunResult r = run_lmgen({"-m", model, "--batch", "-n", "300", "--temp", "1", "-c", "1024"}, 120.0, lines, true);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  json pairs = json::array();
  for (const std::string& line : read_lines(write_scratch("batch-tools.out", r.out))) {
    const json j = json::parse(line);
    add_calls(j, schemas, pairs);
    EXPECT_EQ(j["tool_calls"].size(), 1u) << line;
  }
  EXPECT_EQ(pairs.size(), 3u) << r.out;

  const std::string file = write_scratch("forced-messages.json", json{{"messages", messages}, {"tools", tools},
      {"tool_choice", {{"type", "function"}, {"function", {{"name", "get_time"}}}}}}.dump());
  for (const char* seed : {"1", "2"}) {
    const RunResult c = run_lmgen({"chat", "-m", model, "--messages", file, "-p", "And the time?", "--jsonl", "-n", "300",
                                   "--temp", "1", "-s", seed, "-c", "1024", "-q"}, 120.0);
    ASSERT_EQ(c.exit_code, 0) << c.describe();
    add_calls(last_record(c), schemas, pairs, "get_time");
  }
  EXPECT_EQ(validate_with_jsonschema(pairs), "");
  // A bad choice in the file names the file.
  const std::string bad = write_scratch("bad-choice.json", json{{"messages", messages}, {"tools", tools},
      {"tool_choice", "always"}}.dump());
  const RunResult e = run_lmgen({"chat", "-m", model, "--messages", bad, "-p", "x", "-q"}, 60.0);
  EXPECT_EQ(e.exit_code, 2) << e.describe();
  EXPECT_NE(e.err.find("bad-choice.json"), std::string::npos) << e.err;
}

}  // namespace
}  // namespace lmgen::test
