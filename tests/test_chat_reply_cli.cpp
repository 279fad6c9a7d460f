// `lmgen chat` and `--batch` with a thinking model: tiny-qwen3 (Qwen3's template) forced by --logit-bias to reply
// "<think>" again and again, so the reply is known: --jsonl and batch lines carry it apart (reasoning_content,
// content), thinking off makes it all content, text output shows it dimmed at a terminal, as written in a pipe,
// and not at all with --hide-thinking.
#include <gtest/gtest.h>

#include "common.hpp"
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

}  // namespace
}  // namespace lmgen::test
