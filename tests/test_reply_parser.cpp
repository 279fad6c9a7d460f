// reply/: the call formats and thinking markers read from the real chat templates, and ReplyParser on every
// family's replies: complete, split at every byte (the pieces must add up to the whole-text parse), malformed
// (kept as content, verbatim), several calls, calls among text, with and without reasoning.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "reply/format.hpp"
#include "reply/json_span.hpp"
#include "reply/parser.hpp"

namespace lmgen::test {
namespace {

using reply::Family;
using reply::ParsedReply;
using reply::ParseOptions;
using reply::ReasoningStart;
using reply::ReplyFormat;

ReplyFormat format_of(const std::string& template_file) {
  return reply::detect_format(read_file(shared_path("chat/templates/" + template_file)));
}

std::string qwen3_template() {
  return nlohmann::json::parse(read_file(shared_path("fixtures/tiny-qwen3/hf/tokenizer_config.json")))["chat_template"];
}

ParseOptions with_tools(std::vector<std::string> names = {"get_weather", "get_time"}) {
  ParseOptions o;
  o.tools = true;
  o.tool_names = std::move(names);
  o.id_seed = "req-1";
  return o;
}

// What the deltas of one streamed parse add up to; pieces are the text split at the given offsets.
ParsedReply streamed(const ReplyFormat& f, const ParseOptions& o, const std::string& text, std::vector<size_t> cuts) {
  reply::ReplyParser p(f, o);
  ParsedReply sum;
  auto take = [&](const reply::ReplyDelta& d) {
    sum.reasoning += d.reasoning;
    sum.content += d.content;
    EXPECT_EQ(d.first_call, sum.calls.size());
    for (size_t i = 0; i < d.n_calls; ++i) sum.calls.push_back(p.reply().calls[d.first_call + i]);
  };
  size_t at = 0;
  cuts.push_back(text.size());
  for (size_t c : cuts) {
    take(p.feed(std::string_view(text).substr(at, c - at)));
    at = c;
  }
  take(p.finish());
  EXPECT_EQ(sum.reasoning, p.reply().reasoning);
  EXPECT_EQ(sum.content, p.reply().content);
  EXPECT_EQ(sum.calls.size(), p.reply().calls.size());
  return sum;
}

void expect_same(const ParsedReply& a, const ParsedReply& b, const std::string& where) {
  EXPECT_EQ(a.reasoning, b.reasoning) << where;
  EXPECT_EQ(a.content, b.content) << where;
  ASSERT_EQ(a.calls.size(), b.calls.size()) << where;
  for (size_t i = 0; i < a.calls.size(); ++i) {
    EXPECT_EQ(a.calls[i].id, b.calls[i].id) << where;
    EXPECT_EQ(a.calls[i].name, b.calls[i].name) << where;
    EXPECT_EQ(a.calls[i].arguments, b.calls[i].arguments) << where;
  }
}

// Parses the whole text, then checks that every two-piece split and the byte-by-byte feed give the same.
ParsedReply parse_all_ways(const ReplyFormat& f, const ParseOptions& o, const std::string& text) {
  const ParsedReply whole = reply::parse_reply(f, o, text);
  for (size_t k = 0; k <= text.size(); ++k) expect_same(streamed(f, o, text, {k}), whole, "split at " + std::to_string(k));
  std::vector<size_t> every;
  for (size_t k = 1; k < text.size(); ++k) every.push_back(k);
  expect_same(streamed(f, o, text, every), whole, "byte by byte");
  return whole;
}

struct Call {
  std::string name;
  nlohmann::json args;
};

void expect_reply(const ParsedReply& r, const std::string& reasoning, const std::string& content,
                  const std::vector<Call>& calls) {
  EXPECT_EQ(r.reasoning, reasoning);
  EXPECT_EQ(r.content, content);
  ASSERT_EQ(r.calls.size(), calls.size());
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(r.calls[i].name, calls[i].name);
    EXPECT_EQ(nlohmann::json::parse(r.calls[i].arguments), calls[i].args) << r.calls[i].arguments;
    EXPECT_EQ(r.calls[i].id.size(), 9u);
    for (size_t j = 0; j < i; ++j) EXPECT_NE(r.calls[i].id, r.calls[j].id);
  }
}

const nlohmann::json kParis = {{"city", "Paris"}};

TEST(ReplyFormat, DetectedFromTheRealTemplates) {
  EXPECT_EQ(format_of("Qwen-Qwen2.5-7B-Instruct.jinja").family, Family::Hermes);
  EXPECT_EQ(format_of("NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja").family, Family::Hermes);
  EXPECT_EQ(format_of("NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja").family, Family::Hermes);
  EXPECT_EQ(format_of("meta-llama-Llama-3.1-8B-Instruct.jinja").family, Family::Llama3);
  EXPECT_EQ(format_of("meta-llama-Llama-3.2-3B-Instruct.jinja").family, Family::Llama3);
  EXPECT_EQ(format_of("meta-llama-Llama-3.3-70B-Instruct.jinja").family, Family::Llama3);
  EXPECT_EQ(format_of("mistralai-Mistral-Nemo-Instruct-2407.jinja").family, Family::Mistral);
  EXPECT_EQ(format_of("google-gemma-2-2b-it.jinja").family, Family::Generic);
  EXPECT_EQ(format_of("meetkai-functionary-medium-v3.1.jinja").family, Family::Generic);
  EXPECT_EQ(reply::detect_format("{{ '<|system|>' + m.content + '<|tool|>' + m.tools + '<|/tool|>' }}").family,
            Family::Phi4Mini);
  EXPECT_FALSE(format_of("Qwen-Qwen2.5-7B-Instruct.jinja").reasoning);
  EXPECT_FALSE(format_of("meta-llama-Llama-3.2-3B-Instruct.jinja").reasoning);
  const ReplyFormat r1 = format_of("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja");
  EXPECT_TRUE(r1.reasoning);
  EXPECT_EQ(r1.family, Family::Generic);
  const ReplyFormat q3 = reply::detect_format(qwen3_template());
  EXPECT_EQ(q3.family, Family::Hermes);
  EXPECT_TRUE(q3.reasoning);
}

TEST(ReplyFormat, ReasoningStartFromThePromptsEnd) {
  const ReplyFormat q3 = reply::detect_format(qwen3_template());
  EXPECT_EQ(reply::reasoning_start(q3, "<|im_start|>assistant\n"), ReasoningStart::MayOpen);
  EXPECT_EQ(reply::reasoning_start(q3, "<|im_start|>assistant\n<think>\n\n</think>\n\n"), ReasoningStart::Closed);
  EXPECT_EQ(reply::reasoning_start(q3, "<｜Assistant｜><think>\n"), ReasoningStart::Open);
  const ReplyFormat plain = format_of("Qwen-Qwen2.5-7B-Instruct.jinja");
  EXPECT_EQ(reply::reasoning_start(plain, "x<think>\n"), ReasoningStart::MayOpen);  // the template does not think
}

TEST(ReplyJsonSpan, CompletePartialInvalid) {
  EXPECT_EQ(reply::scan_json(R"({"a": [1, "}"]} tail)").state, reply::JsonState::Complete);
  EXPECT_EQ(reply::scan_json(R"({"a": [1, "}"]} tail)").end, 15u);
  EXPECT_EQ(reply::scan_json(R"({"a": [1, "}")").state, reply::JsonState::Partial);
  EXPECT_EQ(reply::scan_json(R"({"a": tr)").state, reply::JsonState::Partial);
  EXPECT_EQ(reply::scan_json(R"({"a": "x\)").state, reply::JsonState::Partial);
  EXPECT_EQ(reply::scan_json(R"({"a" x)").state, reply::JsonState::Invalid);
  EXPECT_EQ(reply::scan_json(R"({"a": 1]})").state, reply::JsonState::Invalid);
  EXPECT_EQ(reply::scan_json(R"({a})").state, reply::JsonState::Invalid);
  EXPECT_EQ(reply::scan_json("x").state, reply::JsonState::Invalid);
}

