// lmgen chat: talk to an instruct model through its chat template.
//
// At a terminal: a conversation. The user types a line (libedit: line editing and history), the reply streams;
// the KV cache is kept between turns, so a turn evaluates only its new tokens (Generator::continue_from). /clear
// starts over, /exit or Ctrl-D ends, Ctrl-C interrupts a reply. When the conversation no longer fits the
// context (with room for the reply: -n tokens, or a quarter of the context), the oldest turns after the system
// message are dropped (said on stderr); a message that does not fit even alone is refused (at a terminal the
// conversation goes on without it).
// Not at a terminal (or with -p): standard input (or -p TEXT) is one user message and only the reply is printed;
// --messages FILE continues a given conversation.
// A thinking model's <think> block (reply/parser.hpp) is shown dimmed when stdout is a terminal, as written
// otherwise, and left out with --hide-thinking; --jsonl's final record has the reply split into content,
// reasoning_content and tool_calls (the tools of a --messages file, whose "tool_choice" "required" or named
// function constrains every reply to a call: reply/tool_choice.hpp).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include "cli/chat_args.hpp"
#include "cli/generate.hpp"
#include "cli/line_editor.hpp"
#include "lmgen/error.hpp"
#include "lmgen/grammar.hpp"
#include "reply/message.hpp"
#include "reply/token_text.hpp"
#include "reply/tool_choice.hpp"
#include "util/read_file.hpp"

namespace lmgen::cli {

namespace {

// A user message that does not fit the context even with every older turn dropped.
class MessageTooLong : public Error {
 public:
  using Error::Error;
};

struct ChatCmdArgs {
  GenerateArgs gen;
  ChatArgs chat;
  std::string system;         // --system TEXT
  std::string messages_file;  // --messages FILE.json
  bool hide_thinking = false; // --hide-thinking
};

// One chat: the messages so far, the template, and a Generator whose KV cache follows the conversation.
class ChatLoop {
 public:
  ChatLoop(ChatCmdArgs& a, Context& ctx, LoadedModel& lm, Model& model)
      : a_(a), ctx_(ctx), lm_(lm), tok_(*lm.tokenizer), gen_(model, tok_), n_ctx_(model.n_ctx()),
        tmpl_(chat_template_for(a.chat, &lm)), kwargs_(chat_kwargs(a.chat)), render_(chat_render_options()),
        format_(reply::detect_format(tmpl_.source())), reasoning_(reply::reasoning_format_from(a.chat.reasoning_format)) {
    start_messages();
  }

  // What the reply parser reads for a token of the reply (reply/token_text.hpp).
  std::string parser_text(const TokenEvent& ev) const {
    return reply::parser_text(format_, conv_.tools.has_value(), tok_, ev);
  }

  // Whether replies have a thinking block to read apart.
  bool thinks() const { return format_.reasoning && reasoning_ != reply::ReasoningFormat::None; }
  // A parser for the reply to the prompt rendered last (reading calls to the conversation's tools if `tools`).
  reply::ReplyParser reply_parser(bool tools) const {
    reply::ParseOptions o = reply::parse_options_for(format_, nullptr, reasoning_, prompt_text_);
    if (tools) reply::apply_tool_choice(tool_fields_, o);
    o.id_seed = "lmgen-chat-" + std::to_string(conv_.messages.size());
    return reply::ReplyParser(format_, o);
  }

  void start_messages() {
    conv_.messages = nlohmann::ordered_json::array();
    if (!a_.messages_file.empty()) {
      auto j = nlohmann::ordered_json::parse(read_whole_file(a_.messages_file), nullptr, false);
      if (j.is_discarded()) throw UsageError(a_.messages_file + ": not valid JSON");
      read_tool_fields(j);
      conv_ = chat::parse_conversation(j);
      conv_.tools.reset();
      nlohmann::ordered_json shown = reply::shown_tools(tool_fields_);
      if (!shown.empty()) conv_.tools = std::move(shown);
    }
    if (!a_.system.empty()) {
      const bool has_system = !conv_.messages.empty() && conv_.messages[0].value("role", "") == "system";
      nlohmann::ordered_json sys = {{"role", "system"}, {"content", a_.system}};
      if (has_system) conv_.messages[0] = sys; else conv_.messages.insert(conv_.messages.begin(), sys);
    }
    conv_.kwargs = kwargs_;
    conv_.add_generation_prompt = true;
  }

