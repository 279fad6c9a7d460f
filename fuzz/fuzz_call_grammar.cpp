// libFuzzer target: the grammar of a forced tool call (src/reply/call_grammar.cpp) from a request's `tools`.
// Input: a mode byte (mode % 5 picks the family: generic, Hermes with thinking, Llama 3, Mistral, Phi-4-mini;
// bit 3 parallel calls; bits 4-5 where the reply starts: may open a thinking block, inside one, after a closed
// one), then the tools as JSON text, then optionally a NUL and a reply to check against the grammar.
// Contract: the tools either give a grammar or throw lmgen::Error; a grammar they give always compiles (the
// builder wrote a grammar the GBNF parser refuses: trap); checking a reply never throws.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "lmgen/error.hpp"
#include "lmgen/grammar.hpp"
#include "reply/call_grammar.hpp"

using namespace lmgen;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const char* const kTemplates[] = {
      "{{ messages }}", "<tool_call>{{ tools }}</tool_call><think>", "<|start_header_id|>\"parameters\"<|python_tag|>",
      "[TOOL_CALLS]", "<|tool|>"};
  const uint8_t mode = data[0];
  const reply::ReplyFormat format = reply::detect_format(kTemplates[mode % 5]);
  reply::CallGrammarOptions opt;
  opt.parallel = (mode & 8) != 0;
  const reply::ReasoningStart starts[] = {reply::ReasoningStart::MayOpen, reply::ReasoningStart::Open,
                                          reply::ReasoningStart::Closed, reply::ReasoningStart::Closed};
  opt.start = starts[(mode >> 4) & 3];
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t nul = in.find('\0');
  const std::string_view tools_text = in.substr(0, nul);
  const std::string_view text = nul == std::string_view::npos ? "" : in.substr(nul + 1);
  const nlohmann::ordered_json tools = nlohmann::ordered_json::parse(tools_text, nullptr, false);
  if (tools.is_discarded()) return 0;  // the server refuses a body that is not JSON
  std::string gbnf;
  try {
    gbnf = reply::call_grammar(format, tools, opt).gbnf;
  } catch (const Error&) {
    return 0;
  }
  fuzz::check_own_grammar(gbnf, text);
  return 0;
}
