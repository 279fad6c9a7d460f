// `lmgen serve` in the lmgen binary: the server lives in its own executable, lmgen-serve, installed beside lmgen,
// because its HTTP library (cpp-httplib, and through it OpenSSL, zlib and brotli) costs every process that loads it
// about 2.7 ms of start-up (BENCHMARKS.md), and every other command would pay it. `lmgen serve ARGS` replaces this
// process with `lmgen-serve serve ARGS` (same pid, stdin/stdout/stderr and signals), before anything else runs.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "lmgen/error.hpp"

namespace lmgen::cli {

void hand_off_serve(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) != "serve") return;
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error(std::string("serve: cannot find this executable's directory: ") + ec.message());
  const std::string server = (self.parent_path() / "lmgen-serve").string();
  std::vector<char*> args{const_cast<char*>(server.c_str())};
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  ::execv(server.c_str(), args.data());
  throw Error("serve: cannot start " + server + ": " + std::strerror(errno) +
              " (the server is the lmgen-serve executable, built and installed beside lmgen)");
}

std::vector<Command> setup_serve(CLI::App& app, Context&) {
  CLI::App* sub = app.add_subcommand("serve", "An OpenAI-compatible HTTP server with batched decoding across clients "
                                              "(lmgen serve --help)");
  sub->allow_extras();
  return {Command{sub, []() -> int {
                    throw UsageError("serve must be the first argument: lmgen serve -m MODEL [options]");
                  }}};
}

}  // namespace lmgen::cli