  // Adds the user's message, generates the reply (streamed through `on_text`), adds it to the conversation.
  GenerateResult turn(const std::string& user, const std::function<bool(const TokenEvent&)>& on_token) {
    conv_.messages.push_back({{"role", "user"}, {"content", user}});
    std::vector<int32_t> ids = render_tokens();
    const int64_t room = reply_room();
    while (static_cast<int64_t>(ids.size()) + room > n_ctx_ && drop_oldest_turn()) ids = render_tokens();
    if (static_cast<int64_t>(ids.size()) >= n_ctx_) {
      conv_.messages.erase(conv_.messages.end() - 1);
      throw MessageTooLong("the message does not fit the context: " + std::to_string(ids.size()) +
                         " prompt tokens, context " + std::to_string(n_ctx_) + " (-c)");
    }
    GenerateResult r = gen_.continue_from(ids, reply_options(), on_token);
    conv_.messages.push_back({{"role", "assistant"}, {"content", r.text}});
    return r;
  }

  void clear() {
    start_messages();
    gen_.reset();
  }

 private:
  std::vector<int32_t> render_tokens() {
    prompt_text_ = chat::render_conversation(tmpl_, lm_.special_tokens, conv_, render_);
    if (a_.gen.model.verbose > 1) std::fprintf(stderr, "lmgen: rendered prompt:\n%s\n", prompt_text_.c_str());
    // As transformers' apply_chat_template(tokenize=True): the template writes the special tokens itself.
    return tok_.encode(prompt_text_, EncodeOptions{.add_special = false, .parse_special = true});
  }

  // The --messages file's tool fields ("tool_choice" and "parallel_tool_calls" are taken out of `j`).
  void read_tool_fields(nlohmann::ordered_json& j) {
    if (!j.is_object()) return;
    try {
      tool_fields_ = reply::read_tool_fields(j);
    } catch (const UsageError& e) {
      throw UsageError(a_.messages_file + ": " + e.what());
    }
    j.erase("tool_choice");
    j.erase("parallel_tool_calls");
  }

  // The generation options of the next reply: a forced tool choice constrains it to a call.
  GenerateOptions reply_options() {
    GenerateOptions o = a_.gen.gen;
    const std::string gbnf =
        reply::forced_call_gbnf(tool_fields_, format_, reply::reasoning_start(format_, prompt_text_));
    if (gbnf.empty()) return o;
    if (o.sampling.grammar.grammar)
      throw UsageError("a forced \"tool_choice\" constrains the reply itself: give no --grammar or --json-schema with it");
    if (!vocab_) vocab_ = index_vocabulary(tok_, lm_.eog_ids);
    o.sampling.grammar = GrammarConstraint{compile_gbnf(gbnf), vocab_, ""};
    return o;
  }

  // Room kept for the reply when old turns must go: -n tokens (at most half the context), or a quarter of the
  // context when -n is not given.
  int64_t reply_room() const {
    const int64_t n = a_.gen.gen.n_predict;
    return n > 0 ? std::min(n, n_ctx_ / 2) : n_ctx_ / 4;
  }

  // Drops the oldest user turn (and the replies up to the next user message), keeping a leading system message.
  bool drop_oldest_turn() {
    auto& m = conv_.messages;
    size_t first = (!m.empty() && m[0].value("role", "") == "system") ? 1 : 0;
    size_t end = first + 1;
    while (end < m.size() && m[end].value("role", "") != "user") ++end;
    if (end >= m.size()) return false;  // only the current turn is left: it does not fit
    m.erase(m.begin() + static_cast<std::ptrdiff_t>(first), m.begin() + static_cast<std::ptrdiff_t>(end));
    if (!a_.gen.model.quiet) std::fprintf(stderr, "lmgen: context full: dropped the oldest turn\n");
    return true;
  }

