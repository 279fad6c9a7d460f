// End-to-end tests of `lmgen chat-template` and `lmgen chat`: every Hugging Face reference render through the
// binary, prompt token counts, end-of-turn handling, and a three-turn conversation at a pseudo-terminal that
// evaluates only each turn's new tokens.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "lmgen_run.hpp"

using namespace lmgen::test;

namespace {

const std::string kQwen2 = "fixtures/tiny-qwen2/hf";
constexpr int32_t kImEnd = 151645;  // <|im_end|> in the Qwen2 vocabulary

}  // namespace

TEST(ChatTemplateCli, EveryHuggingFaceReferenceRendersByteForByte) {
  // strftime_now() follows SOURCE_DATE_EPOCH: 1721952000 is 26 Jul 2024, the date the references were made with.
  ::setenv("SOURCE_DATE_EPOCH", "1721952000", 1);
  const auto lines = read_lines(shared_path("chat/hf-renders.jsonl"));
  int rendered = 0, refused = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto c = nlohmann::ordered_json::parse(lines[i]);
    const std::string where = c["name"].get<std::string>() + " / " + c["conversation"].get<std::string>();
    nlohmann::ordered_json conv = {{"messages", c["messages"]}};
    if (c.contains("tools")) conv["tools"] = c["tools"];
    std::vector<std::string> args = {"chat-template", "--chat-template",
                                     write_scratch("t" + std::to_string(i) + ".jinja", c["template"]),
                                     "--chat-template-kwargs", c["kwargs"].dump()};
    if (!c["add_generation_prompt"].get<bool>()) args.push_back("--no-generation-prompt");
    const RunResult r = run_lmgen(args, 20.0, conv.dump(), true);
    if (c.contains("expected")) {
      EXPECT_EQ(r.exit_code, 0) << where << ": " << r.describe();
      EXPECT_EQ(r.out, c["expected"].get<std::string>()) << where;
      ++rendered;
    } else {
      EXPECT_EQ(r.exit_code, 1) << where << ": " << r.describe();
      EXPECT_EQ(r.out, "") << where;
      EXPECT_NE(r.one_line_err().find("chat template"), std::string::npos) << where << ": " << r.err;
      ++refused;
    }
  }
  ::unsetenv("SOURCE_DATE_EPOCH");
  EXPECT_EQ(rendered + refused, 198);
  EXPECT_EQ(refused, 15);
}

TEST(ChatTemplateCli, ModelTemplateAndUsageErrors) {
  const std::string conv = R"([{"role": "user", "content": "Hi"}])";
  const RunResult r = run_lmgen({"chat-template", "-m", shared_path(kQwen2)}, 20.0, conv, true);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out.rfind("<|im_start|>system\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"), std::string::npos) << r.out;
  const RunResult no_gen =
      run_lmgen({"chat-template", "-m", shared_path(kQwen2), "--no-generation-prompt"}, 20.0, conv, true);
  EXPECT_EQ(no_gen.out + "<|im_start|>assistant\n", r.out);

  // A model without a template, bad conversation JSON, bad kwargs.
  const RunResult none =
      run_lmgen({"chat-template", "-m", stories_gguf()}, 20.0, conv, true);
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.one_line_err().find("no chat template"), std::string::npos) << none.err;
  EXPECT_EQ(run_lmgen({"chat-template", "-m", shared_path(kQwen2)}, 20.0, "{not json", true).exit_code, 2);
  EXPECT_EQ(run_lmgen({"chat-template", "-m", shared_path(kQwen2), "--chat-template-kwargs", "[1]"}, 20.0, conv, true)
                .exit_code, 2);
}

