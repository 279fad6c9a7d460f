// Running the built `lmgen` binary from a test: arguments in, exit status / signal / stdout / stderr out, with a
// wall-clock limit (a child still running after `timeout_s` seconds is killed and reported as timed out).
// Used by the bad-input tests (test_broken_files.cpp, test_cli_errors.cpp).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "common.hpp"

extern char** environ;

namespace lmgen::test {

struct RunResult {
  int exit_code = -1;    // valid when !signaled && !timed_out
  int signal = 0;        // the signal that ended the child, if any
  bool signaled = false;
  bool timed_out = false;
  std::string out, err;
  double seconds = 0;

  // A short description for assertion messages.
  std::string describe() const {
    std::string s = timed_out ? "timed out" : signaled ? "killed by signal " + std::to_string(signal)
                                                       : "exit " + std::to_string(exit_code);
    return s + ", stderr: [" + err + "]";
  }
  // stderr without its final newline, if it is exactly one line; "" otherwise.
  std::string one_line_err() const {
    std::string e = err;
    if (!e.empty() && e.back() == '\n') e.pop_back();
    if (e.empty() || e.find('\n') != std::string::npos) return "";
    return e;
  }
};

// Runs the program `exe` with `args`, and the environment plus `extra_env` ("NAME=value" entries, which win).
// stdin is `input` (a file written to the scratch directory), or /dev/null.
inline RunResult run_process(const std::string& exe, const std::vector<std::string>& args, double timeout_s,
                             const std::string& input, bool with_input,
                             const std::vector<std::string>& extra_env = {}) {
  namespace fs = std::filesystem;
  static int counter = 0;
  const std::string base = scratch_dir() + "/run-" + std::to_string(counter++);
  const std::string out_path = base + ".out", err_path = base + ".err", in_path = base + ".in";
  if (with_input) {
    std::ofstream f(in_path, std::ios::binary);
    f << input;
  }
  std::vector<std::string> argv_s = {exe};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, with_input ? in_path.c_str() : "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> env_s = extra_env;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e, name = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (const std::string& x : extra_env) overridden |= x.substr(0, x.find('=')) == name;
    if (!overridden) env_s.push_back(entry);
  }
  std::vector<char*> envp;
  for (auto& s : env_s) envp.push_back(s.data());
  envp.push_back(nullptr);
  RunResult r;
  auto t0 = std::chrono::steady_clock::now();
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    ADD_FAILURE() << "cannot start " << argv[0] << ": " << std::strerror(rc);
    return r;
  }
  int status = 0;
  for (;;) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (el > timeout_s) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      r.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!r.timed_out) {
    if (WIFSIGNALED(status)) {
      r.signaled = true;
      r.signal = WTERMSIG(status);
    } else if (WIFEXITED(status)) {
      r.exit_code = WEXITSTATUS(status);
    }
  }
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  std::error_code ec;
  fs::remove(out_path, ec);
  fs::remove(err_path, ec);
  if (with_input) fs::remove(in_path, ec);
  return r;
}

// Runs LMGEN_BINARY with `args` (see run_process).
inline RunResult run_lmgen(const std::vector<std::string>& args, double timeout_s = 20.0,
                           const std::string& input = std::string(), bool with_input = false,
                           const std::vector<std::string>& extra_env = {}) {
  return run_process(LMGEN_BINARY, args, timeout_s, input, with_input, extra_env);
}

// The contract for a bad input: the expected exit status, exactly one line on stderr that starts with "lmgen: "
// and contains `must_name` (the offending file, or part of the message), no signal, no timeout, and no
// sanitizer report (an ASan/UBSan build also exits with 1 after printing its report on stderr).
inline ::testing::AssertionResult clean_failure(const RunResult& r, int expected_exit, const std::string& must_name) {
  if (r.timed_out) return ::testing::AssertionFailure() << "timed out after " << r.seconds << " s";
  if (r.signaled) return ::testing::AssertionFailure() << "killed by signal " << r.signal << "; " << r.describe();
  for (const char* bad : {"Sanitizer", "runtime error:", "terminate called", "Aborted"})
    if (r.err.find(bad) != std::string::npos)
      return ::testing::AssertionFailure() << "sanitizer/abort report: " << r.err;
  if (r.exit_code != expected_exit)
    return ::testing::AssertionFailure() << "expected exit " << expected_exit << ", got " << r.describe();
  std::string line = r.one_line_err();
  if (line.empty()) return ::testing::AssertionFailure() << "stderr is not exactly one line: [" << r.err << "]";
  if (line.rfind("lmgen: ", 0) != 0) return ::testing::AssertionFailure() << "stderr does not start with 'lmgen: ': " << line;
  if (!must_name.empty() && line.find(must_name) == std::string::npos)
    return ::testing::AssertionFailure() << "message does not mention '" << must_name << "': " << line;
  return ::testing::AssertionSuccess();
}

}  // namespace lmgen::test
