// Model::eval_batch: several sequences in one forward pass give each sequence exactly (bit for bit) the logits
// it gets alone through eval(), whatever else shares the pass and however its prompt is chunked.
#include <gtest/gtest.h>

#include <cstring>

#include "common.hpp"
#include "lmgen/error.hpp"
#include "lmgen/loader.hpp"
#include "lmgen/model.hpp"

namespace lmgen::test {
namespace {

std::vector<int32_t> tokens_for(int32_t seed, int32_t n, int32_t vocab) {
  std::vector<int32_t> t;
  uint32_t x = 2463534242u + static_cast<uint32_t>(seed);
  for (int32_t i = 0; i < n; ++i) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    t.push_back(static_cast<int32_t>(x % static_cast<uint32_t>(vocab)));
  }
  return t;
}

// Every row's logits when `seq` goes through eval() alone, one chunk for the prompt and then token by token.
std::vector<std::vector<float>> alone(const LoadedModel& lm, const std::vector<int32_t>& seq, int64_t n_prompt) {
  Model m(lm.model, ModelOptions{.n_ctx = 128, .n_threads = 2, .n_batch = 64});
  std::vector<std::vector<float>> rows;
  std::vector<float> logits;
  m.eval(std::span<const int32_t>(seq).first(static_cast<size_t>(n_prompt)), logits, true);
  const size_t V = static_cast<size_t>(m.n_vocab());
  for (int64_t i = 0; i < n_prompt; ++i) rows.emplace_back(logits.begin() + i * V, logits.begin() + (i + 1) * V);
  for (size_t i = static_cast<size_t>(n_prompt); i < seq.size(); ++i) {
    m.eval(std::span<const int32_t>(&seq[i], 1), logits);
    rows.push_back(logits);
  }
  return rows;
}

void check_model(const std::string& path) {
  const LoadedModel lm = load_model(path);
  const int32_t V = static_cast<int32_t>(lm.model->config.n_vocab);
  // Three sequences: prompts of 23, 5 and 40 tokens, then 10 more tokens each, fed one per step.
  const std::vector<int64_t> n_prompt = {23, 5, 40};
  std::vector<std::vector<int32_t>> seqs;
  std::vector<std::vector<std::vector<float>>> want;
  for (int32_t s = 0; s < 3; ++s) {
    seqs.push_back(tokens_for(s, static_cast<int32_t>(n_prompt[static_cast<size_t>(s)]) + 10, V));
    want.push_back(alone(lm, seqs.back(), n_prompt[static_cast<size_t>(s)]));
  }
  Model m(lm.model, ModelOptions{.n_ctx = 128, .n_threads = 2, .n_batch = 16, .n_seq = 3});
  std::vector<size_t> fed(3, 0);
  std::vector<float> logits;
  const size_t Vs = static_cast<size_t>(V);
  // Each step: every sequence that still has tokens contributes a chunk (prompts in pieces of up to 7 tokens).
  for (int step = 0; step < 64; ++step) {
    std::vector<SeqChunk> chunks;
    for (int32_t s = 0; s < 3; ++s) {
      const size_t i = static_cast<size_t>(s);
      if (fed[i] == seqs[i].size()) continue;
      const size_t np = static_cast<size_t>(n_prompt[i]);
      const size_t len = fed[i] < np ? std::min<size_t>(static_cast<size_t>(3 + (step + s) % 5), np - fed[i]) : 1;
      chunks.push_back(SeqChunk{s, std::span<const int32_t>(seqs[i]).subspan(fed[i], len), true});
    }
    if (chunks.empty()) break;
    m.eval_batch(chunks, logits);
    size_t row = 0;
    for (const SeqChunk& c : chunks) {
      const size_t i = static_cast<size_t>(c.slot);
      for (size_t t = 0; t < c.tokens.size(); ++t, ++row)
        ASSERT_EQ(std::memcmp(&logits[row * Vs], want[i][fed[i] + t].data(), Vs * sizeof(float)), 0)
            << path << ": sequence " << c.slot << " position " << fed[i] + t << " differs from its run alone";
      fed[i] += c.tokens.size();
    }
  }
  for (int32_t s = 0; s < 3; ++s) EXPECT_EQ(m.n_past(s), static_cast<int64_t>(seqs[static_cast<size_t>(s)].size()));
}

TEST(ModelBatch, EachSequenceMatchesItsRunAloneBitForBit) {
  check_model(shared_path("fixtures/tiny-llama/model-q8_0.gguf"));
  check_model(shared_path("fixtures/tiny-qwen2/model-bf16.gguf"));
  check_model(shared_path("fixtures/tiny-gemma2/model-q8_0.gguf"));  // sliding-window layers and soft-caps
}

TEST(ModelBatch, RefusesBadBatches) {
  const LoadedModel lm = load_model(stories_gguf());
  Model m(lm.model, ModelOptions{.n_ctx = 32, .n_threads = 1, .n_batch = 8, .n_seq = 2});
  std::vector<float> logits;
  const std::vector<int32_t> t = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const std::span<const int32_t> all(t);
  EXPECT_THROW(m.eval_batch(std::vector<SeqChunk>{{2, all.first(1), false}}, logits), Error);  // no slot 2
  EXPECT_THROW(m.eval_batch(std::vector<SeqChunk>{{0, all.first(1), false}, {0, all.first(1), false}}, logits), Error);
  EXPECT_THROW(m.eval_batch(std::vector<SeqChunk>{{0, all.first(5), false}, {1, all.first(4), false}}, logits), Error);
  EXPECT_THROW(m.eval_batch(std::vector<SeqChunk>{{1, all.first(0), false}}, logits), Error);
  m.eval_batch(std::vector<SeqChunk>{{0, all.first(4), false}, {1, all.first(2), true}}, logits);
  EXPECT_EQ(logits.size(), 3u * static_cast<size_t>(m.n_vocab()));  // one row for slot 0, two for slot 1
  EXPECT_EQ(m.n_past(0), 4);
  EXPECT_EQ(m.n_past(1), 2);
  m.reset(1);
  EXPECT_EQ(m.n_past(1), 0);
  EXPECT_EQ(m.n_past(0), 4);
}

}  // namespace
}  // namespace lmgen::test