TEST(ReplyParser, HermesCalls) {
  const ReplyFormat f = format_of("Qwen-Qwen2.5-7B-Instruct.jinja");
  const ParseOptions o = with_tools();
  const std::string call = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>";
  expect_reply(parse_all_ways(f, o, call), "", "", {{"get_weather", kParis}});
  expect_reply(parse_all_ways(f, o, "Let me check.\n" + call), "", "Let me check.", {{"get_weather", kParis}});
  expect_reply(parse_all_ways(f, o, call + "\n" + call), "", "", {{"get_weather", kParis}, {"get_weather", kParis}});
  expect_reply(parse_all_ways(f, o, "A " + call + " B " + call + " C"), "", "A B C",
               {{"get_weather", kParis}, {"get_weather", kParis}});
  // The reply may end right after the JSON; the arguments may come as a string holding the object.
  expect_reply(parse_all_ways(f, o, "<tool_call>{\"name\": \"get_time\", \"arguments\": \"{\\\"tz\\\": \\\"UTC\\\"}\"}"),
               "", "", {{"get_time", {{"tz", "UTC"}}}});
  // OpenAI's own shape inside the tags.
  expect_reply(parse_all_ways(f, o, R"(<tool_call>{"type": "function", "function": {"name": "get_time", "arguments": {}}}</tool_call>)"),
               "", "", {{"get_time", nlohmann::json::object()}});
}

