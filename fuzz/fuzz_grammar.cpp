// libFuzzer target: the GBNF parser, the matcher and the JSON schema converter.
// Input: one mode byte, then
//   mode even: GBNF text up to the first NUL byte, then a text to check against it (parse errors are expected);
//   mode odd:  a JSON schema; its GBNF (when it converts) must parse, and the rest after a NUL is checked against it.
#include <string_view>

#include "common.hpp"
#include "lmgen/error.hpp"
#include "lmgen/grammar.hpp"

using namespace lmgen;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t nul = in.find('\0');
  const std::string_view head = in.substr(0, nul), text = nul == std::string_view::npos ? "" : in.substr(nul + 1);
  if (data[0] % 2 == 1) {
    std::string gbnf;
    try {
      gbnf = json_schema_to_gbnf(head);
    } catch (const Error&) {
      return 0;
    }
    fuzz::check_own_grammar(gbnf, text);  // the converter's grammar must parse
    return 0;
  }
  std::shared_ptr<const CompiledGrammar> g;
  try {
    g = compile_gbnf(head);
  } catch (const Error&) {
    return 0;
  }
  (void)check_text(g, text);
  return 0;
}
