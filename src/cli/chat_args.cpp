// Chat-template options shared by chat-template, chat and --batch (see chat_args.hpp).
#include "cli/chat_args.hpp"

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include "lmgen/error.hpp"
#include "util/read_file.hpp"

namespace lmgen::cli {

void add_chat_options(CLI::App& app, ChatArgs& a) {
  app.add_option("--chat-template,--chat-template-file", a.template_file,
                 "Jinja chat template file to use instead of the model's (tokenizer.chat_template / "
                 "tokenizer_config.json / chat_template.jinja)")
      ->check(path_check())
      ->group("Chat");
  app.add_option("--chat-template-name", a.template_name,
                 "A named template of the model (e.g. tool_use) instead of its default")
      ->group("Chat");
  app.add_option("--chat-template-kwargs", a.kwargs_json,
                 "JSON object of extra template variables, e.g. '{\"enable_thinking\": false}' (they override)")
      ->group("Chat");
}

void add_reasoning_option(CLI::App& app, ChatArgs& a) {
  app.add_option("--reasoning-format", a.reasoning_format,
                 "What becomes of a thinking model's <think> block: deepseek (apart from the answer: "
                 "reasoning_content), none (left in the text), auto (deepseek)")
      ->check(CLI::IsMember({"auto", "deepseek", "none"}))
      ->capture_default_str()
      ->group("Chat");
}

chat::ChatTemplate chat_template_for(const ChatArgs& a, const LoadedModel* model) {
  if (!a.template_file.empty()) {
    return chat::ChatTemplate(read_whole_file(a.template_file));
  }
  const std::string name = a.template_name.empty() ? "default" : a.template_name;
  if (model) {
    auto it = model->chat_templates.find(name);
    if (it != model->chat_templates.end()) return chat::ChatTemplate(it->second);
    if (!a.template_name.empty()) {
      std::string have;
      for (const auto& [n, t] : model->chat_templates) have += (have.empty() ? "" : ", ") + n;
      throw UsageError("the model has no chat template named '" + name + "' (it has: " +
                       (have.empty() ? std::string("none") : have) + ")");
    }
  }
  throw Error(std::string(model ? model->model->source + ": " : "") +
              "the model has no chat template; give one with --chat-template FILE");
}

nlohmann::ordered_json chat_kwargs(const ChatArgs& a) {
  if (a.kwargs_json.empty()) return nlohmann::ordered_json::object();
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(a.kwargs_json, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw UsageError("--chat-template-kwargs expects a JSON object, e.g. '{\"enable_thinking\": false}'");
  return j;
}

chat::RenderOptions chat_render_options() {
  chat::RenderOptions o;
  const char* epoch = std::getenv("SOURCE_DATE_EPOCH");
  if (!epoch || !*epoch) return o;  // the engine's default: the real local time
  char* end = nullptr;
  errno = 0;
  const long long secs = std::strtoll(epoch, &end, 10);
  if (errno != 0 || *end != '\0' || secs < 0) throw UsageError("SOURCE_DATE_EPOCH must be a number of seconds");
  const std::time_t t = static_cast<std::time_t>(secs);
  o.strftime_now = [t](const std::string& format) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[256];
    const size_t n = std::strftime(buf, sizeof buf, format.c_str(), &tm);
    return std::string(buf, n);
  };
  return o;
}

}  // namespace lmgen::cli
