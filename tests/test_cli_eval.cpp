// End-to-end tests of the lmgen binary (LMGEN_BINARY) on the stories260K model: determinism across threads, batch
// sizes and seeds; --jsonl --n-probs against `lmgen score`; stop strings; closed pipes; stdin/-f; exit codes; the
// known llama2.c greedy text; and `lmgen score` itself.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common.hpp"

using namespace lmgen::test;

namespace {

struct ScriptRun {
  std::string out, err;
  int status = -1;  // exit status, or 128 + signal
};

// Runs `script` with bash -c (stdin from `input`), capturing stdout, stderr and the exit status.
// $LMGEN names the binary, $STORIES the stories260K directory, $DATA the shared data directory, $SCRATCH a
// scratch directory.
ScriptRun run(const std::string& script, const std::string& input = "") {
  static int counter = 0;
  const std::string base = scratch_dir() + "/run" + std::to_string(counter++);
  const std::string in_path = base + ".in", out_path = base + ".out", err_path = base + ".err";
  {
    std::FILE* f = std::fopen(in_path.c_str(), "wb");
    if (!f) ADD_FAILURE() << "cannot write " << in_path;
    if (f) {
      std::fwrite(input.data(), 1, input.size(), f);
      std::fclose(f);
    }
  }
  const std::string stories = shared_dir() + "/models/stories260K";
  const std::string data = shared_dir() + "/data";
  const std::string scratch = scratch_dir();
  pid_t pid = fork();
  if (pid == 0) {
    int in = open(in_path.c_str(), O_RDONLY);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0) _exit(127);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    setenv("LMGEN", LMGEN_BINARY, 1);
    setenv("STORIES", stories.c_str(), 1);
    setenv("DATA", data.c_str(), 1);
    setenv("SCRATCH", scratch.c_str(), 1);
    execl("/bin/bash", "bash", "-c", script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  ScriptRun r;
  int st = 0;
  if (pid < 0 || waitpid(pid, &st, 0) != pid) {
    ADD_FAILURE() << "cannot run: " << script;
    return r;
  }
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  return r;
}

const char* kGguf = "\"$LMGEN\" -m \"$STORIES/stories260K.gguf\"";
const char* kBin = "\"$LMGEN\" -m \"$STORIES/stories260K.bin\" --tokenizer \"$STORIES/tok512.bin\"";

// About 40 tokens with the 512-token vocabulary, so -b 1 and -b 64 split the prompt differently.
const char* kPrompt =
    "Once upon a time, there was a little boy named Tim. Tim had a big red ball. He liked to play with it in the park "
    "every day.";

std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// The text /work/shared/README.md quotes for `run stories260K.bin -z tok512.bin -t 0 -n 200`.
std::string readme_greedy_text() {
  const std::string md = read_file(shared_path("README.md"));
  size_t at = md.find("prints exactly");
  if (at == std::string::npos) return "";
  size_t open = md.find("```\n", at);
  size_t close = md.find("\n```", open + 4);
  if (open == std::string::npos || close == std::string::npos) return "";
  return md.substr(open + 4, close - open - 4);
}

std::vector<nlohmann::json> parse_jsonl(const std::string& s) {
  std::vector<nlohmann::json> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t nl = s.find('\n', pos);
    if (nl == std::string::npos) nl = s.size();
    std::string line = s.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty()) continue;
    try {
      out.push_back(nlohmann::json::parse(line));
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not JSON: " << line << " (" << e.what() << ")";
    }
  }
  return out;
}

}  // namespace

TEST(CliEval, KnownStoriesGreedyText) {
  const std::string expected = readme_greedy_text();
  ASSERT_GT(expected.size(), 300u);
  for (const char* m : {kBin, kGguf}) {
    ScriptRun r = run(std::string(m) + " --temp 0 -n 200");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, expected) << m;
  }
}

TEST(CliEval, NoMmapGivesTheSameText) {
  const std::string base = std::string(kGguf) + " --temp 0 -n 60 -p " + quoted(kPrompt);
  ScriptRun a = run(base), b = run(base + " --no-mmap");
  ASSERT_EQ(a.status, 0) << a.err;
  ASSERT_EQ(b.status, 0) << b.err;
  ASSERT_GT(a.out.size(), 40u);
  EXPECT_EQ(a.out, b.out);
}

