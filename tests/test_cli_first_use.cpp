// What a new user meets first (issue 27): an empty -m from an unset variable, numbers beyond an option's range,
// a directory given as the prompt file, a context beyond what lmgen allocates, a misspelt subcommand, a type
// convert cannot write; chat -v's seed; the help and README texts agreeing with what the commands do; and
// tools/test.sh without the shared material.
#include <gtest/gtest.h>

#include <regex>

#include "common.hpp"
#include "lmgen/generator.hpp"
#include "lmgen_run.hpp"

namespace lmgen::test {
namespace {

std::string readme() { return read_file(std::string(LMGEN_SOURCE_DIR) + "/README.md"); }

TEST(CliFirstUse, EmptyModelPathIsAUsageError) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"-m", "", "-p", "Once", "-n", "2"},
                                             {"tokenize", "-m", "", "-p", "x"},
                                             {"bench", "-m", ""},
                                             {"chat", "-m", "", "-p", "x"},
                                             {"-m", stories_gguf(), "-f", "", "-n", "2"},
                                             {"tokenize", "-m", stories_gguf(), "--tokenizer", "", "-p", "x"},
                                             {"quantize", "", scratch_dir() + "/first-use.gguf", "q8_0"},
                                             {"quantize", stories_gguf(), "", "q8_0"},
                                             {"convert", "", scratch_dir() + "/first-use.gguf"},
                                             {"chat", "-m", stories_gguf(), "--chat-template-file", "", "-p", "x"},
                                             {"chat", "-m", stories_gguf(), "--messages", "", "-p", "x"},
                                             {"score", "-m", stories_gguf(), "--sft", ""},
                                             {"-m", stories_gguf(), "--lora", "", "-p", "x"}}) {
    const RunResult r = run_lmgen(args, 20, "", true, {"LMGEN_MODEL="});
    EXPECT_TRUE(clean_failure(r, 2, "empty path")) << args[0] << " " << args[1] << ": " << r.describe();
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

// Every 64-bit integer option (narrower ones CLI11 itself refuses, as -n shows).
TEST(CliFirstUse, NumbersBeyondAnOptionsRangeAreRefusedNotClamped) {
  const std::string m = stories_gguf();
  const std::string huge = "99999999999999999999999";
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"-m", m, "-p", "Once", "-n", "2", "-s", huge},
           {"-m", m, "-p", "Once", "-n", huge},
           {"chat", "-m", m, "-p", "Hi", "-n", "2", "-s", huge},
           {"bench", "-m", m, "-s", huge},
           {"bench", "-m", m, "-p", huge},
           {"score", "-m", m, "-p", "Once upon", "--stride", huge},
           {"serve", "-m", m, "-s", huge},
           {"serve", "-m", m, "--max-body", huge},
           {"serve", "-m", m, "--max-queue", huge},
           {"serve", "-m", m, "--max-queue", "-1"},
           {"-m", m, "-p", "Once", "-n", "2", "-c", huge}}) {
    const RunResult r = run_lmgen(args, 20);
    EXPECT_TRUE(clean_failure(r, 2, "")) << args[args.size() - 2] << " " << args.back() << ": " << r.describe();
  }
  // The largest seed is still a seed.
  EXPECT_EQ(run_lmgen({"-m", m, "-p", "Once", "-n", "2", "-s", "9223372036854775807"}).exit_code, 0);
}

TEST(CliFirstUse, PromptFileThatIsADirectoryIsNamed) {
  const std::string dir = scratch_dir();
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"-m", stories_gguf(), "-f", dir, "-n", "2"}, {"tokenize", "-m", stories_gguf(), "-f", dir},
           {"tokenize", "-m", stories_gguf(), "-f", dir, "--jsonl"}, {"chat-template", "-m", stories_gguf(), "-f", dir}}) {
    const RunResult r = run_lmgen(args, 20);
    EXPECT_TRUE(clean_failure(r, 1, dir + ": ")) << args[0] << ": " << r.describe();
  }
}

TEST(CliFirstUse, ContextBeyondTheLimitSaysTheLimitWithoutAWarning) {
  const RunResult r = run_lmgen({"-m", stories_gguf(), "-p", "Once", "-n", "2", "-c", "100000000"});
  EXPECT_TRUE(clean_failure(r, 2, "4194304")) << r.describe();
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
}

TEST(CliFirstUse, UnknownSubcommandListsTheSubcommands) {
  const RunResult r = run_lmgen({"tokenise", "-m", stories_gguf()});
  EXPECT_TRUE(clean_failure(r, 2, "tokenise")) << r.describe();
  for (const char* sub : {"tokenize", "detokenize", "score", "bench", "quantize", "chat", "chat-template", "convert",
                          "serve"})
    EXPECT_NE(r.err.find(std::string(" ") + sub), std::string::npos) << sub << " not listed: " << r.err;
}

