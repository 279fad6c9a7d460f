// A running `lmgen` child with pipes the test holds: write to its stdin without closing it, read its stdout as it
// comes, send it a real signal, wait for it. Used by the streaming and signal tests (test_cli_stream.cpp).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "common.hpp"

namespace lmgen::test {

class Child {
 public:
  // Starts LMGEN_BINARY with `args`; stdin and stdout are pipes, stderr goes to a file (err()).
  explicit Child(const std::vector<std::string>& args) {
    static int counter = 0;
    err_path_ = scratch_dir() + "/child-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + ".err";
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) return;
    // Everything the child needs is prepared before fork (only async-signal-safe calls after it).
    std::vector<std::string> a = {LMGEN_BINARY};
    a.insert(a.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : a) argv.push_back(s.data());
    argv.push_back(nullptr);
    const int e = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      dup2(e, 2);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(e);
    close(in[0]);
    close(out[1]);
    in_ = in[1];
    out_ = out[0];
  }
  ~Child() {
    if (in_ >= 0) close(in_);
    if (out_ >= 0) close(out_);
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool started() const { return pid_ > 0; }
  void write_stdin(const std::string& s) { (void)!::write(in_, s.data(), s.size()); }
  void close_stdin() {
    if (in_ >= 0) close(in_);
    in_ = -1;
  }
  // Reads stdout until `n` newlines have arrived in total or `timeout_s` passes; returns everything read so far.
  const std::string& read_lines(size_t n, double timeout_s) {
    const auto t0 = std::chrono::steady_clock::now();
    while (count_lines() < n) {
      const double left = timeout_s - std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (left <= 0) break;
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left * 1000) + 1) <= 0) break;
      char buf[4096];
      const ssize_t r = ::read(out_, buf, sizeof buf);
      if (r <= 0) break;
      out_text_.append(buf, static_cast<size_t>(r));
    }
    return out_text_;
  }
  void signal(int sig) { kill(pid_, sig); }
  // Waits up to timeout_s for the exit; returns the exit status, 1000+signal if killed by one (so that a child
  // killed by SIGINT before it could handle it is not mistaken for one that exited with 130), -1 on timeout. Reads the
  // rest of stdout.
  int wait(double timeout_s) {
    const auto t0 = std::chrono::steady_clock::now();
    int status = 0;
    for (;;) {
      read_lines(static_cast<size_t>(-1), 0.01);
      if (waitpid(pid_, &status, WNOHANG) == pid_) break;
      if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > timeout_s) return -1;
    }
    reaped_ = true;
    read_lines(static_cast<size_t>(-1), 0.05);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
  }
  const std::string& out() const { return out_text_; }
  std::string err() const { return read_file(err_path_); }

 private:
  size_t count_lines() const {
    size_t n = 0;
    for (char c : out_text_) n += c == '\n';
    return n;
  }
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;
  bool reaped_ = false;
  std::string out_text_, err_path_;
};

}  // namespace lmgen::test
