// --lora on every command that runs a model (generate, --batch, chat, score, bench), convert --lora, and
// score --sft / --compare, through the lmgen binary on tiny-llama + tiny-llama-lora.
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

#include "common.hpp"
#include "lmgen_run.hpp"

using lmgen::test::json_lines;

using lmgen::test::run_lmgen;
using lmgen::test::shared_path;

namespace {

std::string base() { return shared_path("fixtures/tiny-llama/hf"); }
std::string adapter() { return shared_path("fixtures/tiny-llama-lora"); }

std::vector<int> ref_greedy(int n) {
  const auto ref = nlohmann::json::parse(lmgen::test::read_file(adapter() + "/refs/ref-f32-0.json"));
  auto ids = ref["greedy_ids"].get<std::vector<int>>();
  ids.resize(static_cast<size_t>(n));
  return ids;
}

}  // namespace

// generate and --batch with an adapter give the reference's greedy ids (base + adapter, llama.cpp); -v says what
// was merged.
TEST(CliLora, GenerateAndBatchFollowTheReferences) {
  auto r = run_lmgen({"-m", base(), "--lora", adapter(), "-p", "Hello world", "-n", "6", "--temp", "0", "--jsonl",
                      "-v"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  std::vector<int> ids;
  for (const auto& j : json_lines(r.out))
    if (j.contains("token")) ids.push_back(j["token"].get<int>());
  EXPECT_EQ(ids, ref_greedy(6));
  EXPECT_NE(r.err.find("lmgen: LoRA " + adapter() + " (PEFT, r 4, lora_alpha 8, alpha/r = 2) x scale 1: 14 weight "
                       "matrices"),
            std::string::npos)
      << r.err;
  auto b = run_lmgen({"-m", base(), "--lora", adapter() + ":1", "--batch", "-n", "6", "--temp", "0", "-q"}, 20,
                     "Hello world\n", true);
  ASSERT_EQ(b.exit_code, 0) << b.describe();
  EXPECT_EQ(json_lines(b.out).at(0)["tokens"].get<std::vector<int>>(), ref_greedy(6));
}

TEST(CliLora, ChatScoreBenchTakeTheAdapter) {
  for (const std::vector<std::string>& cmd :
       {std::vector<std::string>{"chat", "--help"}, {"score", "--help"}, {"bench", "--help"}, {"convert", "--help"},
        {"--help"}}) {
    auto r = run_lmgen(cmd);
    EXPECT_NE(r.out.find("--lora"), std::string::npos) << cmd[0];
  }
  // score: the adapter changes the perplexity; scale 0 is the base model exactly.
  auto score = [](const std::vector<std::string>& extra) {
    std::vector<std::string> a = {"score", "-m", base(), "-p", "The quick brown fox jumps over the lazy dog.", "-c",
                                  "16", "--stride", "16", "--jsonl", "-q"};
    a.insert(a.end(), extra.begin(), extra.end());
    auto r = run_lmgen(a);
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    return json_lines(r.out).back()["cross_entropy"].get<double>();
  };
  const double plain = score({}), tuned = score({"--lora", adapter()}), zero = score({"--lora", adapter() + ":0"});
  EXPECT_NE(plain, tuned);
  EXPECT_EQ(plain, zero);
  auto bench = run_lmgen({"bench", "-m", base(), "--lora", adapter(), "-p", "4", "-n", "4", "-r", "1", "--jsonl", "-q"});
  ASSERT_EQ(bench.exit_code, 0) << bench.describe();
  EXPECT_EQ(json_lines(bench.out).size(), 2u);
  // chat: one turn from standard input, with and without the adapter.
  auto chat = [](const std::vector<std::string>& extra) {
    std::vector<std::string> a = {"chat", "-m", shared_path("fixtures/tiny-qwen2/hf"), "-n", "4", "--temp", "0", "-q"};
    a.insert(a.end(), extra.begin(), extra.end());
    auto r = run_lmgen(a, 30, "Hello\n", true);
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    return r.out;
  };
  EXPECT_NE(chat({}), chat({"--lora", shared_path("fixtures/tiny-qwen2-lora")}));
}

TEST(CliLora, RefusedAdapterIsOneLineExitOne) {
  auto r = run_lmgen({"-m", base(), "--lora", shared_path("fixtures/tiny-qwen2-lora"), "-p", "x", "-n", "1"});
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_NE(r.one_line_err().find("shape mismatch"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

// convert --lora writes one merged file that runs without the adapter.
TEST(CliLora, ConvertWritesAMergedModel) {
  const std::string out = lmgen::test::scratch_dir() + "/cli-merged.gguf";
  auto c = run_lmgen({"convert", base(), out, "--lora", adapter(), "-q"});
  ASSERT_EQ(c.exit_code, 0) << c.describe();
  auto r = run_lmgen({"-m", out, "-p", "Hello world", "-n", "6", "--temp", "0", "--jsonl", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  std::vector<int> ids;
  for (const auto& j : json_lines(r.out))
    if (j.contains("token")) ids.push_back(j["token"].get<int>());
  EXPECT_EQ(ids, ref_greedy(6));
}

// score --sft: one line per example in input order, a summary weighted by tokens; --compare gives both models'
// figures per example, each equal to its own run.
TEST(CliLora, ScoreSftAndCompare) {
  const std::string file = lmgen::test::scratch_dir() + "/sft.jsonl";
  std::ofstream(file) << "{\"prompt\": \"Hello\", \"completion\": \" world\"}\n"
                         "\n"
                         "{\"text\": \"The quick brown fox jumps over the lazy dog.\"}\n"
                         "{\"nothing\": 1}\n";
  auto run = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> a = {"score", "-m", base(), "--sft", file, "-q"};
    a.insert(a.end(), extra.begin(), extra.end());
    auto r = run_lmgen(a);
    EXPECT_EQ(r.exit_code, 1) << r.describe();  // the third example is in no format
    return json_lines(r.out);
  };
  const auto plain = run({}), tuned = run({"--lora", adapter()}), cmp = run({"--lora", adapter(), "--compare"});
  ASSERT_EQ(plain.size(), 4u);
  EXPECT_EQ(plain[0]["index"], 0);
  EXPECT_EQ(plain[0]["tokens_scored"], 1);
  EXPECT_EQ(plain[1]["tokens_scored"], 12);
  EXPECT_TRUE(plain[2].contains("error"));
  EXPECT_EQ(plain[3]["done"], true);
  EXPECT_EQ(plain[3]["examples"], 2);
  EXPECT_EQ(plain[3]["tokens_scored"], 13);
  const double weighted =
      (plain[0]["cross_entropy"].get<double>() * 1 + plain[1]["cross_entropy"].get<double>() * 12) / 13;
  EXPECT_NEAR(plain[3]["cross_entropy"].get<double>(), weighted, 1e-12);
  EXPECT_NEAR(plain[3]["perplexity"].get<double>(), std::exp(weighted), 1e-9);
  ASSERT_EQ(cmp.size(), 4u);
  for (int i : {0, 1}) {
    EXPECT_EQ(cmp[i]["cross_entropy"], tuned[i]["cross_entropy"]);
    EXPECT_EQ(cmp[i]["cross_entropy_base"], plain[i]["cross_entropy"]);
    EXPECT_EQ(cmp[i]["delta"].get<double>(),
              tuned[i]["cross_entropy"].get<double>() - plain[i]["cross_entropy"].get<double>());
  }
  EXPECT_EQ(cmp[3]["cross_entropy_base"], plain[3]["cross_entropy"]);
  // The text example equals plain `score` over the same text (one window, every token after BOS).
  auto s = run_lmgen({"score", "-m", base(), "-p", "The quick brown fox jumps over the lazy dog.", "-c", "13",
                      "--stride", "13", "--parse-special", "--jsonl", "-q"});
  ASSERT_EQ(s.exit_code, 0) << s.describe();
  EXPECT_EQ(json_lines(s.out).back()["cross_entropy"], plain[1]["cross_entropy"]);
  EXPECT_EQ(run_lmgen({"score", "-m", base(), "--sft", file, "--compare"}).exit_code, 2);  // --compare needs --lora
}
