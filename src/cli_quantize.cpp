// `lmgen quantize` (placeholder: being written).
#include "cli.hpp"

namespace lmgen::cli {
std::vector<Command> setup_quantize(CLI::App&, Context&) { return {}; }
}  // namespace lmgen::cli
