// One guard for the whole CLI: every subcommand (read from main.cpp's table, so a new one is covered the day it
// lands), and generation, is fed malformed and empty standard input, directories, dangling symlinks and
// unreadable files where its path options and arguments expect files. Whatever it does, no library's exception
// text (nlohmann's "[json.exception...]", std::filesystem's, "basic_string...", errno 0's "Success") reaches
// stderr (or --batch's error records), nothing is reported as an internal error, and a failure is one line starting
// "lmgen: ".
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <regex>

#include "common.hpp"
#include "lmgen_run.hpp"

namespace lmgen::test {
namespace {

namespace fs = std::filesystem;

// The subcommand names of kSubcommands in src/cli/main.cpp, and "" for generation (no subcommand).
std::vector<std::string> subcommands() {
  const std::string src = read_file(std::string(LMGEN_SOURCE_DIR) + "/src/cli/main.cpp");
  const size_t b = src.find("kSubcommands[] = {");
  const size_t e = src.find("};", b);
  EXPECT_NE(b, std::string::npos) << "main.cpp has no kSubcommands table";
  std::vector<std::string> out = {""};
  const std::string table = src.substr(b, e - b);
  const std::regex group("\\{\\{([^}]*)\\}");
  const std::regex name("\"([a-z-]+)\"");
  for (std::sregex_iterator g(table.begin(), table.end(), group), end; g != end; ++g) {
    const std::string names = (*g)[1];
    for (std::sregex_iterator n(names.begin(), names.end(), name); n != end; ++n) out.push_back((*n)[1]);
  }
  EXPECT_GE(out.size(), 10u);
  return out;
}

// Paths that are not readable files: a directory, a dangling symlink, a symlink loop, a /proc file whose read
// fails (root can read any ordinary file, so "unreadable" means one of these), and a path whose parent is a file.
std::vector<std::string> bad_paths() {
  const std::string dir = scratch_dir() + "/guard-dir";
  fs::create_directories(dir);
  const std::string dangling = scratch_dir() + "/guard-dangling";
  std::error_code ec;
  fs::remove(dangling, ec);
  fs::create_symlink(scratch_dir() + "/no-such-target", dangling);
  const std::string loop = scratch_dir() + "/guard-loop";  // a symlink to itself: ELOOP
  fs::remove(loop, ec);
  fs::create_symlink(loop, loop);
  const std::string file = write_scratch("guard-file", "x");
  return {dir, dangling, loop, "/proc/self/mem", file + "/below-a-file"};
}

const char* const kRawTexts[] = {"json.exception", "basic_string", "std::", ": Success", "what():",
                                 "internal error", "terminate called", "filesystem error", "Sanitizer",
                                 "runtime error:", "stoi", "stoll", "out_of_range", "invalid_argument"};

// The guard's contract for one run (`input` is standard input, or none).
void expect_clean(const std::vector<std::string>& args, const RunResult& r, const std::string* input) {
  std::string cmd = "lmgen";
  for (const std::string& a : args) cmd += " '" + a + "'";
  if (input) cmd += " < " + nlohmann::json(*input).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  ASSERT_FALSE(r.timed_out) << cmd;
  ASSERT_FALSE(r.signaled) << cmd << ": " << r.describe();
  for (const char* raw : kRawTexts) {
    EXPECT_EQ(r.err.find(raw), std::string::npos) << cmd << ": " << r.err;
    EXPECT_EQ(r.out.find(raw), std::string::npos) << cmd << ": stdout " << r.out;  // --batch's "error" fields
  }
  if (r.exit_code == 0) return;
  // --batch answers a bad line with {"prompt_index", "error"} on stdout and exit status 1, nothing on stderr.
  if (r.exit_code == 1 && r.err.empty() && r.out.find("\"error\":") != std::string::npos) return;
  EXPECT_TRUE(r.exit_code == 1 || r.exit_code == 2) << cmd << ": " << r.describe();
  const std::string line = r.one_line_err();
  EXPECT_FALSE(line.empty()) << cmd << ": stderr is not one line: [" << r.err << "]";
  EXPECT_EQ(line.rfind("lmgen: ", 0), 0u) << cmd << ": " << r.err;
}

std::vector<std::string> with_sub(const std::string& sub, std::vector<std::string> args) {
  if (!sub.empty()) args.insert(args.begin(), sub);
  return args;
}

TEST(CliGuard, BadPathsGiveLmgensOwnOneLineErrors) {
  const std::string model = stories_gguf();
  const std::string out = scratch_dir() + "/guard-out.gguf";
  const std::string hf = shared_path("fixtures/tiny-llama/hf");
  for (const std::string& sub : subcommands()) {
    for (const std::string& bad : bad_paths()) {
      std::vector<std::vector<std::string>> cases = {{"-m", bad}, {bad, out, "--type", "q8_0"}};
      for (const char* opt : {"-f", "--tokenizer", "--lora", "--chat-template-file", "--messages", "--sft"})
        cases.push_back({"-m", model, opt, bad, "-n", "2"});
      // Last: an output written through a symlink replaces it (the next subcommand gets fresh bad paths).
      cases.push_back({model, bad, "--type", "q8_0"});
      cases.push_back({hf, bad, "--type", "q8_0"});
      for (const auto& c : cases) {
        const auto args = with_sub(sub, c);
        expect_clean(args, run_lmgen(args, 60), nullptr);
      }
    }
  }
}

TEST(CliGuard, MalformedAndEmptyStdinGiveLmgensOwnOneLineErrors) {
  const std::string model = stories_gguf();
  const std::vector<std::string> inputs = {"",
                                           "hello",
                                           "{\"messages\": [",
                                           "\xff\xfe[1,",
                                           "[1, 2, 99999999999]",
                                           "{\"ids\": \"x\"}\n{\"text\": 3}\n",
                                           "[]",
                                           "{\"prompt\": 3}\n{\"prompt\": \"x\", \"n\": \"y\"}\n",
                                           "[{\"role\": 1}]",
                                           "{\"messages\": [{\"role\": \"user\"}], \"tools\": 5}"};
  int tried = 0;
  for (const std::string& sub : subcommands()) {
    const RunResult help = run_lmgen(with_sub(sub, {"--help"}));
    if (help.out.find("standard input") == std::string::npos) continue;  // reads no stdin (bench, serve, ...)
    std::vector<std::vector<std::string>> cases = {{"-m", model}};
    if (help.out.find("-n,") != std::string::npos) cases[0].insert(cases[0].end(), {"-n", "2"});
    if (help.out.find("--jsonl") != std::string::npos) cases.push_back({"-m", model, "--jsonl"});
    if (help.out.find("--batch") != std::string::npos) cases.push_back({"-m", model, "--batch", "-n", "2"});
    for (const auto& c : cases)
      for (const std::string& in : inputs) {
        const auto args = with_sub(sub, c);
        expect_clean(args, run_lmgen(args, 60, in, true), &in);
        ++tried;
      }
  }
  EXPECT_GE(tried, 30);
}

// The two repros of issue 27, by their messages.
TEST(CliGuard, DetokenizeOfTextAndQuantizeIntoADirectorySayWhatIsWrong) {
  const RunResult d = run_lmgen({"detokenize", "-m", stories_gguf()}, 20, "hello", true);
  EXPECT_TRUE(clean_failure(d, 2, "not a JSON array of token ids")) << d.describe();
  const std::string dir = scratch_dir() + "/guard-dir";
  fs::create_directories(dir);
  const RunResult q = run_lmgen({"quantize", stories_gguf(), dir, "--type", "q8_0"});
  EXPECT_TRUE(clean_failure(q, 2, "is a directory")) << q.describe();
  EXPECT_NE(q.err.find(dir), std::string::npos) << q.err;
}

}  // namespace
}  // namespace lmgen::test
