// Streaming and stopping: --batch answers a line before stdin is closed; batch lines are validated one by one
// (exit 1 when any failed) and honour n_probs; a real SIGINT / SIGTERM stops batch, tokenize, detokenize, score and
// quantize promptly with exit 130 (quantize leaves no output file); the progress bar appears on a terminal only.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "common.hpp"
#include "format/gguf_writer.hpp"
#include "lmgen_child.hpp"
#include "lmgen_run.hpp"

using lmgen::test::json_lines;
using lmgen::test::stories_gguf;

namespace {

namespace fs = std::filesystem;
using lmgen::test::Child;

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace

TEST(CliStream, BatchAnswersEachLineBeforeStdinIsClosed) {
  Child c({"-m", stories_gguf(), "--batch", "-n", "4", "--temp", "0", "-q"});
  ASSERT_TRUE(c.started());
  c.write_stdin("Once upon a time\n");
  ASSERT_EQ(json_lines(c.read_lines(1, 20)).size(), 1u) << "no answer while stdin stays open; stderr: " << c.err();
  c.write_stdin("{\"prompt\": \"Lily\", \"n\": 2}\n");
  auto res = json_lines(c.read_lines(2, 20));
  ASSERT_EQ(res.size(), 2u);
  c.close_stdin();
  EXPECT_EQ(c.wait(20), 0) << c.err();
  EXPECT_EQ(res[0]["prompt_index"], 0);
  EXPECT_EQ(res[1]["prompt_index"], 1);
  EXPECT_EQ(res[1]["generated_tokens"], 2);
}

TEST(CliStream, BatchLinesAreValidatedOneByOne) {
  const std::vector<std::string> bad = {
      "{\"promt\": \"x\"}", "{\"prompt\": 5}", "{\"prompt\": \"x\", \"top_k\": \"many\"}",
      "{\"prompt\": \"x\", \"temp\": 0, \"colour\": 1}", "{not json", "{\"prompt\": \"x\", \"stop\": [1]}",
      "{\"prompt\": \"x\", \"n\": 1e99}"};
  std::string input = "Once\n";
  for (const auto& b : bad) input += b + "\n";
  input += "{\"prompt\": \"Lily\", \"n\": 3, \"temp\": 0}\n";
  auto r = lmgen::test::run_lmgen({"-m", stories_gguf(), "--batch", "-n", "2", "-q"}, 60, input, true);
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  auto res = json_lines(r.out);
  ASSERT_EQ(res.size(), bad.size() + 2);
  EXPECT_FALSE(res.front().contains("error"));
  EXPECT_EQ(res.back()["generated_tokens"], 3);
  for (size_t i = 1; i <= bad.size(); ++i) {
    EXPECT_EQ(res[i]["prompt_index"], i);
    ASSERT_TRUE(res[i].contains("error")) << bad[i - 1] << " was generated: " << res[i].dump();
    EXPECT_FALSE(res[i].contains("text")) << bad[i - 1];
    const std::string e = res[i]["error"];
    EXPECT_EQ(e.find("json.exception"), std::string::npos) << e;
  }
  EXPECT_NE(res[1]["error"].get<std::string>().find("promt"), std::string::npos);
  EXPECT_NE(res[2]["error"].get<std::string>().find("\"prompt\""), std::string::npos);
  EXPECT_NE(res[3]["error"].get<std::string>().find("top_k"), std::string::npos);
}

TEST(CliStream, BatchHonoursNProbs) {
  auto r = lmgen::test::run_lmgen({"-m", stories_gguf(), "--batch", "-n", "3", "--temp", "0", "--n-probs", "4", "-q"}, 60,
                                  "Once\n{\"prompt\": \"Lily\", \"n_probs\": 2}\n", true);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto res = json_lines(r.out);
  ASSERT_EQ(res.size(), 2u);
  ASSERT_EQ(res[0]["probs"].size(), 3u);
  for (const auto& p : res[0]["probs"]) {
    EXPECT_EQ(p["top"].size(), 4u);
    EXPECT_LE(p["logprob"].get<double>(), 0.0);
  }
  EXPECT_EQ(res[0]["probs"][0]["token"], res[0]["tokens"][0]);
  EXPECT_EQ(res[1]["probs"][0]["top"].size(), 2u);
}

TEST(CliStream, SigintAndSigtermStopBatchAndKeepWhatWasAnswered) {
  for (int sig : {SIGINT, SIGTERM}) {
    Child c({"-m", stories_gguf(), "--batch", "-n", "4", "--temp", "0", "-q"});
    c.write_stdin("Once\n");
    ASSERT_EQ(json_lines(c.read_lines(1, 20)).size(), 1u);
    const auto t0 = std::chrono::steady_clock::now();
    c.signal(sig);
    EXPECT_EQ(c.wait(5), 130) << "signal " << sig << "; stderr: " << c.err();
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 2.0);
    EXPECT_EQ(json_lines(c.out()).size(), 1u);
  }
}

TEST(CliStream, SigintStopsTokenizeAndDetokenizeWhileTheyWaitForInput) {
  for (const std::string sub : {"tokenize", "detokenize"}) {
    for (const bool jsonl : {false, true}) {
      std::vector<std::string> args = {sub, "-m", stories_gguf()};
      if (jsonl) args.push_back("--jsonl");
      Child c(args);
      if (jsonl) c.write_stdin(sub == "tokenize" ? "{\"text\": \"Hi\"}\n" : "{\"ids\": [1, 403]}\n");
      if (jsonl) {
        ASSERT_EQ(c.read_lines(1, 20).empty(), false) << sub;
      }
      sleep_ms(500);  // the tokenizer is loaded and the command waits on its input
      c.signal(SIGINT);
      EXPECT_EQ(c.wait(5), 130) << sub << (jsonl ? " --jsonl" : "") << "; stderr: " << c.err();
    }
  }
}

