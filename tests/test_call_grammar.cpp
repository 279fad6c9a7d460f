// reply/call_grammar: the grammar of a forced tool call, per family (from the real chat templates): it accepts the
// calls the family's parser reads (to the right tool, with arguments the schema allows) and rejects calls to
// other tools, arguments outside the schema, text around the call, and more calls than parallel_tool_calls allows.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "lmgen/error.hpp"
#include "lmgen/grammar.hpp"
#include "reply/call_grammar.hpp"
#include "reply/parser.hpp"

namespace lmgen::test {
namespace {

using OJson = nlohmann::ordered_json;
using reply::ReplyFormat;

const OJson kTools = OJson::parse(R"([
  {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object",
    "properties": {
      "city": {"type": "string", "maxLength": 20},
      "unit": {"enum": ["celsius", "fahrenheit"]},
      "days": {"type": "integer", "minimum": 1, "maximum": 7},
      "where": {"$ref": "#/$defs/place"}
    },
    "required": ["city", "days"],
    "$defs": {"place": {"type": "object", "properties": {"lat": {"type": "number"}}, "required": ["lat"]}}}}},
  {"type": "function", "function": {"name": "get_time"}}
])");

ReplyFormat format_of(const std::string& template_file) {
  return reply::detect_format(read_file(shared_path("chat/templates/" + template_file)));
}

struct Built {
  ReplyFormat format;
  std::shared_ptr<const CompiledGrammar> grammar;
};

Built build(const ReplyFormat& f, const OJson& tools = kTools, bool parallel = true,
            reply::ReasoningStart start = reply::ReasoningStart::Closed) {
  return {f, compile_gbnf(reply::call_grammar(f, tools, {.parallel = parallel, .start = start}).gbnf)};
}

// The grammar accepts `text`, and the family's parser reads it as `n_calls` calls with nothing else.
void expect_call(const Built& b, const std::string& text, size_t n_calls = 1,
                 reply::ReasoningStart start = reply::ReasoningStart::MayOpen) {
  const GrammarCheck c = check_text(b.grammar, text);
  EXPECT_TRUE(c.accepted) << text << "\nleaves the grammar at byte " << c.at;
  reply::ParseOptions o;
  o.start = start;
  o.tools = true;
  o.tool_names = {"get_weather", "get_time"};
  const reply::ParsedReply r = reply::parse_reply(b.format, o, text);
  EXPECT_EQ(r.calls.size(), n_calls) << text;
  EXPECT_EQ(r.content, "") << text;
}

void expect_rejected(const Built& b, const std::string& text) {
  EXPECT_FALSE(check_text(b.grammar, text).accepted) << text;
}

