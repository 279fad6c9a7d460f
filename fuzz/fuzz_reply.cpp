// libFuzzer target: the reply parser (src/reply/): a model's reply split into reasoning, content and tool calls.
// Input: a mode byte (mode % 5 picks the family: generic, Hermes with thinking, Llama 3, Mistral, Phi-4-mini;
// bit 3 reads calls, bit 4 starts inside the thinking block, bit 5 allows one call only), a piece-size byte, then
// the reply's bytes.
// Contract: the parser never throws on any reply; streamed in pieces of the given size it releases exactly what
// the whole-text parse gives; with neither calls nor thinking read, the content is the reply verbatim. A
// violation aborts (libFuzzer reports it as a crash).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "reply/parser.hpp"

namespace {

lmgen::reply::ReplyFormat format_for(uint8_t mode) {
  static const char* const kTemplates[] = {
      "{{ messages }}",
      "<tool_call>{{ tools }}</tool_call><think>",
      "<|start_header_id|>\"parameters\"<|python_tag|>",
      "[TOOL_CALLS]",
      "<|tool|>",
  };
  return lmgen::reply::detect_format(kTemplates[mode % 5]);
}

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t mode = data[0];
  const size_t piece = 1 + data[1] % 16;
  const std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);
  const lmgen::reply::ReplyFormat format = format_for(mode);
  lmgen::reply::ParseOptions o;
  o.tools = (mode & 8) != 0;
  o.tool_names = {"get_weather", "f"};
  o.start = (mode & 16) ? lmgen::reply::ReasoningStart::Open : lmgen::reply::ReasoningStart::MayOpen;
  if (mode & 32) o.max_calls = 1;
  o.id_seed = "fuzz";

  const lmgen::reply::ParsedReply whole = lmgen::reply::parse_reply(format, o, text);
  lmgen::reply::ReplyParser p(format, o);
  std::string reasoning, content;
  size_t n_calls = 0;
  auto take = [&](const lmgen::reply::ReplyDelta& d) {
    reasoning += d.reasoning;
    content += d.content;
    check(d.first_call == n_calls);
    n_calls += d.n_calls;
  };
  for (size_t i = 0; i < text.size(); i += piece) take(p.feed(text.substr(i, piece)));
  take(p.finish());
  check(reasoning == whole.reasoning && content == whole.content && n_calls == whole.calls.size());
  for (size_t i = 0; i < n_calls; ++i)
    check(p.reply().calls[i].name == whole.calls[i].name && p.reply().calls[i].arguments == whole.calls[i].arguments);
  if (!o.tools && !format.reasoning) check(whole.content == text);
  return 0;
}