TEST(ReplyParser, HermesMalformedStaysContentVerbatim) {
  const ReplyFormat f = format_of("Qwen-Qwen2.5-7B-Instruct.jinja");
  const ParseOptions o = with_tools();
  for (const std::string text : {
           R"(<tool_call>{"name": "get_weather", "arguments": {"city": }}</tool_call>)",  // broken JSON
           R"(<tool_call>{"name": "get_weather", "argu)",                                  // cut off
           R"(<tool_call>{"name": "launch_rockets", "arguments": {}}</tool_call>)",        // not one of the tools
           R"(<tool_call>{"name": "get_weather"}</tool_call>)",                            // no arguments
           R"(<tool_call>{"name": "get_weather", "arguments": [1]}</tool_call>)",          // arguments not an object
           R"(<tool_call>{"name": "get_weather", "arguments": {}} and more</tool_call>)",  // junk before the close
           R"(Use <tool_call> tags to call a tool.)",
           R"(<tool_call><tool_call><tool_call>)",
           "<tool_call>",
           "<tool_",
       }) {
    const ParsedReply r = parse_all_ways(f, o, text);
    EXPECT_EQ(r.content, text);
    EXPECT_TRUE(r.calls.empty()) << text;
  }
  // A broken call followed by a good one: the first is text, the second a call.
  const std::string good = R"(<tool_call>{"name": "get_time", "arguments": {}}</tool_call>)";
  expect_reply(parse_all_ways(f, o, "<tool_call>{oops}</tool_call>\n" + good), "", "<tool_call>{oops}</tool_call>",
               {{"get_time", nlohmann::json::object()}});
}

TEST(ReplyParser, HermesWithReasoningQwen3) {
  const ReplyFormat f = reply::detect_format(qwen3_template());
  ParseOptions o = with_tools();
  const std::string call = R"(<tool_call>
{"name": "get_weather", "arguments": {"city": "Paris"}}
</tool_call>)";
  expect_reply(parse_all_ways(f, o, "<think>\nThe user wants weather.\n</think>\n\n" + call), "The user wants weather.", "",
               {{"get_weather", kParis}});
  expect_reply(parse_all_ways(f, o, "<think>\nHmm.\n</think>\n\nIt is sunny."), "Hmm.", "It is sunny.", {});
  // A think block closed in the prompt (enable_thinking false): the reply is the answer, markers and all.
  o.start = ReasoningStart::Closed;
  expect_reply(parse_all_ways(f, o, "<think>x</think>y " + call), "", "<think>x</think>y", {{"get_weather", kParis}});
  // Thinking not read (--reasoning-format none): all of it is content.
  o.start = ReasoningStart::MayOpen;
  o.reasoning = false;
  expect_reply(parse_all_ways(f, o, "<think>\nHmm.\n</think>\n\nIt is sunny."), "", "<think>\nHmm.\n</think>\n\nIt is sunny.", {});
}

