// Ctrl-C (SIGINT) and SIGTERM for every command: the handler only sets a flag (the one global of the front end);
// the commands poll it between units of work and main() turns it into exit status 130. The handlers are installed
// without SA_RESTART, so a read() blocked on standard input returns EINTR and the reader can look at the flag.
// A signal that lands between the reader's look at the flag and its read() would leave the read blocked, so the
// handler also writes a byte to a pipe, which readers wait on together with their input (wait_readable).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include <atomic>

#include "cli/cli.hpp"

namespace lmgen::cli {

namespace {
std::atomic<bool> g_interrupted{false};
int g_wake[2] = {-1, -1};  // the pipe the handler writes to (read end, write end)
extern "C" void on_stop_signal(int) {
  g_interrupted.store(true);
  const int saved = errno;
  if (g_wake[1] >= 0) {
    const ssize_t n = ::write(g_wake[1], "", 1);  // a full pipe fails: a wake-up is pending anyway
    (void)n;
  }
  errno = saved;
}
}  // namespace

std::atomic<bool>* install_signal_handlers() {
  if (g_wake[0] < 0 && ::pipe2(g_wake, O_CLOEXEC | O_NONBLOCK) != 0) g_wake[0] = g_wake[1] = -1;
  struct sigaction sa = {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: blocking reads return EINTR
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  struct sigaction ign = {};
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  sigaction(SIGPIPE, &ign, nullptr);  // a closed pipe becomes a write error that ends the run quietly
  return &g_interrupted;
}

bool interrupted() { return g_interrupted.load(); }

bool wait_readable(int fd) {
  for (;;) {
    if (interrupted()) return false;
    pollfd fds[2] = {{fd, POLLIN, 0}, {g_wake[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return true;  // let the read() report it
    if (fds[1].revents & POLLIN) {  // a signal: drain its bytes (a stale one after chat reset the flag is dropped)
      char drain[64];
      while (::read(g_wake[0], drain, sizeof drain) > 0) {
      }
      continue;
    }
    if (fds[0].revents) return true;
  }
}

}  // namespace lmgen::cli
