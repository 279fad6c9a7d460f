// docs/llama-cpp-flags.md, checked row by row: every accepted llama.cpp spelling gives exactly what its lmgen
// equivalent gives (stdout, stderr, exit status), and every refused spelling ends with exit 2 and exactly the line
// the table says.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common.hpp"
#include "lmgen_run.hpp"

using lmgen::test::stories_gguf;

namespace {

// Splits on spaces; single quotes group (as a shell would, without escapes).
std::vector<std::string> split_args(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, have = false;
  for (char c : s) {
    if (c == '\'') {
      quoted = !quoted;
      have = true;
    } else if (c == ' ' && !quoted) {
      if (have) out.push_back(cur);
      cur.clear();
      have = false;
    } else {
      cur += c;
      have = true;
    }
  }
  if (have) out.push_back(cur);
  return out;
}

// The cells of the table rows under `heading` (a "## " line), without the header and separator rows.
std::vector<std::vector<std::string>> table_rows(const std::string& heading) {
  const std::string doc = lmgen::test::read_file(std::string(LMGEN_SOURCE_DIR) + "/docs/llama-cpp-flags.md");
  std::vector<std::vector<std::string>> rows;
  size_t pos = doc.find("\n## " + heading);
  if (pos == std::string::npos) return rows;
  pos = doc.find('\n', pos + 1) + 1;
  int seen = 0;
  while (pos < doc.size()) {
    size_t nl = doc.find('\n', pos);
    const std::string line = doc.substr(pos, nl - pos);
    pos = nl == std::string::npos ? doc.size() : nl + 1;
    if (line.rfind("## ", 0) == 0) break;
    if (line.empty() || line[0] != '|') continue;
    if (seen++ < 2) continue;  // header, separator
    std::vector<std::string> cells;
    size_t c = 1;
    while (c < line.size()) {
      size_t bar = line.find(" |", c);
      if (bar == std::string::npos) break;
      std::string cell = line.substr(c, bar - c);
      cell.erase(0, cell.find_first_not_of(' '));
      cells.push_back(cell);
      c = bar + 2;
    }
    rows.push_back(cells);
  }
  return rows;
}

// The text inside each pair of backticks.
std::vector<std::string> code_spans(const std::string& cell) {
  std::vector<std::string> out;
  size_t p = 0;
  while ((p = cell.find('`', p)) != std::string::npos) {
    size_t e = cell.find('`', p + 1);
    if (e == std::string::npos) break;
    out.push_back(cell.substr(p + 1, e - p - 1));
    p = e + 1;
  }
  return out;
}

lmgen::test::RunResult run_with(const std::string& args) {
  std::vector<std::string> a = {"-m", stories_gguf(), "-n", "24"};
  const auto extra = split_args(args);
  if (std::find(extra.begin(), extra.end(), "-s") == extra.end()) a.insert(a.end(), {"-s", "7"});
  a.insert(a.end(), extra.begin(), extra.end());
  return lmgen::test::run_lmgen(a, 30, "Once", true);  // stdin for -f - / -p -
}

}  // namespace

TEST(CliLlamaFlags, EveryAcceptedSpellingMatchesItsLmgenEquivalent) {
  const auto rows = table_rows("Accepted");
  ASSERT_GE(rows.size(), 10u);
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 3u) << "malformed row";
    const auto ex = code_spans(row[1]), eq = code_spans(row[2]);
    ASSERT_EQ(ex.size(), 1u) << row[0];
    ASSERT_EQ(eq.size(), 1u) << row[0];
    auto a = run_with(ex[0]);
    auto b = run_with(eq[0]);
    EXPECT_EQ(a.exit_code, 0) << row[0] << ": " << a.describe();
    EXPECT_EQ(a.exit_code, b.exit_code) << row[0];
    EXPECT_FALSE(a.out.empty()) << row[0];
    EXPECT_EQ(a.out, b.out) << row[0];
    EXPECT_EQ(a.err, b.err) << row[0];
  }
}

TEST(CliLlamaFlags, AcceptedAliasesChangeTheOutputLikeTheirEquivalent) {
  // Guards the table test against aliases that are silently ignored: each one must make a difference.
  EXPECT_NE(run_with("-p 'Once\\x20upon' -e").out, run_with("-p 'Once\\x20upon'").out);
  const auto first = run_with("-p Once --temp 0 --jsonl");
  ASSERT_EQ(first.exit_code, 0) << first.describe();
  const std::string id = std::to_string(nlohmann::json::parse(first.out.substr(0, first.out.find('\n')))["token"].get<int>());
  EXPECT_NE(run_with("-p Once -l " + id + "-inf --temp 0").out, run_with("-p Once --temp 0").out);
  const auto stopped = run_with("-p Once -r . -n 60");
  EXPECT_EQ(stopped.out.find('.'), std::string::npos) << stopped.out;
}

TEST(CliLlamaFlags, EveryRefusedSpellingSaysWhatLmgenDoesInstead) {
  const auto rows = table_rows("Refused, with what lmgen does instead");
  ASSERT_GE(rows.size(), 10u);
  int checked = 0;
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 2u) << "malformed row";
    for (const std::string& flag : code_spans(row[0])) {
      // Before or after the prompt, with a value or not: the same one line.
      for (const auto& args : {std::vector<std::string>{flag, "1", "-m", stories_gguf(), "-p", "x"},
                               std::vector<std::string>{"-m", stories_gguf(), "-p", "x", flag}}) {
        auto r = lmgen::test::run_lmgen(args);
        EXPECT_EQ(r.exit_code, 2) << flag << ": " << r.describe();
        EXPECT_EQ(r.err, "lmgen: " + flag + ": " + row[1] + "\n") << flag;
        EXPECT_TRUE(r.out.empty()) << flag;
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, 40);
}