TEST(ChatCli, PromptTokensAreTheRenderedTemplatesTokens) {
  const RunResult rendered = run_lmgen({"chat-template", "-m", shared_path(kQwen2)}, 20.0,
                                       R"([{"role": "user", "content": "hi"}])", true);
  ASSERT_EQ(rendered.exit_code, 0) << rendered.describe();
  const RunResult ids = run_lmgen({"tokenize", "-m", shared_path(kQwen2), "--no-add-special"}, 20.0, rendered.out, true);
  ASSERT_EQ(ids.exit_code, 0) << ids.describe();
  const size_t n_ids = nlohmann::json::parse(ids.out).size();

  const RunResult chat = run_lmgen({"chat", "-m", shared_path(kQwen2), "--jsonl", "-n", "8", "--temp", "0"}, 30.0,
                                   "hi\n", true);
  ASSERT_EQ(chat.exit_code, 0) << chat.describe();
  const auto lines = nlohmann::json::parse(chat.out.substr(chat.out.rfind('\n', chat.out.size() - 2) + 1));
  EXPECT_EQ(lines["prompt_tokens"].get<size_t>(), n_ids);
}

TEST(ChatCli, EndOfTurnTokenStopsAndIsNotPrinted) {
  // Push <|im_end|> to the top: generation must stop there with stop_reason "eos" and print nothing of it.
  const RunResult r = run_lmgen({"chat", "-m", shared_path(kQwen2), "--jsonl", "-n", "8", "--temp", "0",
                                 "--logit-bias", std::to_string(kImEnd) + "=100"},
                                30.0, "hi\n", true);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out.find("<|im_end|>"), std::string::npos) << r.out;
  const auto done = nlohmann::json::parse(r.out.substr(r.out.rfind("{\"done\"")));
  EXPECT_EQ(done["stop_reason"], "eos");
  EXPECT_EQ(done["generated_tokens"], 1);
  EXPECT_EQ(done["text"], "");
  // The same in plain generation: the end-of-turn token ends it.
  const RunResult g = run_lmgen({"-m", shared_path(kQwen2), "-p", "hi", "--jsonl", "-n", "8", "--temp", "0",
                                 "--logit-bias", std::to_string(kImEnd) + "=100"});
  ASSERT_EQ(g.exit_code, 0) << g.describe();
  EXPECT_EQ(nlohmann::json::parse(g.out.substr(g.out.rfind("{\"done\"")))["stop_reason"], "eos");
  // Both write one per-token record for it (its id, empty text) before the final record.
  for (const RunResult* run : {&r, &g}) {
    std::vector<nlohmann::json> tokens;
    std::istringstream lines(run->out);
    for (std::string line; std::getline(lines, line);)
      if (!line.empty() && line.find("\"done\"") == std::string::npos) tokens.push_back(nlohmann::json::parse(line));
    ASSERT_EQ(tokens.size(), 1u) << run->out;
    EXPECT_EQ(tokens[0]["token"], kImEnd) << run->out;
    EXPECT_EQ(tokens[0]["text"], "") << run->out;
  }
}

TEST(ChatCli, ThreeTurnsAtATerminalEvaluateOnlyNewTokens) {
  // script(1) gives `lmgen chat` a pseudo-terminal; the three lines typed ahead are read one turn at a time.
  const std::string log = scratch_dir() + "/chat-pty.log";
  const std::string cmd = std::string(LMGEN_BINARY) + " chat -m " + shared_path(kQwen2) + " -n 6 --temp 0 -v";
  // /exit ends the chat by itself, and script's stdin stays open a while after the typed-ahead lines, so the end of
  // the input never races the child's reading of them (slow under the sanitizers).
  const std::string input = write_scratch("turns.txt", "first question\nsecond one\nthird\n/exit\n");
  const std::string run = "(cat " + input + "; sleep 3) | TERM=dumb timeout 240 script -qec '" + cmd + "' " + log +
                          " > /dev/null 2>&1";
  ASSERT_EQ(std::system(run.c_str()), 0) << read_file(log);
  const std::string out = read_file(log);
  const std::regex turn_re(R"(turn (\d+): (\d+) prompt tokens, (\d+) evaluated, (\d+) reused)");
  std::vector<std::array<long, 4>> turns;
  for (auto it = std::sregex_iterator(out.begin(), out.end(), turn_re); it != std::sregex_iterator(); ++it)
    turns.push_back({std::stol((*it)[1]), std::stol((*it)[2]), std::stol((*it)[3]), std::stol((*it)[4])});
  ASSERT_EQ(turns.size(), 3u) << out;
  EXPECT_EQ(turns[0][3], 0) << "the first turn evaluates everything";
  for (size_t t = 0; t < 3; ++t) {
    EXPECT_EQ(turns[t][0], static_cast<long>(t + 1));
    EXPECT_EQ(turns[t][2] + turns[t][3], turns[t][1]) << out;
  }
  for (size_t t = 1; t < 3; ++t) {
    // Turn t reuses everything up to the previous reply: at least the previous prompt.
    EXPECT_GE(turns[t][3], turns[t - 1][1]) << out;
    EXPECT_LT(turns[t][2], turns[t][1] - turns[t - 1][1] + 8) << out;
  }
}

