// Scorer — teacher-forced scoring of a text: the log-probability the model gives each token of the text, and the
// cross-entropy / perplexity over the scored tokens. docs/evaluation.md describes both windowing methods exactly.
//
//   Chunks (default, stride = 0; the method of llama.cpp's llama-perplexity): the token sequence is cut into
//   consecutive whole chunks of n_ctx tokens (a partial last chunk is dropped). Each chunk is evaluated from an
//   empty context with its first token replaced by BOS (when the tokenizer adds BOS), and only the tokens at chunk
//   positions n_ctx/2+1 .. n_ctx-1 are scored.
//
//   Sliding window (stride = S > 0; the Hugging Face "perplexity of fixed-length models" method): windows of up to
//   n_ctx tokens start at positions 0, S, 2S, ...; each window scores the tokens it ends with that no earlier
//   window scored, so every token from position 1 on is scored exactly once.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "lmgen/model.hpp"
#include "lmgen/tokenizer.hpp"

namespace lmgen {

struct ScoreOptions {
  int64_t n_ctx = 0;    // window / chunk length in tokens (>= 2; the model's context must hold it)
  int64_t stride = 0;   // 0 = llama.cpp chunks; 1..n_ctx = sliding window advancing by stride tokens
  // Chunk method: replace each chunk's first token with this id (-1 = keep the text's own token).
  int32_t bos_id = -1;
};

// One evaluation window over the token sequence: tokens [begin, end) are evaluated from an empty context, and the
// tokens at positions [score_begin, end) are scored (each predicted by the logits of the position before it).
struct ScoreWindow {
  int64_t begin = 0, end = 0;
  int64_t score_begin = 0;
};

// The windows for a sequence of n_tokens tokens. Throws UsageError if n_ctx < 2 or the stride is outside
// 0..n_ctx, and Error if the sequence is too short to give one window (chunks: fewer than n_ctx tokens;
// sliding: fewer than 2 tokens).
std::vector<ScoreWindow> plan_score_windows(int64_t n_tokens, const ScoreOptions& opt);

struct ScoredToken {
  int64_t pos = 0;       // position in the token sequence
  int32_t id = -1;       // the token scored
  double logprob = 0;    // natural log of its probability given the window's earlier tokens
};

struct ScoreResult {
  int64_t n_tokens = 0;        // tokens in the whole sequence (BOS included when added)
  int64_t n_windows = 0;       // windows (chunks) evaluated
  int64_t tokens_scored = 0;
  double nll_sum = 0;          // sum of -logprob over the scored tokens
  double cross_entropy() const { return tokens_scored > 0 ? nll_sum / static_cast<double>(tokens_scored) : 0; }
  double perplexity() const;   // exp(cross_entropy())
};

// Called for every scored token in sequence order; returning false stops scoring early (the result then covers the
// tokens scored so far).
using ScoreCallback = std::function<bool(const ScoredToken&)>;
// Called after each window with the result so far (for progress reports).
using WindowCallback = std::function<void(const ScoreResult&)>;

// Scores `tokens` with `model` (reset before every window; model.n_ctx() must be >= opt.n_ctx).
ScoreResult score_tokens(Model& model, std::span<const int32_t> tokens, const ScoreOptions& opt,
                         const ScoreCallback& on_token = {}, const WindowCallback& on_window = {});

// The tokenization scoring uses by default: BOS/EOS as the tokenizer adds them, special-token text left as plain
// text (as llama-perplexity does).
inline EncodeOptions score_encode_options() {
  EncodeOptions e;
  e.add_special = true;
  e.parse_special = false;
  return e;
}

// Tokenizes `text` once with `enc`; for the chunk method, fills opt.bos_id (when -1) with the tokenizer's BOS if it
// adds one and enc.add_special is set; then scores the tokens. tokens_out (if not null) receives the sequence.
ScoreResult score_text(Model& model, const Tokenizer& tok, std::string_view text, ScoreOptions opt,
                       const EncodeOptions& enc = score_encode_options(), const ScoreCallback& on_token = {},
                       const WindowCallback& on_window = {}, std::vector<int32_t>* tokens_out = nullptr);

}  // namespace lmgen