TEST(CliEval, GreedySameBytesForThreadCounts) {
  const std::string base = std::string(kGguf) + " --temp 0 -n 60 -p " + quoted(kPrompt);
  ScriptRun t1 = run(base + " -t 1");
  ASSERT_EQ(t1.status, 0) << t1.err;
  ASSERT_GT(t1.out.size(), 40u);
  for (const char* t : {" -t 2", " -t 4"}) {
    ScriptRun r = run(base + t);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, t1.out) << t;
  }
}

TEST(CliEval, GreedySameBytesForBatchSizes) {
  // The prompt must be longer than a few chunks at -b 1 and span one chunk at -b 64.
  ScriptRun ids = run(std::string("\"$LMGEN\" tokenize -m \"$STORIES/stories260K.gguf\" -p ") + quoted(kPrompt));
  ASSERT_EQ(ids.status, 0) << ids.err;
  const size_t n_prompt = nlohmann::json::parse(ids.out).size();
  EXPECT_GE(n_prompt, 30u);
  EXPECT_LE(n_prompt, 64u);
  for (const char* m : {kGguf, kBin}) {
    const std::string base = std::string(m) + " --temp 0 -n 60 -p " + quoted(kPrompt);
    ScriptRun b1 = run(base + " -b 1");
    ScriptRun b64 = run(base + " -b 64");
    EXPECT_EQ(b1.status, 0) << b1.err;
    EXPECT_EQ(b64.status, 0) << b64.err;
    EXPECT_GT(b1.out.size(), 40u);
    EXPECT_EQ(b1.out, b64.out) << m;
  }
}

TEST(CliEval, SeededSamplingIsReproducible) {
  const std::string base = std::string(kGguf) + " --temp 0.9 -n 80 -p 'Once upon a time'";
  ScriptRun a = run(base + " -s 7");
  ScriptRun b = run(base + " -s 7");
  ScriptRun c = run(base + " -s 8");
  ASSERT_EQ(a.status, 0) << a.err;
  EXPECT_GT(a.out.size(), 40u);
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out, c.out);
  // Seeded samples do not depend on the thread count either.
  ScriptRun t1 = run(base + " -s 7 -t 1");
  EXPECT_EQ(t1.out, a.out);
}

