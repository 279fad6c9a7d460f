// `lmgen bench` (placeholder: being written).
#include "cli.hpp"

namespace lmgen::cli {
std::vector<Command> setup_bench(CLI::App&, Context&) { return {}; }
}  // namespace lmgen::cli
