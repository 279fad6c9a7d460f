// Command-line mistakes and unusable inputs, run through the real `lmgen` binary (LMGEN_BINARY): each must end
// with exit status 2 (a usage mistake) or 1 (anything else) and exactly one line on stderr that says what is wrong
// and, where there is one, names the file. See docs/robustness.md for the list of behaviours.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common.hpp"
#include "gguf_layout.hpp"
#include "lmgen_run.hpp"

using lmgen::test::stories_gguf;
using lmgen::test::write_scratch;

namespace fs = std::filesystem;
using lmgen::test::clean_failure;
using lmgen::test::run_lmgen;

namespace {

std::vector<std::string> gen(const std::string& model, std::vector<std::string> extra) {
  std::vector<std::string> a = {"-m", model, "-p", "Once", "-n", "2", "--temp", "0"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

}  // namespace

// The baseline the error cases are compared with: the same command line succeeds on a good model.
TEST(CliErrors, GoodRunSucceeds) {
  auto r = run_lmgen(gen(stories_gguf(), {}));
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_FALSE(r.out.empty());
}

TEST(CliErrors, MissingModelFile) {
  const std::string p = lmgen::test::scratch_dir() + "/no-such-model.gguf";
  EXPECT_TRUE(clean_failure(run_lmgen(gen(p, {})), 1, p));
}

TEST(CliErrors, DirectoryWithoutConfigJson) {
  const std::string d = lmgen::test::scratch_dir() + "/empty-model-dir";
  fs::create_directories(d);
  auto r = run_lmgen(gen(d, {}));
  EXPECT_TRUE(clean_failure(r, 1, d));
  EXPECT_NE(r.err.find("config.json"), std::string::npos) << r.err;
}

TEST(CliErrors, NotAModelFile) {
  const std::string p = write_scratch("notes.txt", "These are my notes, not a model.\n");
  EXPECT_TRUE(clean_failure(run_lmgen(gen(p, {})), 1, p));
  const std::string empty = write_scratch("empty.gguf", "");
  EXPECT_TRUE(clean_failure(run_lmgen(gen(empty, {})), 1, empty));
}

TEST(CliErrors, UnknownFlagIsUsage) {
  EXPECT_TRUE(clean_failure(run_lmgen(gen(stories_gguf(), {"--no-such-flag"})), 2, "--no-such-flag"));
}

TEST(CliErrors, NPredictBelowMinusOneIsUsage) {
  EXPECT_TRUE(clean_failure(run_lmgen({"-m", stories_gguf(), "-p", "hi", "-n", "-2"}), 2, ""));
  EXPECT_TRUE(clean_failure(run_lmgen({"-m", stories_gguf(), "-p", "hi", "-n", "-1000000"}), 2, ""));
  EXPECT_TRUE(clean_failure(run_lmgen({"-m", stories_gguf(), "-p", "hi", "-n", "lots"}), 2, ""));
}

TEST(CliErrors, NegativeTemperatureIsUsage) {
  EXPECT_TRUE(clean_failure(run_lmgen({"-m", stories_gguf(), "-p", "hi", "--temp", "-0.5"}), 2, "temp"));
  EXPECT_TRUE(clean_failure(run_lmgen({"-m", stories_gguf(), "-p", "hi", "--temp", "nan"}), 2, "temp"));
}

TEST(CliErrors, TopPOutsideZeroOneIsUsage) {
  for (const char* p : {"0", "-0.1", "1.5", "nan"})
    EXPECT_TRUE(clean_failure(run_lmgen({"-m", stories_gguf(), "-p", "hi", "--top-p", p}), 2, "")) << "--top-p " << p;
  auto ok = run_lmgen(gen(stories_gguf(), {"--top-p", "1"}));
  EXPECT_EQ(ok.exit_code, 0) << ok.describe();
}

// Option problems are reported before the model is loaded: a bad flag with a missing model is still a usage error.
TEST(CliErrors, UsageCheckedBeforeLoading) {
  EXPECT_TRUE(clean_failure(run_lmgen({"-m", "/no/such/model.gguf", "-p", "hi", "--temp", "-1"}), 2, ""));
}

TEST(CliErrors, PromptLongerThanContext) {
  std::string prompt;
  for (int i = 0; i < 200; ++i) prompt += "Once upon a time ";
  auto r = run_lmgen({"-m", stories_gguf(), "-c", "16", "-p", prompt, "-n", "1", "--temp", "0"});
  EXPECT_TRUE(clean_failure(r, 1, "context"));
}

// Invalid UTF-8 in the prompt is tokenized as the bytes given (byte-fallback tokens); lmgen does not refuse or
// repair it. It must not crash, and the output stream is whatever the model generates.
TEST(CliErrors, InvalidUtf8PromptIsTokenizedAsBytes) {
  const std::string bad = "Once \xff\xfe\xc3 upon \xe2\x82";
  auto b = run_lmgen({"-m", stories_gguf(), "-p", bad, "-n", "2", "--temp", "0"});
  EXPECT_EQ(b.exit_code, 0) << b.describe();
  EXPECT_EQ(b.err.find("Sanitizer"), std::string::npos) << b.err;
  // the tokenize command shows the ids: the bytes 0xff, 0xfe survive as byte tokens
  auto t = run_lmgen({"tokenize", "-m", stories_gguf(), "-p", bad});
  EXPECT_EQ(t.exit_code, 0) << t.describe();
}

TEST(CliErrors, TokenizerFromAnotherModel) {
  // The GPT-2 tokenizer (50257 tokens) with stories260K (512): refused, naming the model.
  const std::string tok = lmgen::test::shared_path("tokenizers/gpt2/tokenizer.json");
  auto r = run_lmgen(gen(stories_gguf(), {"--tokenizer", tok}));
  EXPECT_TRUE(clean_failure(r, 1, "tokenizer"));
}

TEST(CliErrors, UnknownArchitectureGguf) {
  std::string f = lmgen::test::read_file(stories_gguf());
  auto L = lmgen::test::GgufLayout::parse(f);
  const auto& a = L.kv("general.architecture");
  f.replace(a.value_off + 8, 5, "mamba");
  const std::string p = write_scratch("mamba.gguf", f);
  auto r = run_lmgen(gen(p, {}));
  EXPECT_TRUE(clean_failure(r, 1, p));
  EXPECT_NE(r.err.find("mamba"), std::string::npos) << r.err;
}

TEST(CliErrors, UnknownArchitectureHf) {
  const std::string d = lmgen::test::scratch_dir() + "/bert-dir";
  fs::create_directories(d);
  std::ofstream(d + "/config.json") << R"({"architectures": ["BertModel"], "model_type": "bert", "hidden_size": 64,
    "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 100,
    "max_position_embeddings": 64})";
  auto r = run_lmgen(gen(d, {}));
  EXPECT_TRUE(clean_failure(r, 1, d));
  EXPECT_NE(r.err.find("Bert"), std::string::npos) << r.err;
}

TEST(CliErrors, Llama2cCheckpointWithoutTokenizerIsUsage) {
  // A checkpoint copied alone into a directory without tokenizer.bin.
  const std::string p = lmgen::test::scratch_dir() + "/lonely/stories260K.bin";
  fs::create_directories(fs::path(p).parent_path());
  std::error_code ec;
  fs::remove(p, ec);
  fs::create_symlink(lmgen::test::shared_path("models/stories260K/stories260K.bin"), p);
  auto r = run_lmgen(gen(p, {}));
  EXPECT_TRUE(clean_failure(r, 2, "--tokenizer"));
}

TEST(CliErrors, MissingTokenizerFile) {
  const std::string t = lmgen::test::scratch_dir() + "/no-such-tokenizer.json";
  EXPECT_TRUE(clean_failure(run_lmgen(gen(stories_gguf(), {"--tokenizer", t})), 1, t));
}

TEST(CliErrors, MissingPromptFile) {
  const std::string t = lmgen::test::scratch_dir() + "/no-such-prompt.txt";
  EXPECT_TRUE(clean_failure(run_lmgen({"-m", stories_gguf(), "-f", t, "-n", "1"}), 1, t));
}
