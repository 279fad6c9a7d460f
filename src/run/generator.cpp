#include "lmgen/generator.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "lmgen/error.hpp"
#include "run/output_buffer.hpp"

namespace lmgen {

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::Eos: return "eos";
    case StopReason::Length: return "length";
    case StopReason::Context: return "context";
    case StopReason::Stop: return "stop";
    case StopReason::Interrupted: return "interrupted";
  }
  return "?";
}

void Generator::reset() {
  model_.reset();
  context_.clear();
}

int64_t Generator::sync_context(std::span<const int32_t> tokens, std::vector<float>& logits) {
  // The cache must be what context_ says (someone else may have used the model since): otherwise start over.
  if (model_.n_past() != static_cast<int64_t>(context_.size())) reset();
  size_t keep = 0;
  while (keep < context_.size() && keep < tokens.size() && context_[keep] == tokens[keep]) ++keep;
  if (keep == tokens.size()) --keep;  // the last token is evaluated again: its logits are needed
  if (!model_.can_truncate(static_cast<int64_t>(keep))) keep = 0;  // a sliding window that cannot rewind so far
  if (keep == 0) model_.reset(); else model_.truncate(static_cast<int64_t>(keep));
  context_.resize(keep);
  model_.eval(tokens.subspan(keep), logits);
  context_.insert(context_.end(), tokens.begin() + static_cast<std::ptrdiff_t>(keep), tokens.end());
  return static_cast<int64_t>(keep);
}

GenerateResult Generator::generate(std::string_view prompt, const GenerateOptions& opt, const TokenCallback& on_token,
                                   const TraceHook& trace) {
  std::vector<int32_t> ids = tok_.encode(prompt, opt.encode);
  if (ids.empty()) {
    if (tok_.bos_id() < 0) {
      if (prompt.empty()) throw UsageError("the prompt is empty and the model has no BOS token to start from");
      throw Error("the prompt encodes to no tokens and the model has no BOS token to start from");
    }
    ids.push_back(tok_.bos_id());
  }
  reset();
  return continue_from(ids, opt, on_token, trace);
}

GenerateResult Generator::continue_from(std::span<const int32_t> prompt_tokens, const GenerateOptions& opt,
                                        const TokenCallback& on_token, const TraceHook& trace) {
  GenerateResult res;
  auto chain = make_sampler_chain(opt.sampling);
  if (prompt_tokens.empty()) throw UsageError("generation needs at least one prompt token");
  res.prompt_tokens.assign(prompt_tokens.begin(), prompt_tokens.end());
  const int64_t n_prompt = static_cast<int64_t>(res.prompt_tokens.size());
  if (n_prompt >= model_.n_ctx())
    throw Error("the prompt has " + std::to_string(n_prompt) + " tokens but the context holds " +
                std::to_string(model_.n_ctx()) + " (use -c to enlarge it, or shorten the prompt)");

  chain->reset();
  for (int32_t t : res.prompt_tokens) chain->accept(t);
  std::vector<float> logits;
  auto t0 = std::chrono::steady_clock::now();
  res.n_reused = sync_context(res.prompt_tokens, logits);
  res.n_evaluated = n_prompt - res.n_reused;
  res.prompt_ms = ms_since(t0);

  OutputBuffer out(opt.stop);
  int32_t prev = res.prompt_tokens.back();
  t0 = std::chrono::steady_clock::now();
  res.stop_reason = StopReason::Length;
  const std::span<const float> row(logits.data(), static_cast<size_t>(model_.n_vocab()));
  for (int32_t i = 0; opt.n_predict < 0 || i < opt.n_predict; ++i) {
    int32_t id;
    if (trace) {
      SampleTrace st;
      id = chain->sample(row, &st, static_cast<size_t>(std::max(opt.trace_top, 1)));
      trace(st);
    } else {
      id = chain->sample(row);
    }
    chain->accept(id);
    res.tokens.push_back(id);

    TokenEvent ev;
    ev.id = id;
    if (opt.n_probs > 0) {
      ev.logprob = static_cast<float>(token_logprob(row, id));
      ev.top = top_logprobs(row, opt.n_probs);
    }
    const bool eog = (tok_.is_eog(id) || std::find(opt.eog_ids.begin(), opt.eog_ids.end(), id) != opt.eog_ids.end()) &&
                     !opt.ignore_eos;
    bool stopped = false;
    if (!eog) {
      ev.piece = tok_.stream_piece(id, prev, opt.render_special);
      ev.text = out.push(ev.piece, stopped);
    }
    prev = id;
    res.text += ev.text;
    const bool keep_going = !on_token || on_token(ev);
    if (eog) { res.stop_reason = StopReason::Eos; break; }
    if (stopped) { res.stop_reason = StopReason::Stop; break; }
    if (!keep_going) { res.stop_reason = StopReason::Interrupted; break; }
    if (opt.n_predict >= 0 && i + 1 >= opt.n_predict) break;
    if (model_.n_past() >= model_.n_ctx()) { res.stop_reason = StopReason::Context; break; }
    model_.eval(std::span<const int32_t>(&id, 1), logits);
    context_.push_back(id);
  }
  res.generate_ms = ms_since(t0);
  if (res.stop_reason != StopReason::Stop) {
    TokenEvent tail;
    tail.text = out.flush();
    if (!tail.text.empty()) {
      res.text += tail.text;
      if (on_token) on_token(tail);  // id -1: text released at the end (an incomplete character or held-back prefix)
    }
  }
  return res;
}

}  // namespace lmgen
