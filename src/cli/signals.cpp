// Ctrl-C (SIGINT) and SIGTERM for every command: the handler only sets a flag (the one global of the front end);
// the commands poll it between units of work and main() turns it into exit status 130. The handlers are installed
// without SA_RESTART, so a read() blocked on standard input returns EINTR and the reader can look at the flag.
#include <signal.h>

#include <atomic>

#include "cli/cli.hpp"

namespace lmgen::cli {

namespace {
std::atomic<bool> g_interrupted{false};
extern "C" void on_stop_signal(int) { g_interrupted.store(true); }
}  // namespace

std::atomic<bool>* install_signal_handlers() {
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

}  // namespace lmgen::cli
