// `lmgen score --sft FILE.jsonl`: the supervised fine-tuning loss as an evaluation (run/sft.hpp; docs/evaluation.md
// "SFT"). One JSON line per example {"index", "tokens_scored", "cross_entropy"} (+ "truncated": true when the
// example was longer than the context), then a summary {"done": true, "examples", "tokens_scored",
// "cross_entropy", "perplexity", ...}. With --compare (and --lora), each example is scored by the base model and
// by base + adapters, and the lines carry both and their difference.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>

#include "cli/chat_args.hpp"
#include "cli/cli.hpp"
#include "lmgen/error.hpp"
#include "run/sft.hpp"

namespace lmgen::cli {

namespace {

struct Scored {
  std::shared_ptr<LoadedModel> lm;
  std::unique_ptr<Model> model;
  double nll = 0;
  int64_t tokens = 0;
};

Scored open_model(const ModelArgs& a) {
  Scored s;
  s.lm = std::make_shared<LoadedModel>(load(a));
  s.model = std::make_unique<Model>(s.lm->model, model_options(a));
  return s;
}

nlohmann::ordered_json summary(const Scored& s, int64_t examples, const char* suffix) {
  const double ce = s.tokens > 0 ? s.nll / static_cast<double>(s.tokens) : 0;
  nlohmann::ordered_json j;
  if (std::string(suffix).empty()) {
    j["done"] = true;
    j["examples"] = examples;
    j["tokens_scored"] = s.tokens;
  }
  j[std::string("cross_entropy") + suffix] = ce;
  j[std::string("perplexity") + suffix] = std::exp(ce);
  return j;
}

}  // namespace

int run_score_sft(const ModelArgs& args, const std::string& file, bool compare, Context& ctx) {
  if (compare && args.lora.empty()) throw UsageError("--compare compares the base model with --lora adapters: give --lora");
  Scored tuned = open_model(args);
  std::optional<Scored> base;
  if (compare) {
    ModelArgs b = args;
    b.lora.clear();
    base = open_model(b);
  }
  const LoadedModel& lm = *tuned.lm;
  const int64_t n_ctx = args.n_ctx > 0 ? args.n_ctx : tuned.model->n_ctx();
  std::optional<chat::ChatTemplate> tmpl;
  const chat::RenderOptions render_options = chat_render_options();
  const SftRender render = [&](const nlohmann::ordered_json& conv, bool agp) {
    if (!tmpl) tmpl.emplace(chat_template_for(ChatArgs{}, &lm));
    chat::Conversation c = chat::parse_conversation(conv);
    c.add_generation_prompt = agp;
    return chat::render_conversation(*tmpl, lm.special_tokens, c, render_options);
  };

  const int fd = file == "-" ? STDIN_FILENO : ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(file, std::string("cannot open: ") + std::strerror(errno));
  struct Close {
    int fd;
    ~Close() { if (fd != STDIN_FILENO) ::close(fd); }
  } closer{fd};
  LineReader reader(fd, file == "-" ? "" : file);
  std::string line;
  int64_t index = 0, failed = 0, truncated = 0;
  Progress progress(progress_wanted(args), "sft", 0, "examples", color_wanted(args));
  while (reader.next(line)) {
    if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank lines are not examples
    nlohmann::ordered_json out = {{"index", index++}};
    try {
      const auto j = nlohmann::ordered_json::parse(line, nullptr, false);
      if (j.is_discarded()) throw UsageError("not a JSON line");
      const SftExample ex = sft_example(j, *lm.tokenizer, render);
      const SftScore s = score_sft(*tuned.model, ex, n_ctx);
      tuned.nll += s.nll_sum;
      tuned.tokens += s.tokens_scored;
      out["tokens_scored"] = s.tokens_scored;
      out["cross_entropy"] = s.tokens_scored > 0 ? nlohmann::ordered_json(s.cross_entropy()) : nlohmann::ordered_json(nullptr);
      if (base) {
        const SftScore b = score_sft(*base->model, ex, n_ctx);
        base->nll += b.nll_sum;
        base->tokens += b.tokens_scored;
        out["cross_entropy_base"] = b.tokens_scored > 0 ? nlohmann::ordered_json(b.cross_entropy()) : nlohmann::ordered_json(nullptr);
        out["delta"] = s.tokens_scored > 0 ? nlohmann::ordered_json(s.cross_entropy() - b.cross_entropy()) : nlohmann::ordered_json(nullptr);
      }
      if (s.truncated) {
        out["truncated"] = true;
        ++truncated;
      }
    } catch (const Error& e) {
      out["error"] = e.what();  // one bad line does not end the run; the exit status becomes 1
      ++failed;
    }
    progress.update(index);
    progress.finish();
    if (!write_out(ctx, json_line(out)) || ctx.interrupted->load()) break;
  }
  if (ctx.stdout_broken) return 0;
  nlohmann::ordered_json done = summary(tuned, index - failed, "");
  if (base) {
    done.update(summary(*base, 0, "_base"));
    done["delta"] = done["cross_entropy"].get<double>() - done["cross_entropy_base"].get<double>();
  }
  done["n_ctx"] = n_ctx;
  if (truncated > 0) done["truncated"] = truncated;
  if (failed > 0) done["failed"] = failed;
  if (ctx.interrupted->load()) done["interrupted"] = true;
  write_out(ctx, json_line(done));
  return failed > 0 ? 1 : 0;
}

}  // namespace lmgen::cli
