// lmgen — command-line entry point. Parses flags, runs the command, and maps errors to exit codes:
//   0 success, 1 any failure (one line on stderr), 2 usage error, 130 interrupted by Ctrl-C.
#include <csignal>
#include <cstdio>
#include <iostream>

#include "cli/cli.hpp"
#include "lmgen/error.hpp"

namespace lmgen::cli {
std::vector<Command> setup_convert(CLI::App& app, Context& ctx);  // convert.cpp
}  // namespace lmgen::cli

namespace {
std::atomic<bool> g_interrupted{false};  // the only global: what a signal handler may touch
extern "C" void on_sigint(int) { g_interrupted.store(true); }
}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a closed pipe becomes a write error that ends the run quietly
  std::signal(SIGINT, on_sigint);
  lmgen::cli::Context ctx;
  ctx.interrupted = &g_interrupted;

  CLI::App app{"lmgen — run small transformer language models from the shell"};
  try {
    std::vector<lmgen::cli::Command> commands;
    lmgen::cli::Command generate = lmgen::cli::setup_generate(app, ctx);
    for (auto setup : {lmgen::cli::setup_tokenize, lmgen::cli::setup_score, lmgen::cli::setup_bench,
                       lmgen::cli::setup_quantize, lmgen::cli::setup_convert})
      for (auto& c : setup(app, ctx)) commands.push_back(std::move(c));
    try {
      app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
      std::cout << app.help();
      return 0;
    } catch (const CLI::CallForAllHelp&) {
      std::cout << app.help("", CLI::AppFormatMode::All);
      return 0;
    } catch (const CLI::CallForVersion&) {
      std::cout << "lmgen " << LMGEN_VERSION << "\n";
      return 0;
    } catch (const CLI::ParseError& e) {
      std::fprintf(stderr, "lmgen: %s (see lmgen --help)\n", e.what());
      return 2;
    }
    int rc = -1;
    for (auto& c : commands)
      if (c.app->parsed()) rc = c.run();
    if (rc < 0) rc = generate.run();
    if (g_interrupted.load()) return 130;
    return rc;
  } catch (const lmgen::UsageError& e) {
    std::fprintf(stderr, "lmgen: %s\n", e.what());
    return 2;
  } catch (const lmgen::Error& e) {
    std::fprintf(stderr, "lmgen: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "lmgen: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lmgen: %s\n", e.what());
    return 1;
  }
}
