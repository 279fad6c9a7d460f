// DecodeStep — one sequence's per-token step, the same for every loop that generates (Generator for generate, chat
// and --batch; the server's batched engine): it owns the sequence's sampler chain (built once, here), its stop
// strings and UTF-8-safe piece streaming (OutputBuffer), the log-probs it reports and the decision to stop. The
// caller owns the model: it evaluates the prompt, hands each logits row to next(), delivers the event, asks
// continues() whether there is room for another token, and evaluates the token.
//
//   DecodeStep d(tok, opt, prompt);
//   while (!d.done()) {
//     TokenEvent ev = d.next(row);            // sample, accept, log-prob, end-of-generation / stop string
//     deliver(ev);                            // the caller may d.stop(StopReason::Interrupted)
//     if (!d.continues(n_past, n_ctx)) break; // -n reached, or no room left for the token in the KV cache
//     evaluate ev.id -> row
//   }
//   TokenEvent tail = d.finish();             // what the output buffer still holds (id -1; "" after a stop string)
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "lmgen/generator.hpp"
#include "run/output_buffer.hpp"

namespace lmgen {

class DecodeStep {
 public:
  // `opt` and `tok` must outlive the step. The prompt's tokens are fed to the chain (penalties see them); the last
  // one is the piece context of the first generated token. n_predict 0 is done at once (StopReason::Length).
  DecodeStep(const Tokenizer& tok, const GenerateOptions& opt, std::span<const int32_t> prompt);

  // Samples the next token from `logits` (the row after the sequence's last token), accepts it and reports it:
  // its log-probs (GenerateOptions::logprobs / n_probs; with an active grammar, of the constrained distribution), its piece and the text released now. Ends the sequence
  // (StopReason::Eos, Stop) on an end-of-generation token or a stop string. `trace` sees the chain's candidates.
  TokenEvent next(std::span<const float> logits, const TraceHook& trace = {});
  // After an event was delivered: false (and done) when n_predict tokens were generated or the KV cache, holding
  // `n_past` of `n_ctx` positions, has no room to evaluate the last one (StopReason::Length, Context).
  bool continues(int64_t n_past, int64_t n_ctx);
  // Ends the sequence for a reason of the caller's (Interrupted, or Length at a deadline); no-op once done.
  void stop(StopReason r);
  // The text still held back (an incomplete character, a possible start of a stop string), as a Tail event;
  // empty after a stop string, which drops it.
  TokenEvent finish();

  bool done() const { return reason_.has_value(); }
  StopReason reason() const { return reason_.value_or(StopReason::Length); }
  const std::vector<int32_t>& tokens() const { return tokens_; }  // generated ids, end-of-generation included
  int64_t n_generated() const { return static_cast<int64_t>(tokens_.size()); }
  std::string sampler_name() const { return chain_->name(); }

 private:
  bool ends_generation(int32_t id) const;
  void report_logprobs(std::span<const float> logits, TokenEvent& ev);

  const Tokenizer& tok_;
  const GenerateOptions& opt_;
  std::unique_ptr<SamplerChain> chain_;
  OutputBuffer out_;
  int32_t prev_;
  std::vector<int32_t> tokens_;
  std::optional<StopReason> reason_;
};

}  // namespace lmgen
