// lmgen — command-line entry point. Parses flags, runs the command, and maps errors to exit codes:
//   0 success, 1 any failure (one line on stderr), 2 usage error, 70 internal error (an exception that is not an
//   lmgen::Error: a bug, reported as one), 130 interrupted by Ctrl-C / SIGTERM.
// An option either applies or is an error: options of the generation command given before a subcommand
// (`lmgen -m x tokenize`) are refused, as is a second subcommand.
#include <algorithm>
#include <cstdio>
#include <initializer_list>
#include <iostream>
#include <string_view>

#include "cli/cli.hpp"
#include "lmgen/error.hpp"

namespace {

// The subcommand named on the command line (for "see lmgen SUB --help"), or "" for generation.
std::string subcommand_named(const CLI::App& app, const std::vector<std::string>& args) {
  for (const std::string& a : args)
    for (const CLI::App* sub : app.get_subcommands({}))
      if (sub->get_name() == a) return a;
  return "";
}

// The subcommands, by the names each setup function declares. Only those named on the command line are declared
// (all of them when help is asked for, since it lists them), so a generation does not pay for declaring the options
// of every subcommand (BENCHMARKS.md, "Measurements behind code choices"). A name missing here makes its subcommand
// unknown, which its own tests would show.
struct Subcommands {
  std::initializer_list<std::string_view> names;
  std::vector<lmgen::cli::Command> (*setup)(CLI::App&, lmgen::cli::Context&);
};
const Subcommands kSubcommands[] = {
    {{"tokenize", "detokenize"}, lmgen::cli::setup_tokenize},
    {{"score"}, lmgen::cli::setup_score},
    {{"bench"}, lmgen::cli::setup_bench},
    {{"quantize"}, lmgen::cli::setup_quantize},
    {{"chat-template"}, lmgen::cli::setup_chat_template},
    {{"chat"}, lmgen::cli::setup_chat},
    {{"convert"}, lmgen::cli::setup_convert},
    {{"grammar"}, lmgen::cli::setup_grammar},
    {{"serve"}, lmgen::cli::setup_serve},
};

// "tokenize, detokenize, ..., serve", from the table.
std::string subcommand_list() {
  std::string s;
  for (const Subcommands& sub : kSubcommands)
    for (std::string_view n : sub.names) s += (s.empty() ? "" : ", ") + std::string(n);
  return s;
}

// Whether an argument may ask for help: --help, --help-all, or a short-flag group holding h (over-inclusive is
// harmless: it only declares every subcommand, as help needs).
bool asks_for_help(const std::string& a) {
  if (a.rfind("--help", 0) == 0) return true;
  return a.size() > 1 && a[0] == '-' && a[1] != '-' && a.find('h') != std::string::npos;
}

bool wanted(const Subcommands& s, const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (asks_for_help(a)) return true;
    for (std::string_view n : s.names)
      if (a == n) return true;
  }
  return false;
}

// Exit status of a bug (BSD's EX_SOFTWARE): an exception that is not lmgen's own reached main.
constexpr int kInternalError = 70;

// A message on one line: a newline inside it would look like two messages.
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

std::string help_hint(const std::string& sub) { return sub.empty() ? "lmgen --help" : "lmgen " + sub + " --help"; }

// Refuses options of the main app that were given alongside a subcommand (they would be silently ignored).
void check_nothing_before_subcommand(const CLI::App& app, const std::string& sub) {
  if (sub.empty()) return;
  for (const CLI::Option* o : app.get_options())
    if (o->count() > 0)
      throw lmgen::UsageError("option " + o->get_name(false, true) + " given before the subcommand '" + sub +
                              "' does not apply to it; put options after the subcommand (see " + help_hint(sub) + ")");
}

int parse_and_run(int argc, char** argv, lmgen::cli::Context& ctx) {
  std::vector<std::string> args(argv + 1, argv + argc);
  lmgen::cli::rewrite_llama_args(args);
  CLI::App app{"lmgen — run small transformer language models from the shell"};
  app.name("lmgen");
  app.require_subcommand(0, 1);
  std::vector<lmgen::cli::Command> commands;
  lmgen::cli::Command generate = lmgen::cli::setup_generate(app, ctx);
  for (const Subcommands& s : kSubcommands)
    if (wanted(s, args))
      for (auto& c : s.setup(app, ctx)) commands.push_back(std::move(c));
  const std::string sub = subcommand_named(app, args);
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes the arguments last first
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::CallForVersion&) {
    std::cout << lmgen::cli::version_text();
    return 0;
  } catch (const CLI::ParseError& e) {
    // A word lmgen does not know where a subcommand could be: perhaps a misspelt one, so name them all.
    const bool stray = sub.empty() && dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr;
    std::fprintf(stderr, "lmgen: %s (%ssee %s)\n", one_line(e.what()).c_str(),
                 stray ? ("the subcommands are " + subcommand_list() + "; ").c_str() : "", help_hint(sub).c_str());
    return 2;
  }
  check_nothing_before_subcommand(app, sub);
  try {
    for (auto& c : commands)
      if (c.app->parsed()) return c.run();
    return generate.run();
  } catch (const lmgen::UsageError& e) {
    const std::string msg = e.what();
    if (msg.find("--help") != std::string::npos) throw;
    throw lmgen::UsageError(msg + " (see " + help_hint(sub) + ")");
  }
}

}  // namespace

int main(int argc, char** argv) {
  lmgen::cli::Context ctx;
  ctx.interrupted = lmgen::cli::install_signal_handlers();
  auto stopped = [&ctx] { return ctx.interrupted->load(); };
  try {
    lmgen::cli::hand_off_serve(argc, argv);
    const int rc = parse_and_run(argc, argv, ctx);
    return stopped() && !ctx.signal_is_normal_end ? 130 : rc;
  } catch (const lmgen::cli::Interrupted&) {
    return 130;
  } catch (const lmgen::UsageError& e) {
    std::fprintf(stderr, "lmgen: %s\n", one_line(e.what()).c_str());
    return 2;
  } catch (const lmgen::Error& e) {
    if (stopped()) return 130;  // work cut short by Ctrl-C (e.g. a tensor left unwritten): not a failure to report
    std::fprintf(stderr, "lmgen: %s\n", one_line(e.what()).c_str());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "lmgen: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    // Every problem with an input is an lmgen::Error saying which input; a library's own exception reaching here
    // (nlohmann's "[json.exception...]", std::filesystem's, a substr range) is a bug in lmgen, and says so.
    if (stopped()) return 130;
    std::fprintf(stderr, "lmgen: internal error: %s, please report\n", one_line(e.what()).c_str());
    return kInternalError;
  } catch (...) {
    if (stopped()) return 130;
    std::fprintf(stderr, "lmgen: internal error: an unknown exception, please report\n");
    return kInternalError;
  }
}