TEST(CallGrammar, Hermes) {
  const Built b = build(format_of("Qwen-Qwen2.5-7B-Instruct.jinja"));
  expect_call(b, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"days\": 3}}\n</tool_call>");
  expect_call(b, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"days\": 7, "
                 "\"unit\": \"celsius\", \"where\": {\"lat\": 59.9}}}\n</tool_call>");
  expect_call(b, "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>");
  expect_call(b, "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>\n"
                 "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"\", \"days\": 1}}\n</tool_call>", 2);
  expect_rejected(b, "<tool_call>\n{\"name\": \"get_news\", \"arguments\": {}}\n</tool_call>");
  expect_rejected(b, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>");
  expect_rejected(b, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"days\": 8}}\n</tool_call>");
  expect_rejected(b, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"days\": 2, "
                     "\"unit\": \"kelvin\"}}\n</tool_call>");
  expect_rejected(b, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"days\": 2, "
                     "\"where\": {}}}\n</tool_call>");
  expect_rejected(b, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"a city name that is far too "
                     "long\", \"days\": 2}}\n</tool_call>");
  expect_rejected(b, "Sure! <tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>");
  expect_rejected(b, "{\"name\": \"get_time\", \"arguments\": {}}");
  expect_rejected(b, "");
}

TEST(CallGrammar, HermesOneCallWhenNotParallel) {
  const Built b = build(format_of("Qwen-Qwen2.5-7B-Instruct.jinja"), kTools, false);
  expect_call(b, "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>");
  expect_rejected(b, "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>\n"
                     "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>");
}

TEST(CallGrammar, NamedFunctionOnly) {
  const Built b = build(format_of("Qwen-Qwen2.5-7B-Instruct.jinja"), OJson::array({kTools[1]}));
  expect_call(b, "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>");
  expect_rejected(b, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"days\": 3}}\n</tool_call>");
}

TEST(CallGrammar, Llama3) {
  for (const char* t : {"meta-llama-Llama-3.2-3B-Instruct.jinja", "meta-llama-Llama-3.1-8B-Instruct.jinja"}) {
    SCOPED_TRACE(t);
    const Built b = build(format_of(t));
    expect_call(b, "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\", \"days\": 3}}");
    expect_call(b, "{\"name\": \"get_time\", \"parameters\": {}}");
    expect_rejected(b, "{\"name\": \"get_time\", \"arguments\": {}}");
    expect_rejected(b, "{\"name\": \"get_time\", \"parameters\": {}}; {\"name\": \"get_time\", \"parameters\": {}}");
    expect_rejected(b, "{\"name\": \"get_weather\", \"parameters\": {\"city\": 3, \"days\": 3}}");
  }
}

TEST(CallGrammar, Mistral) {
  const Built b = build(format_of("mistralai-Mistral-Nemo-Instruct-2407.jinja"));
  expect_call(b, "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"days\": 3}}]");
  expect_call(b, "[TOOL_CALLS][{\"name\": \"get_time\", \"arguments\": {}}, "
                 "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"days\": 3, \"where\": {\"lat\": 1}}}]", 2);
  expect_rejected(b, "[TOOL_CALLS][]");
  expect_rejected(b, "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"days\": 3}}]");
  const Built one = build(b.format, kTools, false);
  expect_call(one, "[TOOL_CALLS][{\"name\": \"get_time\", \"arguments\": {}}]");
  expect_rejected(one, "[TOOL_CALLS][{\"name\": \"get_time\", \"arguments\": {}}, {\"name\": \"get_time\", \"arguments\": {}}]");
}

TEST(CallGrammar, Phi4Mini) {
  const Built b = build(reply::detect_format("<|tool|>{{ tools }}<|/tool|>"));
  expect_call(b, "<|tool_call|>[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"days\": 3}}]<|/tool_call|>");
  expect_rejected(b, "<|tool_call|>[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"days\": 0}}]<|/tool_call|>");
  expect_rejected(b, "[{\"name\": \"get_time\", \"arguments\": {}}]");
}

TEST(CallGrammar, Generic) {
  const Built b = build(format_of("google-gemma-2-2b-it.jinja"));
  expect_call(b, "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"days\": 3}}");
  expect_rejected(b, "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\", \"days\": 3}}");
  expect_rejected(b, "I would call get_time.");
}

// A template that thinks: the calls may follow a thinking block (the parser reads it apart), or must when the
// prompt opened one; with thinking off (the prompt closed the block) the reply is the calls alone.
TEST(CallGrammar, ThinkingBeforeTheCall) {
  const ReplyFormat f = reply::detect_format(
      nlohmann::json::parse(read_file(shared_path("fixtures/tiny-qwen3/hf/tokenizer_config.json")))["chat_template"].get<std::string>());
  ASSERT_TRUE(f.reasoning);
  const std::string call = "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>";
  const Built may = build(f, kTools, true, reply::ReasoningStart::MayOpen);
  expect_call(may, call);
  expect_call(may, "<think>\nThe user wants the time. 1 < 2.\n</think>\n\n" + call);
  expect_rejected(may, "<think>\nNo call follows.\n</think>\n\n");
  expect_rejected(may, "<think>\nunclosed " + call);
  const Built open = build(f, kTools, true, reply::ReasoningStart::Open);
  expect_call(open, "The time, then.\n</think>\n" + call, 1, reply::ReasoningStart::Open);
  expect_rejected(open, call);
  const Built closed = build(f, kTools, true, reply::ReasoningStart::Closed);
  expect_call(closed, call, 1, reply::ReasoningStart::Closed);
  expect_rejected(closed, "<think>\n</think>\n" + call);
}

TEST(CallGrammar, BadToolsNameTheTool) {
  const ReplyFormat f = format_of("Qwen-Qwen2.5-7B-Instruct.jinja");
  EXPECT_THROW(reply::call_grammar(f, OJson::array()), Error);
  EXPECT_THROW(reply::call_grammar(f, OJson::parse(R"([{"type": "function"}])")), Error);
  try {
    reply::call_grammar(f, OJson::parse(R"([{"type": "function", "function": {"name": "f", "parameters": {"type": "thing"}}}])"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'f'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lmgen::test
