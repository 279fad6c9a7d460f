// `lmgen score` (placeholder: being written).
#include "cli.hpp"

namespace lmgen::cli {
std::vector<Command> setup_score(CLI::App&, Context&) { return {}; }
}  // namespace lmgen::cli
