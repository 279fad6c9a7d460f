// Grammar options of every generating command (--grammar, --grammar-file, -j/--json-schema, --json-schema-file,
// --json) and `lmgen grammar`, which prints the GBNF of a schema or checks a text against a grammar:
//   lmgen grammar -j SCHEMA | --json-schema-file S            print the GBNF
//   lmgen grammar (...) --check [-p TEXT | -f FILE | stdin]    exit 0 accepted, 1 rejected (stderr: byte offset
//                                                              and what was expected); --jsonl: {"accepted", "at"}
#include <unistd.h>

#include "cli/generate.hpp"
#include "lmgen/error.hpp"
#include "lmgen/grammar.hpp"
#include "util/read_file.hpp"

namespace lmgen::cli {

void add_grammar_options(CLI::App& app, GrammarArgs& g) {
  app.add_option("--grammar", g.gbnf, "Constrain the output to this GBNF grammar (llama.cpp's dialect)")->group("Grammar");
  app.add_option("--grammar-file", g.gbnf_file, "Constrain the output to the GBNF grammar in this file")->group("Grammar");
  app.add_option("-j,--json-schema", g.schema,
                 "Constrain the output to JSON following this JSON schema (inline JSON, or a file name)")
      ->group("Grammar");
  app.add_option("--json-schema-file", g.schema_file, "Constrain the output to JSON following the schema in this file")
      ->group("Grammar");
  app.add_flag("--json", g.json, "Constrain the output to a JSON object")->group("Grammar");
}

std::string grammar_text(const GrammarArgs& g, bool quiet) {
  const int given = !g.gbnf.empty() + !g.gbnf_file.empty() + !g.schema.empty() + !g.schema_file.empty() + g.json;
  if (given > 1)
    throw UsageError("give one of --grammar, --grammar-file, -j/--json-schema, --json-schema-file and --json");
  if (!g.gbnf.empty()) return g.gbnf;
  if (!g.gbnf_file.empty()) return read_whole_file(g.gbnf_file);
  if (g.json) return json_object_gbnf();
  if (g.schema.empty() && g.schema_file.empty()) return "";
  std::string schema = g.schema;
  // -j takes the schema itself, as llama.cpp's; a value that is not JSON but names a file is read from it.
  const size_t first = schema.find_first_not_of(" \t\r\n");
  const bool looks_json = first != std::string::npos && (schema[first] == '{' || schema.compare(first, 4, "true") == 0);
  if (!g.schema_file.empty()) schema = read_whole_file(g.schema_file);
  else if (!looks_json && access(schema.c_str(), R_OK) == 0) schema = read_whole_file(schema);
  std::vector<std::string> warnings;
  std::string gbnf = json_schema_to_gbnf(schema, &warnings);
  if (!quiet)
    for (const std::string& w : warnings) std::fprintf(stderr, "lmgen: warning: json schema: %s\n", w.c_str());
  return gbnf;
}

namespace {

struct GrammarCommandArgs {
  GrammarArgs grammar;
  PromptArgs text;
  bool check = false;
  bool jsonl = false;
  bool quiet = false;
};

int run_grammar(const GrammarCommandArgs& a, Context& ctx) {
  const std::string gbnf = grammar_text(a.grammar, a.quiet);
  if (gbnf.empty()) throw UsageError("give a grammar: --grammar, --grammar-file, -j, --json-schema-file or --json");
  auto g = compile_gbnf(gbnf);  // checked even when only printed
  if (!a.check) {
    write_out(ctx, gbnf.back() == '\n' ? gbnf : gbnf + "\n");
    return 0;
  }
  const std::string text = read_prompt(a.text);
  const GrammarCheck r = check_text(g, text);
  if (a.jsonl) {
    nlohmann::ordered_json j = {{"accepted", r.accepted}, {"at", nullptr}};
    if (!r.accepted) j["at"] = r.at;
    write_out(ctx, json_line(j));
  }
  if (!r.accepted && !a.quiet) {
    std::string want;
    for (const std::string& e : r.expected) want += (want.empty() ? "" : ", ") + e;
    std::fprintf(stderr, "lmgen: rejected at byte %zu%s: expected %s\n", r.at,
                 r.at == text.size() ? " (end of text)" : "", want.empty() ? "nothing more" : want.c_str());
  }
  return r.accepted ? 0 : 1;
}

}  // namespace

std::vector<Command> setup_grammar(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<GrammarCommandArgs>();
  CLI::App* sub = app.add_subcommand("grammar", "Print the GBNF grammar of a JSON schema, or check a text against a grammar");
  sub->footer(
      "Examples:\n"
      "  lmgen grammar --json-schema-file schema.json          # the GBNF it converts to\n"
      "  lmgen grammar --grammar-file g.gbnf --check -f out.txt\n"
      "  echo '{\"a\": 1}' | lmgen grammar -j '{\"type\": \"object\"}' --check --jsonl\n"
      "Exit status: 0 accepted (or printed), 1 rejected or an invalid grammar or schema, 2 usage error.");
  add_grammar_options(*sub, a->grammar);
  sub->add_flag("--check", a->check, "Check that the whole text (-p, -f or standard input) is in the language");
  sub->add_option("-p,--prompt", a->text.prompt, "The text to check")->each([p = a.get()](const std::string&) {
    p->text.prompt_set = true;
  });
  sub->add_option("-f,--file", a->text.file, "Read the text to check from a file");
  sub->add_flag("--jsonl", a->jsonl, "With --check: print {\"accepted\": bool, \"at\": byte offset or null}");
  sub->add_flag("-q,--quiet", a->quiet, "No warnings or rejection message on stderr");
  Context* c = &ctx;
  return {Command{sub, [a, c] { return run_grammar(*a, *c); }}};
}

}  // namespace lmgen::cli
