// `lmgen --batch`: one prompt per input line (plain text, or a JSON object {"prompt": ..., per-line options}); one
// JSONL result per prompt, in input order, with the model loaded once. Lines are answered as they arrive, so a
// producer can write a prompt and wait for its answer. Every prompt starts from an empty context and the same
// seed, so a result does not depend on the other lines (inputs can be sharded freely). A line that fails (bad JSON,
// unknown key, wrong type, prompt too long) gets {"prompt_index", "error"} and the exit status becomes 1.
#include <limits>
#include <optional>
#include <type_traits>

#include "cli/chat_args.hpp"
#include "cli/generate.hpp"
#include "lmgen/error.hpp"
#include "reply/message.hpp"
#include "reply/token_text.hpp"
#include "reply/tool_choice.hpp"

namespace lmgen::cli {

namespace {

// The JSON type a per-line option must have, for a clean message instead of the JSON library's.
template <typename T>
T get_as(const nlohmann::json& v, const std::string& key, const char* want) {
  bool ok;
  if constexpr (std::is_same_v<T, bool>) {
    ok = v.is_boolean();
  } else if constexpr (std::is_integral_v<T>) {
    ok = std::is_signed_v<T> ? v.is_number_integer() : v.is_number_unsigned();
    if constexpr (std::is_signed_v<T>)
      ok = ok && v.get<int64_t>() >= std::numeric_limits<T>::min() && v.get<int64_t>() <= std::numeric_limits<T>::max();
  } else {
    ok = v.is_number();
  }
  if (!ok) throw UsageError("\"" + key + "\" must be " + want + ", got " + v.dump());
  return v.get<T>();
}

std::vector<std::string> get_stop(const nlohmann::json& v) {
  if (v.is_string()) return {v.get<std::string>()};
  std::vector<std::string> out;
  if (v.is_array())
    for (const auto& s : v) {
      if (!s.is_string()) break;
      out.push_back(s.get<std::string>());
    }
  if (!v.is_array() || out.size() != v.size()) throw UsageError("\"stop\" must be a string or a list of strings");
  return out;
}

// A line's "grammar" (GBNF text) or "json_schema" (a schema object) as GBNF; the vocabulary is set by run_batch.
// The schema is read again from the line's text, keeping key order: properties are generated in schema order.
std::string line_grammar(const std::string& key, const nlohmann::json& v, const std::string& line) {
  if (key == "grammar") {
    if (!v.is_string()) throw UsageError("\"grammar\" must be GBNF text (a string)");
    return v.get<std::string>();
  }
  if (!v.is_object() && !v.is_boolean()) throw UsageError("\"json_schema\" must be a JSON schema (an object)");
  return json_schema_to_gbnf(nlohmann::ordered_json::parse(line)["json_schema"].dump());
}

// Applies the per-line options of a --batch JSON line on top of the command-line options.
GenerateOptions line_options(const GenerateOptions& base, const nlohmann::json& j, const std::string& line) {
  GenerateOptions o = base;
  auto& s = o.sampling;
  for (const auto& [k, v] : j.items()) {
    if (k == "prompt" || k == "messages" || k == "tools" || k == "tool_choice" || k == "parallel_tool_calls") continue;
    else if (k == "n_predict" || k == "n") o.n_predict = get_as<int32_t>(v, k, "an integer");
    else if (k == "temperature" || k == "temp") s.temperature = get_as<float>(v, k, "a number");
    else if (k == "top_k") s.top_k = get_as<int32_t>(v, k, "an integer");
    else if (k == "top_p") s.top_p = get_as<float>(v, k, "a number");
    else if (k == "min_p") s.min_p = get_as<float>(v, k, "a number");
    else if (k == "seed") s.seed = get_as<uint64_t>(v, k, "a non-negative integer");
    else if (k == "repeat_penalty") s.repeat_penalty = get_as<float>(v, k, "a number");
    else if (k == "frequency_penalty") s.frequency_penalty = get_as<float>(v, k, "a number");
    else if (k == "presence_penalty") s.presence_penalty = get_as<float>(v, k, "a number");
    else if (k == "stop") o.stop = get_stop(v);
    else if (k == "ignore_eos") o.ignore_eos = get_as<bool>(v, k, "true or false");
    else if (k == "n_probs") o.n_probs = get_as<int32_t>(v, k, "an integer");
    else if (k == "grammar" || k == "json_schema") s.grammar.grammar = compile_gbnf(line_grammar(k, v, line));
    else
      throw UsageError("unknown key \"" + k + "\" (known: prompt, messages, tools, tool_choice, parallel_tool_calls, n_predict/n, temperature/temp, top_k, top_p, min_p, "
                       "seed, repeat_penalty, frequency_penalty, presence_penalty, stop, ignore_eos, n_probs, grammar, json_schema)");
  }
  if (o.n_predict < -1) throw UsageError("\"n_predict\" must be -1 or more");
  if (o.n_probs < 0) throw UsageError("\"n_probs\" must be 0 or more");
  if (j.contains("grammar") && j.contains("json_schema")) throw UsageError("give \"grammar\" or \"json_schema\", not both");
  validate_sampling_options(s);
  return o;
}

// Renders {"messages": [...], "tools": [...]} with the model's chat template (made once, on first use); `tools`
// are the line's tool fields (what the reply is read for, and a forced call's grammar).
using RenderChat =
    std::function<std::string(const nlohmann::ordered_json& conversation, const reply::ToolFields& tools)>;

// The prompt and options of one input line. A line starting with '{' must be a JSON object with a string
// "prompt", or "messages" (a conversation, rendered with the model's chat template and tokenized as
// apply_chat_template does: special tokens parsed, none added); write a literal '{' prompt as JSON. Any other line
// is the prompt text itself.
std::string parse_line(const std::string& line, const GenerateOptions& base, GenerateOptions& o,
                       const RenderChat& render_chat) {
  o = base;
  if (line.empty() || line.front() != '{') return line;
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw UsageError("the line starts with '{' but is not a JSON object (write a prompt that starts with '{' as "
                     "{\"prompt\": \"...\"})");
  o = line_options(base, j, line);  // unknown keys first: {"promt": ...} names the misspelt key
  if (j.contains("messages")) {
    if (j.contains("prompt")) throw UsageError("a line has either \"prompt\" or \"messages\", not both");
    // Parsed again keeping key order: tojson in a template prints objects in the order they were written.
    const auto oj = nlohmann::ordered_json::parse(line);
    nlohmann::ordered_json conv = {{"messages", oj["messages"]}};
    const reply::ToolFields tools = reply::read_tool_fields(oj);
    nlohmann::ordered_json shown = reply::shown_tools(tools);
    if (!shown.empty()) conv["tools"] = std::move(shown);
    o.encode = EncodeOptions{.add_special = false, .parse_special = true};
    return render_chat(conv, tools);
  }
  for (const char* k : {"tools", "tool_choice", "parallel_tool_calls"})
    if (j.contains(k)) throw UsageError("\"" + std::string(k) + "\" goes with \"messages\"");
  if (!j.contains("prompt")) throw UsageError("the JSON line has no \"prompt\" (or \"messages\")");
  if (!j["prompt"].is_string()) throw UsageError("\"prompt\" must be a string, got " + j["prompt"].dump());
  return j["prompt"].get<std::string>();
}

}  // namespace

int run_batch(GenerateArgs& a, Context& ctx) {
  auto [lm, model] = load_for_generation(a);
  Generator gen(*model, *lm.tokenizer);
  const Tokenizer& tok = *lm.tokenizer;
  std::optional<chat::ChatTemplate> tmpl;
  const chat::RenderOptions render_options = chat_render_options();
  reply::ReplyFormat format;
  std::optional<reply::ParseOptions> line_reply;  // the line had "messages": how its reply is read
  std::string line_call_gbnf;                      // ... and the grammar of the call it forces, if it does
  RenderChat render_chat = [&](const nlohmann::ordered_json& j, const reply::ToolFields& tools) {
    if (!tmpl) {
      tmpl.emplace(chat_template_for(ChatArgs{}, &lm));
      format = reply::detect_format(tmpl->source());
    }
    chat::Conversation conv = chat::parse_conversation(j);
    std::string text = chat::render_conversation(*tmpl, lm.special_tokens, conv, render_options);
    line_reply = reply::parse_options_for(format, nullptr, reply::ReasoningFormat::Auto, text);
    reply::apply_tool_choice(tools, *line_reply);
    line_call_gbnf = reply::forced_call_gbnf(tools, format, line_reply->start);
    return text;
  };
  std::shared_ptr<const TokenIndex> vocab = a.gen.sampling.grammar.vocab;
  int64_t index = 0, failed = 0;
  // The total is unknown while lines stream in: the bar counts prompts done.
  Progress progress(progress_wanted(a.model), "batch", 0, "prompts", color_wanted(a.model));
  for_each_input_line(a.prompt, [&](const std::string& line) {
    nlohmann::ordered_json out = {{"prompt_index", index++}};
    try {
      GenerateOptions o;
      line_reply.reset();
      line_call_gbnf.clear();
      const std::string prompt = parse_line(line, a.gen, o, render_chat);
      if (!line_call_gbnf.empty()) {
        if (o.sampling.grammar.grammar)
          throw UsageError("a forced \"tool_choice\" constrains the reply itself: give no \"grammar\" or \"json_schema\" with it");
        o.sampling.grammar.grammar = compile_gbnf(line_call_gbnf);
      }
      check_bias_ids(o, tok.n_vocab());
      if (o.sampling.grammar.grammar && !o.sampling.grammar.vocab) {
        if (!vocab) vocab = index_vocabulary(tok, lm.eog_ids);  // built once, on the first line that needs it
        o.sampling.grammar.vocab = vocab;
      }
      nlohmann::ordered_json probs = nlohmann::ordered_json::array();
      std::string reply_text;  // a chat reply: what the reply parser reads
      auto on_token = [&](const TokenEvent& ev) {
        if (o.n_probs > 0 && ev.id >= 0) probs.push_back(token_record(ev, tok, o.n_probs));
        if (line_reply) reply_text += reply::parser_text(format, line_reply->tools, tok, ev);
        return !ctx.interrupted->load();
      };
      GenerateResult r = gen.generate(prompt, o, on_token);
      if (ctx.interrupted->load()) return false;  // the line in progress is abandoned
      out["tokens"] = r.tokens;
      if (o.n_probs > 0) out["probs"] = probs;
      put_result(out, r, o.sampling.seed);
      if (line_reply) {  // a chat reply: its content, reasoning_content and tool_calls apart
        line_reply->id_seed = "lmgen-batch-" + std::to_string(index - 1);
        const nlohmann::ordered_json message = reply::message_json(reply::parse_reply(format, *line_reply, reply_text));
        for (const auto& [k, v] : message.items())
          if (k != "role") out[k] = v;
      }
    } catch (const Error& e) {
      out["error"] = e.what();  // one bad line does not end the batch
      ++failed;
    }
    progress.update(index);
    progress.finish();  // erased before each result so that a terminal shows results, not a half-drawn bar
    return write_out(ctx, json_line(out)) && !ctx.interrupted->load();
  });
  return failed > 0 ? 1 : 0;
}

}  // namespace lmgen::cli
