// The command line as a whole: every subcommand × (options after it, options before it, unknown option, llama.cpp
// spelling, bad value) with exit status, stdout and the one-line stderr; per-subcommand --help; --version; the
// random seed reported and replayable; "bytes" rebuilding byte-fallback pieces; llama2.c tokenizer discovery.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <sstream>
#include <string>
#include <vector>
#include <nlohmann/json.hpp>

#include "common.hpp"
#include "lmgen_run.hpp"

using lmgen::test::json_lines;
using lmgen::test::stories_gguf;

namespace {

namespace fs = std::filesystem;
using lmgen::test::run_lmgen;

struct Case {
  std::string name;
  std::vector<std::string> args;
  int exit_code;
  std::function<bool(const std::string&)> stdout_ok;  // checked when exit 0
  std::string err_contains;                          // checked when exit != 0: the one line names this
};

bool is_json_array(const std::string& s) { return nlohmann::json::parse(s, nullptr, false).is_array(); }
bool nonempty(const std::string& s) { return !s.empty(); }

std::vector<Case> cases() {
  const std::string m = stories_gguf();
  const std::string out = lmgen::test::scratch_dir() + "/conv-q8.gguf";
  return {
      // generation (no subcommand)
      {"gen after", {"-m", m, "-p", "Once", "-n", "3", "--temp", "0"}, 0, nonempty, ""},
      {"gen unknown", {"-m", m, "--bogus"}, 2, nullptr, "--bogus"},
      {"gen llama alias", {"-m", m, "-p", "Once", "-n", "3", "--temp", "0", "--log-disable", "-no-cnv"}, 0, nonempty, ""},
      {"gen llama refused", {"-m", m, "-ngl", "99"}, 2, nullptr, "-ngl: lmgen runs on the CPU only"},
      {"gen bad value", {"-m", m, "-n", "many"}, 2, nullptr, "lmgen --help"},
      {"gen two subcommands", {"tokenize", "-m", m, "-p", "x", "score"}, 2, nullptr, "lmgen tokenize --help"},
      // tokenize
      {"tokenize after", {"tokenize", "-m", m, "-p", "Hello"}, 0, is_json_array, ""},
      {"tokenize before", {"-m", m, "tokenize", "-p", "Hello"}, 2, nullptr, "lmgen tokenize --help"},
      {"tokenize prompt before", {"-p", "Hello", "tokenize"}, 2, nullptr, "--prompt"},
      {"tokenize unknown", {"tokenize", "-m", m, "--bogus"}, 2, nullptr, "lmgen tokenize --help"},
      {"tokenize llama alias", {"tokenize", "-m", m, "-p", "Hello", "--log-disable"}, 0, is_json_array, ""},
      {"tokenize llama refused", {"tokenize", "-m", m, "-p", "x", "--mlock"}, 2, nullptr, "--mlock: "},
      {"tokenize bad value", {"tokenize", "-m", m, "--jsonl=maybe"}, 2, nullptr, "lmgen tokenize --help"},
      // detokenize
      {"detokenize after", {"detokenize", "-m", m, "-p", "[1,403]"}, 0, nonempty, ""},
      {"detokenize before", {"-m", m, "detokenize", "-p", "[1]"}, 2, nullptr, "lmgen detokenize --help"},
      {"detokenize unknown", {"detokenize", "-m", m, "--bogus"}, 2, nullptr, "lmgen detokenize --help"},
      {"detokenize llama alias", {"detokenize", "-m", m, "-p", "[1,403]", "--log-disable"}, 0, nonempty, ""},
      {"detokenize bad value", {"detokenize", "-m", m, "-p", "[1, \"x\"]"}, 2, nullptr, "lmgen detokenize --help"},
      // score
      {"score after", {"score", "-m", m, "-p", "Once upon a time there was a girl", "-c", "8"}, 0, nonempty, ""},
      {"score before", {"-c", "8", "score", "-m", m, "-p", "x"}, 2, nullptr, "lmgen score --help"},
      {"score unknown", {"score", "-m", m, "--bogus"}, 2, nullptr, "lmgen score --help"},
      {"score llama alias", {"score", "-m", m, "-p", "Once upon a time there was a girl", "-c", "8", "--log-disable"},
       0, nonempty, ""},
      {"score bad value", {"score", "-m", m, "-c", "abc"}, 2, nullptr, "must be an integer"},
      // bench
      {"bench after", {"bench", "-m", m, "-p", "8", "-n", "4", "-r", "1"}, 0, nonempty, ""},
      {"bench before", {"-m", m, "bench"}, 2, nullptr, "lmgen bench --help"},
      {"bench unknown", {"bench", "-m", m, "--bogus"}, 2, nullptr, "lmgen bench --help"},
      {"bench llama refused", {"bench", "-m", m, "-fa", "1"}, 2, nullptr, "-fa: "},
      {"bench bad value", {"bench", "-m", m, "-r", "x"}, 2, nullptr, "lmgen bench --help"},
      // quantize
      {"quantize llama positional", {"quantize", m, out, "Q8_0", "-q"}, 0, [](const std::string& s) { return s.empty(); },
       ""},
      {"quantize before", {"-q", "quantize", m, out, "q8_0"}, 2, nullptr, "lmgen quantize --help"},
      {"quantize unknown", {"quantize", m, out, "q8_0", "--bogus"}, 2, nullptr, "lmgen quantize --help"},
      {"quantize bad value", {"quantize", m, out, "q3_z"}, 2, nullptr, "q3_z"},
      {"quantize no type", {"quantize", m, out}, 2, nullptr, "lmgen quantize --help"},
      // serve (a running server is tested in test_serve*.cpp)
      {"serve before", {"-m", m, "serve"}, 2, nullptr, "lmgen serve --help"},
      {"serve unknown", {"serve", "-m", m, "--bogus"}, 2, nullptr, "lmgen serve --help"},
      {"serve bad value", {"serve", "-m", m, "--port", "70000"}, 2, nullptr, "lmgen serve --help"},
      {"serve bad parallel", {"serve", "-m", m, "--parallel", "0"}, 2, nullptr, "--parallel"},
  };
}

}  // namespace