// --jsonl --n-probs: well-formed records, sorted top lists whose probabilities sum to at most 1, and the chosen
// tokens' logprobs equal to those `lmgen score` gives the same tokens teacher-forced.
static void check_jsonl_against_score(const std::string& decoding) {
  SCOPED_TRACE(decoding);
  const bool greedy = decoding == "--temp 0";
  const std::string prompt = "Once upon a time";
  ScriptRun g = run(std::string(kGguf) + " " + decoding + " -n 24 --jsonl --n-probs 5 -p " + quoted(prompt));
  ASSERT_EQ(g.status, 0) << g.err;
  auto recs = parse_jsonl(g.out);
  ASSERT_GE(recs.size(), 2u);
  const auto& done = recs.back();
  ASSERT_TRUE(done.value("done", false)) << done.dump();
  EXPECT_EQ(done["stop_reason"], "length");
  std::vector<int32_t> gen_ids;
  std::vector<double> gen_lp;
  for (size_t i = 0; i + 1 < recs.size(); ++i) {
    const auto& j = recs[i];
    ASSERT_TRUE(j.contains("token") && j.contains("text") && j.contains("logprob") && j.contains("top")) << j.dump();
    const auto& top = j["top"];
    ASSERT_EQ(top.size(), 5u);
    double psum = 0, prev = INFINITY;
    for (const auto& t : top) {
      const double lp = t["logprob"].get<double>();
      EXPECT_LE(lp, prev) << "top not sorted: " << j.dump();
      prev = lp;
      psum += std::exp(lp);
    }
    EXPECT_LE(psum, 1.0 + 1e-5);
    if (greedy) {  // the chosen token is the most likely one
      EXPECT_EQ(top[0]["token"], j["token"]);
      EXPECT_NEAR(top[0]["logprob"].get<double>(), j["logprob"].get<double>(), 1e-6);
    } else {  // the reported logprob is the model's, not the tempered distribution's: never above the top one
      EXPECT_LE(j["logprob"].get<double>(), top[0]["logprob"].get<double>() + 1e-6);
    }
    gen_ids.push_back(j["token"].get<int32_t>());
    gen_lp.push_back(j["logprob"].get<double>());
  }
  ASSERT_EQ(gen_ids.size(), 24u);
  const std::string full = prompt + done["text"].get<std::string>();

  // The text must tokenize back to prompt ids + generated ids for the comparison to be meaningful.
  ScriptRun pt = run(std::string("\"$LMGEN\" tokenize -m \"$STORIES/stories260K.gguf\" -p ") + quoted(prompt));
  ScriptRun ft = run(std::string("\"$LMGEN\" tokenize -m \"$STORIES/stories260K.gguf\" -p ") + quoted(full));
  ASSERT_EQ(pt.status, 0) << pt.err;
  ASSERT_EQ(ft.status, 0) << ft.err;
  std::vector<int32_t> expect_ids = nlohmann::json::parse(pt.out).get<std::vector<int32_t>>();
  const size_t n_prompt = expect_ids.size();
  expect_ids.insert(expect_ids.end(), gen_ids.begin(), gen_ids.end());
  ASSERT_EQ(nlohmann::json::parse(ft.out).get<std::vector<int32_t>>(), expect_ids) << "text does not round-trip";

  // One window covering the whole text scores every token after BOS with all the context before it.
  ScriptRun s = run(std::string("\"$LMGEN\" score -m \"$STORIES/stories260K.gguf\" -c 64 --stride 64 --jsonl -p ") +
                    quoted(full));
  ASSERT_EQ(s.status, 0) << s.err;
  auto srecs = parse_jsonl(s.out);
  ASSERT_EQ(srecs.size(), expect_ids.size());  // tokens 1..L-1, plus the done record
  for (size_t i = 0; i < gen_ids.size(); ++i) {
    const auto& j = srecs[n_prompt - 1 + i];
    EXPECT_EQ(j["token"].get<int32_t>(), gen_ids[i]);
    EXPECT_NEAR(j["logprob"].get<double>(), gen_lp[i], 2e-4) << "generated token " << i;
  }
}

TEST(CliEval, JsonlProbsAgreeWithScore) {
  check_jsonl_against_score("--temp 0");
  // Sampled tokens (this seed's text round-trips too): the logprobs are still the model's own.
  check_jsonl_against_score("--temp 0.9 -s 7");
}

TEST(CliEval, StopStringAcrossTokenBoundaries) {
  const std::string full = readme_greedy_text();
  ASSERT_FALSE(full.empty());
  // "le girl na" starts and ends inside words, so it spans several tokens and ends mid-token.
  const std::string stop = "le girl na";
  const size_t at = full.find(stop);
  ASSERT_NE(at, std::string::npos);
  ScriptRun r = run(std::string(kGguf) + " --temp 0 -n 200 --stop " + quoted(stop));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, full.substr(0, at));

  ScriptRun j = run(std::string(kGguf) + " --temp 0 -n 200 --jsonl --stop " + quoted(stop));
  EXPECT_EQ(j.status, 0) << j.err;
  auto recs = parse_jsonl(j.out);
  ASSERT_FALSE(recs.empty());
  EXPECT_EQ(recs.back()["stop_reason"], "stop");
  EXPECT_EQ(recs.back()["text"], full.substr(0, at));
  // The stop string is not inside a single token's piece.
  std::string pieces;
  for (size_t i = 0; i + 1 < recs.size(); ++i) {
    const std::string p = recs[i]["text"].get<std::string>();
    EXPECT_EQ(p.find(stop), std::string::npos);
    pieces += p;
  }
  EXPECT_NE(pieces.find(stop), std::string::npos);
  // Two stop strings: the first to occur wins.
  ScriptRun two = run(std::string(kGguf) + " --temp 0 -n 200 --stop 'park' --stop ', there'");
  EXPECT_EQ(two.out, full.substr(0, full.find(", there")));
}

