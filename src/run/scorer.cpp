// Teacher-forced scoring: windows over a token sequence, log-softmax in double, cross-entropy and perplexity.
#include "lmgen/scorer.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "lmgen/error.hpp"
#include "lmgen/generator.hpp"

namespace lmgen {

double ScoreResult::perplexity() const { return std::exp(cross_entropy()); }

std::vector<ScoreWindow> plan_score_windows(int64_t n_tokens, const ScoreOptions& opt) {
  const int64_t n = opt.n_ctx;
  std::vector<ScoreWindow> out;
  if (opt.stride < 0 || opt.stride > n)
    throw UsageError("score: the stride must be between 1 and the window length " + std::to_string(n) + ", got " +
                     std::to_string(opt.stride));
  if (opt.stride == 0) {
    // llama.cpp chunks: whole chunks only; positions n/2+1 .. n-1 of each chunk are scored.
    if (n < 3) throw UsageError("score: the chunk length must be at least 3 tokens, got " + std::to_string(n));
    if (n_tokens < n)
      throw Error("score: the text has " + std::to_string(n_tokens) + " tokens, fewer than one chunk of " +
                  std::to_string(n));
    for (int64_t b = 0; b + n <= n_tokens; b += n) out.push_back({b, b + n, b + n / 2 + 1});
    return out;
  }
  // Sliding window (HF): windows start at 0, S, 2S, ...; each scores the tokens after the previous window's end.
  if (n < 2) throw UsageError("score: the window length must be at least 2 tokens, got " + std::to_string(n));
  if (n_tokens < 2)
    throw Error("score: the text has " + std::to_string(n_tokens) + " token(s); at least 2 are needed to score one");
  int64_t prev_end = 0;
  for (int64_t b = 0; b < n_tokens; b += opt.stride) {
    const int64_t e = std::min(b + n, n_tokens);
    const int64_t sb = std::max(prev_end, b + 1);
    if (sb < e) out.push_back({b, e, sb});
    prev_end = e;
    if (e == n_tokens) break;
  }
  return out;
}

ScoreResult score_tokens(Model& model, std::span<const int32_t> tokens, const ScoreOptions& opt,
                         const ScoreCallback& on_token, const WindowCallback& on_window) {
  ScoreResult res;
  res.n_tokens = static_cast<int64_t>(tokens.size());
  const std::vector<ScoreWindow> windows = plan_score_windows(res.n_tokens, opt);
  if (opt.n_ctx > model.n_ctx())
    throw UsageError("score: the window length " + std::to_string(opt.n_ctx) + " exceeds the model context " +
                     std::to_string(model.n_ctx()));
  if (opt.bos_id >= model.n_vocab())
    throw Error("score: BOS id " + std::to_string(opt.bos_id) + " is outside the vocabulary");
  const size_t V = static_cast<size_t>(model.n_vocab());
  std::vector<int32_t> buf;
  std::vector<float> logits;
  for (const ScoreWindow& w : windows) {
    buf.assign(tokens.begin() + w.begin, tokens.begin() + w.end);
    if (opt.stride == 0 && opt.bos_id >= 0) buf[0] = opt.bos_id;
    model.reset();
    // Tokens before the one whose logits predict the first scored token need no logits row.
    const size_t k = static_cast<size_t>(w.score_begin - 1 - w.begin);
    if (k > 0) model.eval(std::span<const int32_t>(buf.data(), k), logits, false);
    model.eval(std::span<const int32_t>(buf.data() + k, buf.size() - k), logits, true);
    for (int64_t p = w.score_begin; p < w.end; ++p) {
      const size_t row = static_cast<size_t>(p - w.score_begin);
      ScoredToken st;
      st.pos = p;
      st.id = tokens[static_cast<size_t>(p)];
      st.logprob = token_logprob(std::span<const float>(logits.data() + row * V, V), st.id);
      res.nll_sum -= st.logprob;
      ++res.tokens_scored;
      if (on_token && !on_token(st)) {
        ++res.n_windows;
        return res;
      }
    }
    ++res.n_windows;
    if (on_window) on_window(res);
  }
  return res;
}

ScoreResult score_text(Model& model, const Tokenizer& tok, std::string_view text, ScoreOptions opt,
                       const EncodeOptions& enc, const ScoreCallback& on_token, const WindowCallback& on_window,
                       std::vector<int32_t>* tokens_out) {
  std::vector<int32_t> tokens = tok.encode(text, enc);
  if (opt.stride == 0 && opt.bos_id < 0 && enc.add_special && tok.add_bos()) opt.bos_id = tok.bos_id();
  ScoreResult r = score_tokens(model, tokens, opt, on_token, on_window);
  if (tokens_out) *tokens_out = std::move(tokens);
  return r;
}

}  // namespace lmgen
