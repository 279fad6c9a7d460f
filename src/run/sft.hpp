// The supervised fine-tuning (SFT) objective as an evaluation: an example in one of the formats fine-tuning
// libraries read becomes one token sequence and the set of positions the training loss covers; scoring it gives
// the cross-entropy the fine-tune minimised on it. docs/evaluation.md "SFT" defines every detail:
//   {"prompt": P, "completion": C}  ids = tokenize(P + C), scored: ids beyond the first len(tokenize(P))
//                                   (tokenize: the tokenizer's BOS/EOS added, special-token text parsed; TRL's way)
//   {"messages": [...]}             for each assistant message k: the tokens of render(messages[:k+1]) beyond
//                                   render(messages[:k], add_generation_prompt=true) (chat template, tokenized as
//                                   apply_chat_template does: special text parsed, nothing added)
//   {"text": T}                     ids = tokenize(T), every token after the first scored
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lmgen/model.hpp"
#include "lmgen/tokenizer.hpp"

namespace lmgen {

struct SftExample {
  std::string format;            // "prompt_completion", "messages" or "text"
  std::vector<int32_t> tokens;   // the sequence the model reads
  std::vector<uint8_t> scored;   // per position: 1 = the token is in the loss (position 0 never is)
};

// Renders a conversation {"messages": [...], "tools": [...]} with the model's chat template.
using SftRender = std::function<std::string(const nlohmann::ordered_json& conversation, bool add_generation_prompt)>;

// One example from a parsed JSONL line. Throws UsageError for a line in none of the formats (or in two), Error when
// a chat template renders an earlier turn differently once later turns follow (the turns are then not one
// sequence: split the conversation into one example per assistant turn).
SftExample sft_example(const nlohmann::ordered_json& line, const Tokenizer& tok, const SftRender& render);

struct SftScore {
  int64_t tokens_scored = 0;
  double nll_sum = 0;      // sum of -log p over the scored tokens
  bool truncated = false;  // the sequence was longer than the context: only its first n_ctx tokens were read
  double cross_entropy() const { return tokens_scored > 0 ? nll_sum / static_cast<double>(tokens_scored) : 0; }
};

// Evaluates the example's first min(L, n_ctx) tokens in one causal pass from an empty context (the same pass and
// log-softmax as score_tokens) and sums -log p of the scored tokens in it.
SftScore score_sft(Model& model, const SftExample& ex, int64_t n_ctx);

}  // namespace lmgen