  ChatCmdArgs& a_;
  Context& ctx_;
  LoadedModel& lm_;
  const Tokenizer& tok_;
  Generator gen_;
  int64_t n_ctx_;
  chat::ChatTemplate tmpl_;
  nlohmann::ordered_json kwargs_;
  chat::RenderOptions render_;
  chat::Conversation conv_;
  reply::ReplyFormat format_;
  reply::ReasoningFormat reasoning_;
  std::string prompt_text_;  // the prompt rendered last
  reply::ToolFields tool_fields_;            // of the --messages file
  std::shared_ptr<const TokenIndex> vocab_;  // for a forced call's grammar, built on first use
};

// Writes one reply as text: the thinking dimmed (at a terminal) or left out (--hide-thinking), the rest as the
// model wrote it; without either, or for a model that does not think, the reply exactly as written.
class ReplyWriter {
 public:
  ReplyWriter(Context& ctx, const ChatLoop& chat, bool hide) : ctx_(ctx), hide_(hide) {
    dim_ = isatty(STDOUT_FILENO) && !(std::getenv("NO_COLOR") && *std::getenv("NO_COLOR"));
    if (chat.thinks() && (hide_ || dim_)) parser_.emplace(chat.reply_parser(false));
  }
  void piece(const std::string& text) {
    if (!parser_) write_out(ctx_, text);
    else write(parser_->feed(text));
  }
  void end() {
    if (parser_) write(parser_->finish());
  }

 private:
  void write(const reply::ReplyDelta& d) {
    if (!d.reasoning.empty() && !hide_) {
      write_out(ctx_, dim_ ? "\033[2m" + d.reasoning + "\033[0m" : d.reasoning);
      thought_ = true;
    }
    if (d.content.empty()) return;
    if (thought_) write_out(ctx_, "\n\n");  // the answer starts below the thinking
    thought_ = false;
    write_out(ctx_, d.content);
  }

