// Generator (generator.hpp): the session over one Model: which tokens its KV cache holds, the prompt evaluated
// (only what the cache does not hold already), then one DecodeStep per token until it says stop.
#include "lmgen/generator.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "lmgen/error.hpp"
#include "run/decode_step.hpp"

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
  DecodeStep step(tok_, opt, prompt_tokens);
  res.sampler = step.sampler_name();
  res.prompt_tokens.assign(prompt_tokens.begin(), prompt_tokens.end());
  const int64_t n_prompt = static_cast<int64_t>(res.prompt_tokens.size());
  if (n_prompt >= model_.n_ctx())
    throw Error("the prompt has " + std::to_string(n_prompt) + " tokens but the context holds " +
                std::to_string(model_.n_ctx()) + " (use -c to enlarge it, or shorten the prompt)");

  std::vector<float> logits;
  auto t0 = std::chrono::steady_clock::now();
  res.n_reused = sync_context(res.prompt_tokens, logits);
  res.n_evaluated = n_prompt - res.n_reused;
  res.prompt_ms = ms_since(t0);

  t0 = std::chrono::steady_clock::now();
  const std::span<const float> row(logits.data(), static_cast<size_t>(model_.n_vocab()));
  while (!step.done()) {
    const TokenEvent ev = step.next(row, trace);
    res.text += ev.text;
    if (on_token && !on_token(ev)) step.stop(StopReason::Interrupted);
    if (!step.continues(model_.n_past(), model_.n_ctx())) break;
    model_.eval(std::span<const int32_t>(&ev.id, 1), logits);
    context_.push_back(ev.id);
  }
  res.generate_ms = ms_since(t0);
  const TokenEvent tail = step.finish();
  if (!tail.text.empty()) {
    res.text += tail.text;
    if (on_token) on_token(tail);  // id -1: text released at the end (an incomplete character or held-back prefix)
  }
  res.stop_reason = step.reason();
  res.tokens = step.tokens();
  return res;
}

}  // namespace lmgen