TEST(CliFirstUse, ConvertNamesItselfForAnUnknownType) {
  const std::string out = scratch_dir() + "/first-use-convert.gguf";
  const RunResult r = run_lmgen({"convert", shared_path("fixtures/tiny-llama/hf"), out, "--type", "q3_k"});
  EXPECT_TRUE(clean_failure(r, 2, "convert: unknown --type 'q3_k'")) << r.describe();
  EXPECT_NE(r.err.find("q4_k_m"), std::string::npos) << "the valid types are listed: " << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_FALSE(std::filesystem::exists(out + ".f32-tmp.gguf")) << "no conversion before the type is checked";
}

TEST(CliFirstUse, ChatVerboseReportsTheSeedAndSamplers) {
  const RunResult r = run_lmgen({"chat", "-m", shared_path("fixtures/tiny-qwen2/model-q8_0.gguf"), "-p", "Hi", "-n",
                                 "3", "-s", "1234", "-v"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.err.find("lmgen: seed 1234\n"), std::string::npos) << r.err;
  const RunResult g = run_lmgen({"-m", stories_gguf(), "-p", "Once", "-n", "2", "-s", "1234", "-v"});
  // The same sampler chain line as generation's.
  const std::regex line("lmgen: sampler chain: [^\n]+\n");
  std::smatch mc, mg;
  ASSERT_TRUE(std::regex_search(r.err, mc, line)) << r.err;
  ASSERT_TRUE(std::regex_search(g.err, mg, line)) << g.err;
  EXPECT_EQ(mc.str(), mg.str());
}

TEST(CliFirstUse, DetokenizeHelpListsNoPromptOnlyOptions) {
  const RunResult r = run_lmgen({"detokenize", "--help"});
  ASSERT_EQ(r.exit_code, 0);
  for (const char* opt : {"--no-add-special", "--no-parse-special"})
    EXPECT_EQ(r.out.find(opt), std::string::npos) << opt << " in: " << r.out;
  EXPECT_NE(r.out.find("--skip-special"), std::string::npos);
}

// README's list of stop_reason values is the code's.
TEST(CliFirstUse, ReadmeListsEveryStopReason) {
  const std::string text = readme();
  const size_t at = text.find("\"stop_reason\": \"eos\"");
  ASSERT_NE(at, std::string::npos);
  const std::string list = text.substr(at, text.find('}', at) - at);
  for (StopReason s : {StopReason::Eos, StopReason::Length, StopReason::Context, StopReason::Stop,
                       StopReason::Interrupted})
    EXPECT_NE(list.find(std::string("\"") + stop_reason_name(s) + "\""), std::string::npos)
        << stop_reason_name(s) << " missing from README: " << list;
}

// README's tokenize / detokenize lines print what README shows, on the Llama 2 vocabulary they are written for.
TEST(CliFirstUse, ReadmeTokenizeDetokenizeExampleHolds) {
  const std::string text = readme();
  const std::regex tok_line(R"(lmgen tokenize -m model\.gguf -p "Hello world" +# (\[[0-9,]+\]))");
  const std::regex detok_line(
      R"(echo '(\[[0-9,]+\])' \| lmgen detokenize -m model\.gguf +# (.+))");
  std::smatch t, d;
  ASSERT_TRUE(std::regex_search(text, t, tok_line));
  ASSERT_TRUE(std::regex_search(text, d, detok_line));
  EXPECT_EQ(t[1].str(), d[1].str()) << "detokenize is fed what tokenize prints";
  const std::string m = shared_path("vocab/ggml-vocab-llama-spm.gguf");
  const RunResult ids = run_lmgen({"tokenize", "-m", m, "-p", "Hello world"});
  ASSERT_EQ(ids.exit_code, 0) << ids.describe();
  EXPECT_EQ(ids.out, t[1].str() + "\n");
  const RunResult all = run_lmgen({"detokenize", "-m", m}, 20, d[1].str(), true);
  EXPECT_EQ(all.out, d[2].str()) << all.describe();
}

TEST(CliFirstUse, TestScriptWithoutSharedMaterialSaysWhereItLooked) {
  const RunResult r = run_process("/bin/bash", {std::string(LMGEN_SOURCE_DIR) + "/tools/test.sh"}, 30, "", false,
                                  {"LMGEN_SHARED=/nonexistent/shared"});
  ASSERT_FALSE(r.timed_out) << "it went on to build and test";
  EXPECT_NE(r.exit_code, 0);
  const std::string line = r.one_line_err();
  EXPECT_NE(line.find("/nonexistent/shared"), std::string::npos) << r.err;
  EXPECT_NE(line.find("LMGEN_SHARED="), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

}  // namespace
}  // namespace lmgen::test