TEST(CliEval, ClosedPipeEndsQuietly) {
  for (const char* m : {kGguf, kBin}) {
    ScriptRun r = run(std::string("set -o pipefail; ") + m +
                      " --temp 0 -n 500 --ignore-eos | head -c 20; s=(\"${PIPESTATUS[@]}\"); echo \"${s[0]} ${s[1]}\" >&2");
    EXPECT_EQ(r.out, readme_greedy_text().substr(0, 20));
    EXPECT_EQ(r.err, "0 0\n") << "stderr noise or non-zero status from lmgen: " << r.err;
    EXPECT_EQ(r.status, 0);
    // The same with --jsonl output.
    ScriptRun j = run(std::string("set -o pipefail; ") + m +
                      " --temp 0 -n 500 --ignore-eos --jsonl --n-probs 3 | head -c 20; echo \"${PIPESTATUS[0]}\" >&2");
    EXPECT_EQ(j.err, "0\n");
    EXPECT_EQ(j.out.size(), 20u);
  }
}

TEST(CliEval, PromptFromStdinFileAndFlag) {
  const std::string prompt = "Lily and Tom went to the park.";
  const std::string path = scratch_dir() + "/prompt.txt";
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(prompt.data(), 1, prompt.size(), f);
    std::fclose(f);
  }
  const std::string base = std::string(kGguf) + " --temp 0 -n 30";
  ScriptRun p = run(base + " -p " + quoted(prompt));
  ScriptRun in = run(base, prompt);
  ScriptRun dash = run(base + " -p -", prompt);
  ScriptRun f = run(base + " -f " + quoted(path));
  ScriptRun piped = run("printf '%s' " + quoted(prompt) + " | " + base);
  ASSERT_EQ(p.status, 0) << p.err;
  EXPECT_GT(p.out.size(), 20u);
  EXPECT_EQ(in.out, p.out);
  EXPECT_EQ(dash.out, p.out);
  EXPECT_EQ(f.out, p.out);
  EXPECT_EQ(piped.out, p.out);
  EXPECT_EQ(piped.status, 0);
  // --echo prints the prompt first; the empty prompt (BOS only) is a different continuation.
  ScriptRun echo = run(base + " --echo -p " + quoted(prompt));
  EXPECT_EQ(echo.out, prompt + p.out);
  ScriptRun empty = run(base);
  EXPECT_NE(empty.out, p.out);
}

TEST(CliEval, ExitCodes) {
  ScriptRun ok = run(std::string(kGguf) + " --temp 0 -n 5 -p 'Hi'");
  EXPECT_EQ(ok.status, 0) << ok.err;
  EXPECT_EQ(ok.err, "");  // stderr is not a terminal: no timing summary

  ScriptRun missing = run("\"$LMGEN\" -m /nonexistent/model.gguf -p hi -n 5");
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(missing.out, "");
  EXPECT_EQ(missing.err.rfind("lmgen: ", 0), 0u) << missing.err;
  EXPECT_NE(missing.err.find("/nonexistent/model.gguf"), std::string::npos) << missing.err;
  EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1) << missing.err;

  ScriptRun no_file = run(std::string(kGguf) + " -f /nonexistent/prompt.txt -n 5");
  EXPECT_EQ(no_file.status, 1) << no_file.err;

  for (const char* bad : {" --no-such-flag", " --temp abc", " -n -5", " -p x -f /dev/null", " --top-p 2"}) {
    ScriptRun r = run(std::string(kGguf) + bad);
    EXPECT_EQ(r.status, 2) << bad << ": " << r.err;
    EXPECT_EQ(r.out, "") << bad;
    EXPECT_EQ(r.err.rfind("lmgen: ", 0), 0u) << bad << ": " << r.err;
  }
  ScriptRun help = run("\"$LMGEN\" --help");
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("Usage"), std::string::npos);
  ScriptRun score_help = run("\"$LMGEN\" score --help");
  EXPECT_EQ(score_help.status, 0);
  EXPECT_NE(score_help.out.find("--stride"), std::string::npos);
}