TEST(CliStream, SigintStopsScoreAndReportsWhatWasScored) {
  const std::string text_path = lmgen::test::scratch_dir() + "/long-score.txt";
  {
    std::ofstream f(text_path);
    for (int i = 0; i < 60000; ++i) f << "Once upon a time there was a little girl named Lily. ";
  }
  Child c({"score", "-m", stories_gguf(), "-f", text_path, "-c", "64", "-t", "1", "--jsonl"});
  ASSERT_FALSE(c.read_lines(1, 60).empty()) << "scoring did not start; stderr: " << c.err();  // scoring under way
  const auto t0 = std::chrono::steady_clock::now();
  c.signal(SIGINT);
  EXPECT_EQ(c.wait(10), 130) << c.err();
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 2.0);
  const std::string& out = c.out();
  const size_t last = out.rfind('\n', out.size() - 2);
  const auto done = nlohmann::json::parse(out.substr(last == std::string::npos ? 0 : last + 1));
  EXPECT_EQ(done["done"], true);
  EXPECT_EQ(done["interrupted"], true);
  EXPECT_GT(done["tokens_scored"].get<int64_t>(), 0);
}

TEST(CliStream, SigintStopsQuantizeAndLeavesNoOutput) {
  // A model big enough that re-encoding takes seconds: many 1024×1024 F32 matrices of varied values.
  const std::string in = lmgen::test::scratch_dir() + "/big-for-signal.gguf";
  const std::string out = lmgen::test::scratch_dir() + "/big-for-signal-q6.gguf";
  if (!fs::exists(in)) {
    lmgen::GgufWriter w;
    w.set_string("general.architecture", "llama");
    for (int t = 0; t < 48; ++t)
      w.add_tensor("blk." + std::to_string(t) + ".ffn_up.weight", lmgen::DType::F32, {1024, 1024},
                   [t](uint8_t* dst, size_t n) {
                     auto* f = reinterpret_cast<float*>(dst);
                     for (size_t i = 0; i < n / 4; ++i) f[i] = static_cast<float>((i * 2654435761u + t) % 1000) / 500 - 1;
                   });
    w.write(in);
  }
  std::error_code ec;
  fs::remove(out, ec);
  Child c({"quantize", in, out, "q4_k_m", "-t", "1"});
  for (int i = 0; i < 3000 && !fs::exists(out + ".tmp"); ++i) sleep_ms(10);  // writing has begun
  ASSERT_TRUE(fs::exists(out + ".tmp")) << c.err();
  c.signal(SIGINT);
  EXPECT_EQ(c.wait(10), 130) << c.err();
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out + ".tmp"));
  EXPECT_EQ(c.err().find("->"), std::string::npos) << "a success line after Ctrl-C: " << c.err();
}

TEST(CliStream, ProgressBarOnlyOnATerminal) {
  // Under a pseudo-terminal (script(1)) score draws a bar with '\r'; with stderr a file, nothing but the summary.
  const std::string text_path = lmgen::test::scratch_dir() + "/progress-score.txt";
  {
    std::ofstream f(text_path);
    for (int i = 0; i < 800; ++i) f << "Once upon a time there was a little girl named Lily. ";
  }
  const std::string cmd = std::string(LMGEN_BINARY) + " score -m " + stories_gguf() + " -f " + text_path + " -c 64";
  if (std::system("command -v script >/dev/null 2>&1") != 0) GTEST_SKIP() << "script(1) not installed";
  const std::string log = lmgen::test::scratch_dir() + "/progress-tty.log";
  const std::string run = "script -qec '" + cmd + " 2>&1 >/dev/null' " + log + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(run.c_str()), 0);
  const std::string tty = lmgen::test::read_file(log);
  EXPECT_NE(tty.find("tokens"), std::string::npos) << tty;
  EXPECT_NE(tty.find('\r'), std::string::npos) << tty;
  // -q at a terminal: no bar.
  const std::string run_q = "script -qec '" + cmd + " -q 2>&1 >/dev/null' " + log + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(run_q.c_str()), 0);
  EXPECT_EQ(lmgen::test::read_file(log).find("tokens/s"), std::string::npos);
  // Colour only when asked with --color, and never with NO_COLOR set.
  EXPECT_EQ(tty.find("\033[32m"), std::string::npos) << "colour without --color";
  const std::string run_c = "script -qec '" + cmd + " --color 2>&1 >/dev/null' " + log + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(run_c.c_str()), 0);
  EXPECT_NE(lmgen::test::read_file(log).find("\033[32m"), std::string::npos);
  const std::string run_nc = "NO_COLOR=1 script -qec '" + cmd + " --color 2>&1 >/dev/null' " + log + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(run_nc.c_str()), 0);
  EXPECT_EQ(lmgen::test::read_file(log).find("\033[32m"), std::string::npos);
  // Not a terminal: stderr is empty.
  auto r = lmgen::test::run_lmgen({"score", "-m", stories_gguf(), "-f", text_path, "-c", "64"}, 60);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.err, "");
}
