// lmgen chat-template: renders a conversation with a chat template and prints the text, nothing else (no forward
// pass). stdin (or -f FILE) holds a JSON array of messages or an object {"messages": [...], "tools": [...]}.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "cli/chat_args.hpp"
#include "cli/cli.hpp"
#include "lmgen/error.hpp"

namespace lmgen::cli {

namespace {

struct ChatTemplateArgs {
  ModelArgs model;
  ChatArgs chat;
  std::string file;  // -f: the conversation (default: stdin)
  bool no_generation_prompt = false;
};

int run_chat_template(const ChatTemplateArgs& a, Context& ctx) {
  std::string text;
  if (a.file.empty() || a.file == "-") {
    text = read_all(STDIN_FILENO);
  } else {
    const int fd = ::open(a.file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(a.file, std::string("cannot open: ") + std::strerror(errno));
    try {
      text = read_all(fd, a.file);
    } catch (...) {
      ::close(fd);
      throw;
    }
    ::close(fd);
  }
  const nlohmann::ordered_json j = nlohmann::ordered_json::parse(text, nullptr, false);
  if (j.is_discarded()) throw UsageError("the conversation is not valid JSON");
  chat::Conversation conv = chat::parse_conversation(j);
  conv.add_generation_prompt = !a.no_generation_prompt;
  conv.kwargs = chat_kwargs(a.chat);

  // With --chat-template and no -m, no model is loaded: only the keyword arguments given are defined.
  std::unique_ptr<LoadedModel> lm;
  if (a.chat.template_file.empty() || !a.model.model.empty())
    lm = std::make_unique<LoadedModel>(load(a.model, true));
  const chat::ChatTemplate tmpl = chat_template_for(a.chat, lm.get());
  static const std::map<std::string, std::string> kNone;
  const std::string out = chat::render_conversation(tmpl, lm ? lm->special_tokens : kNone, conv, chat_render_options());
  write_out(ctx, out);
  return 0;
}

}  // namespace

std::vector<Command> setup_chat_template(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<ChatTemplateArgs>();
  CLI::App* sub = app.add_subcommand("chat-template", "Print a conversation rendered with the model's chat template");
  sub->footer(
      "Reads a JSON array of messages, or {\"messages\": [...], \"tools\": [...]}, from standard input (or -f FILE)\n"
      "and prints exactly the text the model would see; no forward pass. The template is the model's (GGUF\n"
      "tokenizer.chat_template, tokenizer_config.json, chat_template.jinja) unless --chat-template FILE is given;\n"
      "with --chat-template and no -m only the --chat-template-kwargs are defined. strftime_now() uses\n"
      "SOURCE_DATE_EPOCH when it is set. Exit 1 with one line on stderr when the template fails or raises.\n\n"
      "Examples:\n"
      "  echo '[{\"role\": \"user\", \"content\": \"Hi\"}]' | lmgen chat-template -m qwen2.5-0.5b-instruct.gguf\n"
      "  lmgen chat-template -m Qwen3-0.6B/ --chat-template-kwargs '{\"enable_thinking\": false}' < conv.json\n"
      "  lmgen chat-template --chat-template t.jinja --no-generation-prompt < conv.json");
  add_model_source_options(*sub, a->model);
  add_log_options(*sub, a->model);
  add_chat_options(*sub, a->chat);
  sub->add_option("-f,--file", a->file, "The conversation JSON (default: standard input)")->check(path_check())->group("Input");
  sub->add_flag("--no-generation-prompt", a->no_generation_prompt,
                "Render without the assistant prompt at the end (add_generation_prompt = false)")
      ->group("Chat");
  Context* c = &ctx;
  return {Command{sub, [a, c] { return run_chat_template(*a, *c); }}};
}

}  // namespace lmgen::cli