// Acceptance through the CLI: `lmgen score -c 128` on the TinyStories sample within 0.5% of llama-perplexity's 6.0255;
// the --jsonl records add up to the summary.
TEST(CliEval, ScorePerplexityMatchesLlamaCpp) {
  ScriptRun r = run(std::string("\"$LMGEN\" score -m \"$STORIES/stories260K.gguf\" -c 128 -b 128 -f "
                                "\"$DATA/tinystories-sample/tinystories.txt\""));
  ASSERT_EQ(r.status, 0) << r.err;
  const size_t at = r.out.find("perplexity:");
  ASSERT_NE(at, std::string::npos) << r.out;
  const double ppl = std::stod(r.out.substr(at + 11));
  EXPECT_NEAR(ppl, 6.0255, 6.0255 * 0.005) << r.out;

  // --jsonl on the first 20000 bytes, from standard input.
  ScriptRun j = run(std::string("head -c 20000 \"$DATA/tinystories-sample/tinystories.txt\" | "
                                "\"$LMGEN\" score -m \"$STORIES/stories260K.gguf\" -c 128 --jsonl"));
  ASSERT_EQ(j.status, 0) << j.err;
  auto recs = parse_jsonl(j.out);
  ASSERT_GT(recs.size(), 100u);
  const auto& done = recs.back();
  ASSERT_TRUE(done.value("done", false));
  const int64_t n = done["tokens_scored"].get<int64_t>();
  EXPECT_EQ(static_cast<int64_t>(recs.size()) - 1, n);
  EXPECT_EQ(n % 63, 0);
  double nll = 0;
  for (size_t i = 0; i + 1 < recs.size(); ++i) {
    const double lp = recs[i]["logprob"].get<double>();
    EXPECT_LE(lp, 0.0);
    nll -= lp;
  }
  EXPECT_NEAR(done["cross_entropy"].get<double>(), nll / static_cast<double>(n), 1e-9);
  EXPECT_NEAR(done["perplexity"].get<double>(), std::exp(nll / static_cast<double>(n)), 1e-9);
  EXPECT_EQ(done["windows"].get<int64_t>() * 63, n);
  EXPECT_EQ(done["tokens"].get<int64_t>() / 128, done["windows"].get<int64_t>());
  // The same text given with -f gives the same summary figure.
  ScriptRun f = run(std::string("head -c 20000 \"$DATA/tinystories-sample/tinystories.txt\" > \"$SCRATCH/t.txt\"; "
                                "\"$LMGEN\" score -m \"$STORIES/stories260K.gguf\" -c 128 -f \"$SCRATCH/t.txt\""));
  ASSERT_EQ(f.status, 0) << f.err;
  const size_t fat = f.out.find("perplexity:");
  ASSERT_NE(fat, std::string::npos) << f.out;
  EXPECT_NEAR(std::stod(f.out.substr(fat + 11)), done["perplexity"].get<double>(), 1e-4);

  // Usage errors and a text shorter than one chunk.
  ScriptRun bad_stride = run(std::string("\"$LMGEN\" score -m \"$STORIES/stories260K.gguf\" -c 64 --stride 65 -p 'Hi there'"));
  EXPECT_EQ(bad_stride.status, 2) << bad_stride.err;
  ScriptRun short_text = run(std::string("\"$LMGEN\" score -m \"$STORIES/stories260K.gguf\" -c 64 -p 'Hi there'"));
  EXPECT_EQ(short_text.status, 1) << short_text.err;
  EXPECT_EQ(short_text.out, "");
  ScriptRun piped = run(std::string("set -o pipefail; \"$LMGEN\" score -m \"$STORIES/stories260K.gguf\" -c 128 --jsonl "
                                    "-f \"$DATA/tinystories-sample/tinystories.txt\" | head -c 10; echo \"${PIPESTATUS[0]}\" >&2"));
  EXPECT_EQ(piped.err, "0\n");
}
