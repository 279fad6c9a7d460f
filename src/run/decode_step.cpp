// The per-token step of one sequence (decode_step.hpp).
#include "run/decode_step.hpp"

#include <algorithm>

#include "lmgen/error.hpp"

namespace lmgen {

DecodeStep::DecodeStep(const Tokenizer& tok, const GenerateOptions& opt, std::span<const int32_t> prompt)
    : tok_(tok), opt_(opt), chain_(make_sampler_chain(opt.sampling)), out_(opt.stop) {
  if (prompt.empty()) throw UsageError("generation needs at least one prompt token");
  chain_->reset();
  for (int32_t t : prompt) chain_->accept(t);
  prev_ = prompt.back();
  if (opt.n_predict == 0) reason_ = StopReason::Length;
}

bool DecodeStep::ends_generation(int32_t id) const {
  if (opt_.ignore_eos) return false;
  return tok_.is_eog(id) || std::find(opt_.eog_ids.begin(), opt_.eog_ids.end(), id) != opt_.eog_ids.end();
}

// With an active grammar the log-probs are those of the constrained distribution (the allowed tokens,
// renormalised), the one the token was drawn from; otherwise the model's.
void DecodeStep::report_logprobs(std::span<const float> logits, TokenEvent& ev) {
  ev.has_logprob = true;
  TokenConstraint* k = chain_->constraint();
  if (!k) {
    ev.logprob = token_logprob(logits, ev.id);
    if (opt_.n_probs > 0) ev.top = top_logprobs(logits, opt_.n_probs);
    return;
  }
  const ConstrainedTop c = constrained_top(logits, static_cast<size_t>(std::max(opt_.n_probs, 1)), *k);
  ev.logprob = static_cast<double>(logits[static_cast<size_t>(ev.id)]) - c.log_z;
  if (opt_.n_probs > 0)
    for (const Candidate& x : c.top)
      ev.top.push_back({x.id, static_cast<float>(static_cast<double>(x.logit) - c.log_z)});
}

TokenEvent DecodeStep::next(std::span<const float> logits, const TraceHook& trace) {
  int32_t id;
  if (trace) {
    SampleTrace st;
    id = chain_->sample(logits, &st, static_cast<size_t>(std::max(opt_.trace_top, 1)));
    trace(st);
  } else {
    id = chain_->sample(logits);
  }
  TokenEvent ev;
  ev.id = id;
  if (opt_.logprobs || opt_.n_probs > 0) report_logprobs(logits, ev);  // before accept(): the state id was drawn in
  chain_->accept(id);
  tokens_.push_back(id);

  if (ends_generation(id)) {
    reason_ = StopReason::Eos;
  } else {
    bool stopped = false;
    ev.piece = tok_.stream_piece(id, prev_, opt_.render_special);
    ev.text = out_.push(ev.piece, stopped);
    if (stopped) reason_ = StopReason::Stop;
  }
  prev_ = id;
  return ev;
}

bool DecodeStep::continues(int64_t n_past, int64_t n_ctx) {
  if (done()) return false;
  if (opt_.n_predict >= 0 && n_generated() >= opt_.n_predict) reason_ = StopReason::Length;
  else if (n_past >= n_ctx) reason_ = StopReason::Context;
  return !done();
}

void DecodeStep::stop(StopReason r) {
  if (!done()) reason_ = r;
}

TokenEvent DecodeStep::finish() {
  TokenEvent tail;
  tail.kind = TokenEvent::Tail;
  tail.text = out_.flush();  // empty after a stop string: the buffer dropped it and what followed
  return tail;
}

}  // namespace lmgen