TEST(CliConventions, EverySubcommandTimesEveryKindOfArgument) {
  for (const Case& c : cases()) {
    auto r = run_lmgen(c.args, 60);
    if (c.exit_code == 0) {
      EXPECT_EQ(r.exit_code, 0) << c.name << ": " << r.describe();
      EXPECT_TRUE(c.stdout_ok(r.out)) << c.name << ": stdout [" << r.out << "]";
      EXPECT_EQ(r.err, "") << c.name;
    } else {
      EXPECT_TRUE(lmgen::test::clean_failure(r, c.exit_code, c.err_contains)) << c.name;
      EXPECT_EQ(r.out, "") << c.name;
    }
  }
}

TEST(CliConventions, EachSubcommandHasItsOwnHelp) {
  const auto main_help = run_lmgen({"--help"});
  ASSERT_EQ(main_help.exit_code, 0);
  EXPECT_NE(main_help.out.find("LMGEN_MODEL"), std::string::npos);
  for (const std::string sub : {"tokenize", "detokenize", "score", "bench", "quantize"}) {
    auto r = run_lmgen({sub, "--help"});
    EXPECT_EQ(r.exit_code, 0) << sub;
    EXPECT_NE(r.out.find("lmgen " + sub), std::string::npos) << sub << ": " << r.out;
    EXPECT_NE(r.out.find("Example"), std::string::npos) << sub << " has no examples";
    EXPECT_EQ(r.out.find("--temp"), std::string::npos) << sub << " shows generation options";
    EXPECT_NE(r.out, main_help.out) << sub;
  }
}

// main.cpp declares only the subcommands named on the command line (all of them for --help): every subcommand
// that --help lists must also be found when it is named alone, i.e. be in main.cpp's table under that name.
TEST(CliConventions, EverySubcommandListedByHelpIsFoundByName) {
  const auto help = run_lmgen({"--help"});
  ASSERT_EQ(help.exit_code, 0);
  std::istringstream in(help.out.substr(help.out.find("Subcommands:\n")));
  std::string line;
  std::getline(in, line);
  std::vector<std::string> names;
  while (std::getline(in, line) && line.rfind("  ", 0) == 0) {
    std::istringstream words(line);
    std::string name;
    words >> name;
    names.push_back(name);
  }
  ASSERT_GE(names.size(), 9u) << help.out;
  for (const std::string& sub : names) {
    auto r = run_lmgen({sub, "--no-such-option"});
    EXPECT_EQ(r.exit_code, 2) << sub;
    EXPECT_NE(r.err.find("see lmgen " + sub + " --help"), std::string::npos) << sub << ": " << r.err;
  }
}