TEST(ReplyParser, Llama3Calls) {
  const ReplyFormat f = format_of("meta-llama-Llama-3.2-3B-Instruct.jinja");
  const ParseOptions o = with_tools();
  const std::string call = R"({"name": "get_weather", "parameters": {"city": "Paris"}})";
  expect_reply(parse_all_ways(f, o, call), "", "", {{"get_weather", kParis}});
  expect_reply(parse_all_ways(f, o, "  \n" + call + "\n"), "", "", {{"get_weather", kParis}});
  expect_reply(parse_all_ways(f, o, "<|python_tag|>" + call), "", "", {{"get_weather", kParis}});
  expect_reply(parse_all_ways(f, o, "Sure. <|python_tag|>" + call), "", "Sure.", {{"get_weather", kParis}});
  expect_reply(parse_all_ways(f, o, call + "; " + R"({"name": "get_time", "parameters": {}})"), "", "",
               {{"get_weather", kParis}, {"get_time", nlohmann::json::object()}});
  expect_reply(parse_all_ways(f, o, R"({"type": "function", "name": "get_time", "parameters": {"tz": "UTC"}} Done.)"),
               "", "Done.", {{"get_time", {{"tz", "UTC"}}}});
  // JSON that is not a call at the start, or a call that is not at the start: content.
  for (const std::string& text : {std::string(R"({"city": "Paris"})"), "The call would be " + call,
                                 std::string(R"({"name": "get_weather", "parameters": {"city": )"),
                                 std::string("{not json}"), std::string("[1, 2]")}) {
    const ParsedReply r = parse_all_ways(f, o, text);
    EXPECT_EQ(r.content, text);
    EXPECT_TRUE(r.calls.empty()) << text;
  }
}

TEST(ReplyParser, MistralCalls) {
  const ReplyFormat f = format_of("mistralai-Mistral-Nemo-Instruct-2407.jinja");
  const ParseOptions o = with_tools();
  const std::string calls = R"([{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "get_time", "arguments": {}}])";
  const std::vector<Call> both = {{"get_weather", kParis}, {"get_time", nlohmann::json::object()}};
  expect_reply(parse_all_ways(f, o, "[TOOL_CALLS]" + calls), "", "", both);
  expect_reply(parse_all_ways(f, o, calls), "", "", both);  // [TOOL_CALLS] is a control token the text may lack
  expect_reply(parse_all_ways(f, o, "Checking. [TOOL_CALLS]" + calls), "", "Checking.", both);
  for (const std::string& text : {std::string("[TOOL_CALLS][]"), std::string("[TOOL_CALLS][{\"name\": \"get_time\"}]"),
                                 std::string("[1, 2, 3]"), "[TOOL_CALLS]" + calls.substr(0, 30)}) {
    const ParsedReply r = parse_all_ways(f, o, text);
    EXPECT_EQ(r.content, text);
    EXPECT_TRUE(r.calls.empty()) << text;
  }
}

TEST(ReplyParser, Phi4MiniCalls) {
  const ReplyFormat f = reply::detect_format("<|tool|>{{ tools }}<|/tool|>");
  const ParseOptions o = with_tools();
  expect_reply(parse_all_ways(f, o, R"(<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Paris"}}]<|/tool_call|>)"),
               "", "", {{"get_weather", kParis}});
  expect_reply(parse_all_ways(f, o, R"(Ok <|tool_call|>{"name": "get_time", "arguments": {}}<|/tool_call|> bye)"), "",
               "Ok bye", {{"get_time", nlohmann::json::object()}});
  const std::string broken = R"(<|tool_call|>[{"name": "get_time", "arguments": {}}]<|/tool_cal)";
  EXPECT_EQ(parse_all_ways(f, o, broken + "l|>").calls.size(), 1u);
  EXPECT_EQ(parse_all_ways(f, o, broken + "X").content, broken + "X");
}

