// libFuzzer target: the chat-template engine (src/chat/): parse the input as a Jinja2 chat template and render it
// with one of a few fixed contexts.
// Input: a mode byte (mode % 4 picks the context: a plain conversation, one with tools and tool calls, an
// empty one, one with odd values), then the template text.
// Contract: construction and rendering either succeed or throw lmgen::Error (chat::TemplateError); the limits
// (depth, loop iterations and calls, output size) keep every input within the fuzzer's time and memory limits.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "chat/template.hpp"
#include "lmgen/error.hpp"

namespace {

nlohmann::ordered_json context(uint8_t mode) {
  using J = nlohmann::ordered_json;
  J ctx = J::object();
  ctx["bos_token"] = "<s>";
  ctx["eos_token"] = "</s>";
  ctx["add_generation_prompt"] = (mode & 4) != 0;
  switch (mode % 4) {
    case 0:
      ctx["messages"] = J::parse(R"([{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},
        {"role":"assistant","content":"  Hello \u00e9\u4e2d  "},{"role":"user","content":"Again?"}])");
      break;
    case 1:
      ctx["messages"] = J::parse(R"([{"role":"user","content":"Weather?"},{"role":"assistant","content":null,
        "tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":{"city":"Paris"}}}]},
        {"role":"tool","name":"get_weather","content":"{\"t\": 21.5}"}])");
      ctx["tools"] = J::parse(R"([{"type":"function","function":{"name":"get_weather","description":"Weather",
        "parameters":{"type":"object","properties":{"city":{"type":"string","enum":["Paris","Rome"]}},
        "required":["city"]}}}])");
      break;
    case 2: ctx["messages"] = J::array(); break;
    default:
      ctx["messages"] = J::parse(R"([{"role":"user","content":[{"type":"text","text":"a"},{"type":"image"}]},
        {"role":"assistant","content":"","x":[1,2.5,-3,true,null,{"k":[[[]]]}]}])");
      ctx["tools"] = nullptr;
      ctx["n"] = 9007199254740993LL;
      break;
  }
  return ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::string source(reinterpret_cast<const char*>(data + 1), size - 1);
  lmgen::chat::RenderOptions opt;
  opt.strftime_now = [](const std::string& fmt) { return fmt.substr(0, 64); };
  try {
    lmgen::chat::ChatTemplate t(source);
    (void)t.render(context(mode), opt);
  } catch (const lmgen::Error&) {
  }
  return 0;
}