  Context& ctx_;
  bool hide_, dim_;
  bool thought_ = false;
  std::optional<reply::ReplyParser> parser_;
};

void report_turn(const ChatCmdArgs& a, int turn, const GenerateResult& r) {
  if (a.gen.model.verbose > 0 && !a.gen.model.quiet)
    std::fprintf(stderr, "lmgen: turn %d: %lld prompt tokens, %lld evaluated, %lld reused; %zu generated (%s)\n", turn,
                 static_cast<long long>(r.prompt_tokens.size()), static_cast<long long>(r.n_evaluated),
                 static_cast<long long>(r.n_reused), r.tokens.size(), stop_reason_name(r.stop_reason));
  if (turn == 1 && a.gen.model.verbose > 0 && !a.gen.model.quiet)
    std::fprintf(stderr, "lmgen: sampler chain: %s\n", r.sampler.c_str());
}

int run_once(ChatCmdArgs& a, Context& ctx, ChatLoop& chat, const Tokenizer& tok) {
  std::string user = read_prompt(a.gen.prompt);
  // A message piped in ends with the newline that ended its line; the message itself does not.
  if (!user.empty() && user.back() == '\n') user.pop_back();
  if (!user.empty() && user.back() == '\r') user.pop_back();
  std::optional<ReplyWriter> writer;
  std::string reply_text;  // --jsonl: what the reply parser reads
  auto on_token = [&](const TokenEvent& ev) -> bool {
    reply_text += chat.parser_text(ev);
    if (!a.gen.jsonl) {
      if (!writer) writer.emplace(ctx, chat, a.hide_thinking);  // after the prompt is rendered
      writer->piece(ev.text);
    } else if (ev.id >= 0) {  // every sampled token, the end-of-turn one too (as `lmgen --jsonl` writes them)
      write_out(ctx, json_line(token_record(ev, tok, a.gen.gen.n_probs)));
    }
    return !ctx.stdout_broken && !ctx.interrupted->load();
  };
  GenerateResult r = chat.turn(user, on_token);
  if (writer) writer->end();
  report_turn(a, 1, r);
  if (a.gen.jsonl) {
    nlohmann::ordered_json done = done_record(r, a.gen.gen.sampling.seed);
    reply::ReplyParser parser = chat.reply_parser(true);
    parser.feed(reply_text);
    parser.finish();
    const nlohmann::ordered_json message = reply::message_json(parser.reply());
    for (const auto& [k, v] : message.items())
      if (k != "role") done[k] = v;
    write_out(ctx, json_line(done));
  } else if (!r.text.empty() && r.text.back() != '\n') {
    write_out(ctx, "\n");
  }
  return r.stop_reason == StopReason::Interrupted && ctx.interrupted->load() ? 130 : 0;
}

int run_repl(ChatCmdArgs& a, Context& ctx, ChatLoop& chat) {
  if (!a.gen.model.quiet)
    std::fprintf(stderr, "lmgen chat: type a message; /clear starts over, /exit or Ctrl-D ends, Ctrl-C stops a reply\n");
  int turn = 0;
  LineEditor editor("lmgen");
  std::string text;
  for (;;) {
    ctx.interrupted->store(false);
    const LineEditor::Read got = editor.read(text);
    if (got == LineEditor::Read::End) break;  // Ctrl-D
    if (got == LineEditor::Read::Interrupted || ctx.interrupted->load() || text.empty()) continue;
    editor.remember(text);
    if (text == "/exit" || text == "/quit") break;
    if (text == "/clear") {
      chat.clear();
      turn = 0;
      if (!a.gen.model.quiet) std::fprintf(stderr, "lmgen: conversation cleared\n");
      continue;
    }
    GenerateResult r;
    std::optional<ReplyWriter> writer;
    try {
      r = chat.turn(text, [&](const TokenEvent& ev) {
        if (!writer) writer.emplace(ctx, chat, a.hide_thinking);
        writer->piece(ev.text);
        return !ctx.interrupted->load();
      });
    } catch (const MessageTooLong& e) {  // said, and the conversation goes on without that message
      std::fprintf(stderr, "lmgen: %s\n", e.what());
      continue;
    }
    if (writer) writer->end();
    write_out(ctx, "\n");
    report_turn(a, ++turn, r);
  }
  write_out(ctx, "\n");
  return 0;
}

int run_chat(ChatCmdArgs& a, Context& ctx) {
  prepare_generate_args(a.gen);
  (void)chat_kwargs(a.chat);  // a malformed --chat-template-kwargs is a usage error before the model loads
  auto [lm, model] = load_for_generation(a.gen);
  print_seed(a.gen);  // a sampled reply can be replayed with -s
  ChatLoop chat(a, ctx, lm, *model);
  const bool interactive = !a.gen.prompt.prompt_set && a.gen.prompt.file.empty() && isatty(STDIN_FILENO) && !a.gen.jsonl;
  return interactive ? run_repl(a, ctx, chat) : run_once(a, ctx, chat, *lm.tokenizer);
}

}  // namespace

std::vector<Command> setup_chat(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<ChatCmdArgs>();
  CLI::App* sub = app.add_subcommand("chat", "Talk to an instruct model through its chat template");
  sub->footer(
      "At a terminal: a conversation (line editing and history; /clear, /exit, Ctrl-D; Ctrl-C stops a reply). The\n"
      "KV cache is kept between turns, so each turn evaluates only its new tokens (-v reports them). When the\n"
      "context is full the oldest turns are dropped (keeping the system message and room for the reply: -n tokens,\n"
      "or a quarter of the context). Otherwise standard input (or -p TEXT) is one user message and\n"
      "only the reply is printed. Generation stops at the model's end-of-turn tokens (<|im_end|>, <|eot_id|>,\n"
      "<end_of_turn>, ...), which are not printed.\n\n"
      "Examples:\n"
      "  lmgen chat -m qwen2.5-0.5b-instruct-q8_0.gguf\n"
      "  echo 'What is the capital of France?' | lmgen chat -m SmolLM2-135M-Instruct/ --temp 0\n"
      "  lmgen chat -m Qwen3-0.6B/ --chat-template-kwargs '{\"enable_thinking\": false}' -p 'Hi' --jsonl\n"
      "  lmgen chat -m model.gguf --messages conversation.json -p 'And then?'");
  add_model_source_options(*sub, a->gen.model);
  add_prompt_options(*sub, a->gen.prompt);
  add_decoding_options(*sub, a->gen);
  add_chat_options(*sub, a->chat);
  add_reasoning_option(*sub, a->chat);
  sub->add_flag("--hide-thinking", a->hide_thinking,
                "Leave a thinking model's <think> block out of the printed reply (it is shown dimmed at a terminal)")
      ->group("Chat");
  sub->add_option("--system", a->system, "System message to start the conversation with")->group("Chat");
  sub->add_option("--messages", a->messages_file,
                  "Continue this conversation: a JSON array of messages, or {\"messages\": [...], \"tools\": [...]} "
                  "(and optionally \"tool_choice\", \"parallel_tool_calls\")")
      ->check(path_check())
      ->group("Chat");
  sub->add_flag("--jsonl", a->gen.jsonl, "Print one JSON object per token and a final {\"done\":true,...} record")
      ->group("Output");
  sub->add_option("--n-probs", a->gen.gen.n_probs, "With --jsonl: add each token's logprob and the K most likely")
      ->check(count_check(0))->group("Output");
  add_log_options(*sub, a->gen.model);
  add_runtime_options(*sub, a->gen.model);
  Context* c = &ctx;
  return {Command{sub, [a, c] { return run_chat(*a, *c); }}};
}

}  // namespace lmgen::cli