TEST(ReplyParser, GenericJsonCalls) {
  const ReplyFormat f = format_of("google-gemma-2-2b-it.jinja");
  const ParseOptions o = with_tools();
  expect_reply(parse_all_ways(f, o, R"({"tool_call": {"name": "get_weather", "arguments": {"city": "Paris"}}})"), "", "",
               {{"get_weather", kParis}});
  expect_reply(parse_all_ways(f, o, R"({"tool_calls": [{"name": "get_time", "arguments": {}}, {"name": "get_weather", "arguments": {"city": "Paris"}}]})"),
               "", "", {{"get_time", nlohmann::json::object()}, {"get_weather", kParis}});
  expect_reply(parse_all_ways(f, o, R"({"name": "get_time", "arguments": {}})"), "", "", {{"get_time", nlohmann::json::object()}});
  const std::string text = R"(Call {"name": "get_time", "arguments": {}})";
  EXPECT_EQ(parse_all_ways(f, o, text).content, text);
}

TEST(ReplyParser, ReasoningAlone) {
  const ReplyFormat r1 = format_of("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja");
  ParseOptions o;
  expect_reply(parse_all_ways(r1, o, "<think>\nStep one.\nStep two.\n</think>\n\nFour."), "Step one.\nStep two.", "Four.", {});
  expect_reply(parse_all_ways(r1, o, "  <think>a</think>b"), "a", "b", {});
  expect_reply(parse_all_ways(r1, o, "<think>\nunfinished thought\n"), "unfinished thought", "", {});
  expect_reply(parse_all_ways(r1, o, "Four. <think>late</think>"), "", "Four. <think>late</think>", {});
  expect_reply(parse_all_ways(r1, o, "<thinking>no</thinking>"), "", "<thinking>no</thinking>", {});
  o.start = ReasoningStart::Open;  // the prompt opened the block (R1's generation prompt ends "<think>\n")
  expect_reply(parse_all_ways(r1, o, "Let me see.\n</think>\n\nFour."), "Let me see.", "Four.", {});
  expect_reply(parse_all_ways(r1, o, "no close marker"), "no close marker", "", {});
}

TEST(ReplyParser, ToolsOffOrNoneGivenKeepsTheText) {
  const ReplyFormat f = format_of("Qwen-Qwen2.5-7B-Instruct.jinja");
  const std::string text = "  <tool_call>{\"name\": \"get_time\", \"arguments\": {}}</tool_call>  \n";
  EXPECT_EQ(parse_all_ways(f, ParseOptions{}, text).content, text);
  const ParsedReply r = parse_all_ways(f, with_tools({}), text);  // any name
  EXPECT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.content, "");
}

TEST(ReplyParser, ParallelToolCallsFalseKeepsOnlyTheFirst) {
  const ReplyFormat f = format_of("Qwen-Qwen2.5-7B-Instruct.jinja");
  ParseOptions o = with_tools();
  o.max_calls = 1;
  const std::string a = R"(<tool_call>{"name": "get_time", "arguments": {}}</tool_call>)";
  const ParsedReply r = parse_all_ways(f, o, a + "\n" + a);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.content, a);
}

TEST(ReplyParser, CallIdsDependOnTheSeedAndIndex) {
  const ReplyFormat f = format_of("Qwen-Qwen2.5-7B-Instruct.jinja");
  const std::string a = R"(<tool_call>{"name": "get_time", "arguments": {}}</tool_call>)";
  ParseOptions o = with_tools();
  const ParsedReply r1 = reply::parse_reply(f, o, a + a);
  o.id_seed = "req-2";
  const ParsedReply r2 = reply::parse_reply(f, o, a + a);
  EXPECT_NE(r1.calls[0].id, r1.calls[1].id);
  EXPECT_NE(r1.calls[0].id, r2.calls[0].id);
  for (char c : r1.calls[0].id) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)));
}

}  // namespace
}  // namespace lmgen::test