TEST(ChatCli, GenerationConfigEosIdsEndGeneration) {
  // A copy of tiny-qwen2/hf whose generation_config.json declares token 100 an end-of-generation token.
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(scratch_dir()) / "qwen2-genconfig";
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(shared_path(kQwen2)))
    if (!fs::exists(dir / e.path().filename())) fs::create_symlink(e.path(), dir / e.path().filename());
  const std::vector<std::string> args = {"-p", "hi", "--jsonl", "-n", "8", "--temp", "0", "--logit-bias", "100=100"};
  auto stop_reason = [&](const std::string& model) {
    std::vector<std::string> a = {"-m", model};
    a.insert(a.end(), args.begin(), args.end());
    const RunResult r = run_lmgen(a);
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    return nlohmann::json::parse(r.out.substr(r.out.rfind("{\"done\"")));
  };
  std::ofstream(dir / "generation_config.json") << R"({"bos_token_id": 151643, "eos_token_id": [151645, 100]})";
  const auto with = stop_reason(dir.string());
  EXPECT_EQ(with["stop_reason"], "eos");
  EXPECT_EQ(with["generated_tokens"], 1);
  const auto without = stop_reason(shared_path(kQwen2));
  EXPECT_EQ(without["stop_reason"], "length");
  std::ofstream(dir / "generation_config.json") << R"({"eos_token_id": "x"})";
  const RunResult bad = run_lmgen({"-m", dir.string(), "-p", "hi", "-n", "1"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.one_line_err().find("eos_token_id"), std::string::npos) << bad.err;
}

TEST(ChatCli, BatchLinesWithMessagesAreTemplated) {
  // A "messages" line is the rendered template, tokenized with special tokens parsed and none added: the same
  // prompt as `lmgen chat` for the same message, so greedy output is the same too.
  const std::string msgs = R"([{"role": "user", "content": "hi"}])";
  const RunResult batch = run_lmgen({"-m", shared_path(kQwen2), "--batch", "-n", "6", "--temp", "0"}, 30.0,
                                    "{\"messages\": " + msgs + "}\n{\"prompt\": \"x\", \"messages\": []}\n", true);
  EXPECT_EQ(batch.exit_code, 1) << "the second line is an error";
  const auto lines = read_lines(write_scratch("batch.out", batch.out));
  ASSERT_EQ(lines.size(), 2u) << batch.out;
  const auto first = nlohmann::json::parse(lines[0]);
  const RunResult chat = run_lmgen({"chat", "-m", shared_path(kQwen2), "--jsonl", "-n", "6", "--temp", "0"}, 30.0,
                                   "hi\n", true);
  const auto done = nlohmann::json::parse(chat.out.substr(chat.out.rfind("{\"done\"")));
  EXPECT_EQ(first["prompt_tokens"], done["prompt_tokens"]);
  EXPECT_EQ(first["text"], done["text"]);
  EXPECT_NE(nlohmann::json::parse(lines[1])["error"].get<std::string>().find("not both"), std::string::npos);
}