TEST(CliConventions, VersionNamesCommitBuildTypeAndSimd) {
  auto r = run_lmgen({"--version"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("lmgen ", 0), 0u);
  for (const char* key : {"\ncommit: ", "\nbuild: ", "\ncpu: ", "\nkernels: "}) EXPECT_NE(r.out.find(key), std::string::npos) << key;
}

TEST(CliConventions, RandomSeedIsReportedAndReplays) {
  const std::vector<std::string> base = {"-m", stories_gguf(), "-p", "Once", "-n", "24", "--temp", "1.0", "--jsonl"};
  auto a = run_lmgen(base), b = run_lmgen(base);
  ASSERT_EQ(a.exit_code, 0) << a.describe();
  ASSERT_EQ(b.exit_code, 0) << b.describe();
  const auto da = json_lines(a.out).back(), db = json_lines(b.out).back();
  ASSERT_TRUE(da.contains("seed"));
  EXPECT_NE(da["seed"], db["seed"]) << "two runs without -s drew the same seed";
  // -s with the reported seed replays the run exactly.
  auto args = base;
  args.insert(args.end(), {"-s", std::to_string(da["seed"].get<uint64_t>())});
  auto replay = run_lmgen(args);
  ASSERT_EQ(replay.exit_code, 0) << replay.describe();
  auto strip_ms = [](nlohmann::json j) {
    j.erase("prompt_ms");
    j.erase("generate_ms");
    return j;
  };
  EXPECT_EQ(strip_ms(json_lines(replay.out).back()), strip_ms(da));
  // -v names the seed on stderr.
  auto v = run_lmgen({"-m", stories_gguf(), "-p", "Once", "-n", "2", "-s", "123", "-v"});
  EXPECT_NE(v.err.find("seed 123"), std::string::npos) << v.err;
}

TEST(CliConventions, BytesOfBytePiecesRebuildTheExactText) {
  // Bias every byte-fallback token (<0x80>..<0xFF>, ids 3+128.. in the llama2.c vocabulary) up: the generation is
  // mostly raw bytes, often not valid UTF-8.
  std::vector<std::string> args = {"-m", stories_gguf(), "-p", "Once", "-n", "40", "--temp", "1.5", "-s", "3"};
  for (int b = 0x80; b <= 0xFF; b += 3) args.insert(args.end(), {"-l", std::to_string(3 + b) + "=25"});
  auto plain = run_lmgen(args);
  args.push_back("--jsonl");
  auto jl = run_lmgen(args);
  ASSERT_EQ(plain.exit_code, 0) << plain.describe();
  ASSERT_EQ(jl.exit_code, 0) << jl.describe();
  std::string rebuilt;
  int with_bytes = 0;
  for (const auto& j : json_lines(jl.out)) {
    if (j.contains("done")) continue;
    if (j.contains("bytes")) {
      ++with_bytes;
      for (const auto& b : j["bytes"]) rebuilt += static_cast<char>(b.get<int>());
    } else {
      rebuilt += j["text"].get<std::string>();
    }
  }
  EXPECT_GE(with_bytes, 5);
  EXPECT_EQ(rebuilt, plain.out);
}

TEST(CliConventions, Llama2cCheckpointFindsTheTokenizerBesideIt) {
  const std::string dir = lmgen::test::scratch_dir() + "/l2c-discovery";
  fs::create_directories(dir);
  std::error_code ec;
  fs::remove(dir + "/stories260K.bin", ec);
  fs::remove(dir + "/tok512.bin", ec);
  fs::create_symlink(lmgen::test::shared_path("models/stories260K/stories260K.bin"), dir + "/stories260K.bin");
  fs::create_symlink(lmgen::test::shared_path("models/stories260K/tok512.bin"), dir + "/tok512.bin");
  auto found = run_lmgen({"-m", dir + "/stories260K.bin", "-p", "Once", "-n", "6", "--temp", "0", "-v"});
  auto given = run_lmgen({"-m", dir + "/stories260K.bin", "--tokenizer", dir + "/tok512.bin", "-p", "Once", "-n", "6",
                          "--temp", "0"});
  ASSERT_EQ(found.exit_code, 0) << found.describe();
  EXPECT_EQ(found.out, given.out);
  EXPECT_NE(found.err.find("tok512.bin"), std::string::npos) << "-v should name the tokenizer found: " << found.err;
}

TEST(CliConventions, ContextAboveTrainingWarnsOnce) {
  auto r = run_lmgen({"-m", stories_gguf(), "-p", "Once", "-n", "2", "-c", "4096"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const size_t at = r.err.find("warning");
  ASSERT_NE(at, std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("warning", at + 1), std::string::npos) << r.err;
}