TEST(ChatCli, FullContextDropsTheOldestTurnsKeepingTheSystemMessage) {
  // Six earlier exchanges of ~40 words each do not fit a 160-token context with room for an 8-token reply: the
  // oldest go, the system message and the newest turns stay, and the prompt leaves the reply its room.
  nlohmann::ordered_json msgs = nlohmann::ordered_json::array();
  msgs.push_back({{"role", "system"}, {"content", "SYSTEMRULE"}});
  for (int t = 0; t < 6; ++t) {
    std::string words;
    for (int w = 0; w < 40; ++w) words += "word ";
    msgs.push_back({{"role", "user"}, {"content", "Q" + std::to_string(t) + " " + words}});
    msgs.push_back({{"role", "assistant"}, {"content", "A" + std::to_string(t)}});
  }
  const std::string file = write_scratch("long-conversation.json", msgs.dump());
  const RunResult r = run_lmgen({"chat", "-m", shared_path(kQwen2), "--messages", file, "-p", "LASTQ", "-c", "160",
                                 "-n", "8", "--temp", "0", "--jsonl", "-vv"}, 30.0);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.err.find("context full: dropped the oldest turn"), std::string::npos) << r.err;
  const std::string last = r.err.substr(r.err.rfind("rendered prompt:"));
  EXPECT_NE(last.find("SYSTEMRULE"), std::string::npos) << last;
  EXPECT_NE(last.find("LASTQ"), std::string::npos) << last;
  EXPECT_EQ(last.find("Q0 "), std::string::npos) << "the oldest turn is gone: " << last;
  EXPECT_NE(last.find("A5"), std::string::npos) << "the newest exchange stays: " << last;
  const auto done = nlohmann::json::parse(r.out.substr(r.out.rfind("{\"done\"")));
  EXPECT_LE(done["prompt_tokens"].get<int>() + 8, 160) << r.out;
  EXPECT_GT(done["prompt_tokens"].get<int>() + 8, 160 - 60) << "only as many turns as needed are dropped";

  // A message that does not fit even alone is an error, not a truncated prompt.
  std::string huge;
  for (int w = 0; w < 300; ++w) huge += "word ";
  const RunResult too_long = run_lmgen({"chat", "-m", shared_path(kQwen2), "-p", huge, "-c", "64", "-n", "4"}, 30.0);
  EXPECT_EQ(too_long.exit_code, 1) << too_long.describe();
  EXPECT_NE(too_long.one_line_err().find("does not fit the context"), std::string::npos) << too_long.err;
}

TEST(ChatCli, EveryJsonlResultHasTheSameFields) {
  // generate --jsonl, chat --jsonl and --batch write one result shape (cli/generate.cpp's put_result): the same keys
  // in the same order, --batch adding its prompt_index and tokens, chat the reply read apart after them (content,
  // and reasoning_content / tool_calls when the reply has them).
  auto keys = [](const nlohmann::ordered_json& j) {
    std::vector<std::string> k;
    for (const auto& [key, v] : j.items())
      if (key != "done" && key != "prompt_index" && key != "tokens") k.push_back(key);
    return k;
  };
  const std::string model = shared_path(kQwen2);
  const RunResult g = run_lmgen({"-m", model, "-p", "hi", "--jsonl", "-n", "4", "--temp", "0"});
  const RunResult c = run_lmgen({"chat", "-m", model, "--jsonl", "-n", "4", "--temp", "0"}, 30.0, "hi\n", true);
  const RunResult b = run_lmgen({"-m", model, "--batch", "-n", "4", "--temp", "0"}, 30.0, "hi\n", true);
  ASSERT_EQ(g.exit_code, 0) << g.describe();
  ASSERT_EQ(c.exit_code, 0) << c.describe();
  ASSERT_EQ(b.exit_code, 0) << b.describe();
  const auto last = [](const std::string& out) {
    return nlohmann::ordered_json::parse(out.substr(out.rfind('\n', out.size() - 2) + 1));
  };
  const auto gd = last(g.out), cd = last(c.out), bd = last("\n" + b.out);
  EXPECT_EQ(gd["done"], true);
  EXPECT_EQ(cd["done"], true);
  const std::vector<std::string> want = {"stop_reason", "prompt_tokens", "generated_tokens", "seed",
                                         "prompt_ms",   "generate_ms",   "text"};
  EXPECT_EQ(keys(gd), want) << gd.dump();
  std::vector<std::string> chat_want = want;
  chat_want.push_back("content");
  EXPECT_EQ(keys(cd), chat_want) << cd.dump();
  EXPECT_EQ(keys(bd), want) << bd.dump();
}
