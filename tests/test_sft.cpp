// score --sft's examples (run/sft.hpp): which tokens each format scores, by hand-worked ids on tiny-llama (SPM,
// BOS added) and tiny-qwen2 (byte-level BPE, Qwen2.5 chat template); and the masked cross-entropy equals the plain
// scorer's log-probabilities on the same positions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "chat/conversation.hpp"
#include "common.hpp"
#include "lmgen/error.hpp"
#include "lmgen/loader.hpp"
#include "lmgen/scorer.hpp"
#include "run/sft.hpp"

using namespace lmgen;
using ojson = nlohmann::ordered_json;

namespace {

struct Loaded {
  LoadedModel lm;
  std::unique_ptr<chat::ChatTemplate> tmpl;
  SftRender render;
};

std::unique_ptr<Loaded> open_model(const std::string& rel) {
  auto l = std::make_unique<Loaded>();
  l->lm = load_model(test::shared_path(rel));
  if (l->lm.chat_templates.count("default") > 0)
    l->tmpl = std::make_unique<chat::ChatTemplate>(l->lm.chat_templates.at("default"));
  Loaded* p = l.get();
  l->render = [p](const ojson& conv, bool agp) {
    chat::Conversation c = chat::parse_conversation(conv);
    c.add_generation_prompt = agp;
    return chat::render_conversation(*p->tmpl, p->lm.special_tokens, c);
  };
  return l;
}

// The ids at the scored positions.
std::vector<int32_t> scored_ids(const SftExample& ex) {
  std::vector<int32_t> out;
  for (size_t p = 0; p < ex.tokens.size(); ++p)
    if (ex.scored[p] != 0) out.push_back(ex.tokens[p]);
  return out;
}

// -sum of the plain scorer's logprobs (one window over all the tokens) at the example's scored positions.
double plain_nll(Model& m, const SftExample& ex) {
  ScoreOptions so;
  so.n_ctx = so.stride = static_cast<int64_t>(ex.tokens.size());
  double nll = 0;
  score_tokens(m, ex.tokens, so, [&](const ScoredToken& t) {
    if (ex.scored[static_cast<size_t>(t.pos)] != 0) nll -= t.logprob;
    return true;
  });
  return nll;
}

}  // namespace

TEST(SftExamples, PromptCompletionScoresTheIdsBeyondThePrompt) {
  auto l = open_model("fixtures/tiny-llama/hf");
  // "Hello world" = [BOS 1, ▁Hello 15043, ▁world 3186]; "Hello" = [1, 15043]: one token scored.
  SftExample ex = sft_example(ojson{{"prompt", "Hello"}, {"completion", " world"}}, *l->lm.tokenizer, l->render);
  EXPECT_EQ(ex.format, "prompt_completion");
  EXPECT_EQ(ex.tokens, (std::vector<int32_t>{1, 15043, 3186}));
  EXPECT_EQ(scored_ids(ex), (std::vector<int32_t>{3186}));
  // The fixtures' prompt 1 split after "fox" (▁fo x): the 7 ids of " jumps over the lazy dog." are scored.
  ex = sft_example(ojson{{"prompt", "The quick brown fox"}, {"completion", " jumps over the lazy dog."}},
                   *l->lm.tokenizer, l->render);
  EXPECT_EQ(ex.tokens, (std::vector<int32_t>{1, 450, 4996, 17354, 1701, 29916, 432, 17204, 975, 278, 17366, 11203,
                                             29889}));
  EXPECT_EQ(scored_ids(ex), (std::vector<int32_t>{432, 17204, 975, 278, 17366, 11203, 29889}));
}

TEST(SftExamples, TextScoresEveryTokenAfterTheFirst) {
  auto l = open_model("fixtures/tiny-llama/hf");
  const SftExample ex = sft_example(ojson{{"text", "Hello world"}}, *l->lm.tokenizer, l->render);
  EXPECT_EQ(ex.format, "text");
  EXPECT_EQ(ex.tokens, (std::vector<int32_t>{1, 15043, 3186}));
  EXPECT_EQ(scored_ids(ex), (std::vector<int32_t>{15043, 3186}));
}

// Qwen2.5's template: "<|im_start|>ROLE\nCONTENT<|im_end|>\n" per message. Each assistant turn scores its content,
// <|im_end|> (151645) and the "\n" (198) after it; system and user turns and the "<|im_start|>assistant\n" headers
// are not scored.
TEST(SftExamples, MessagesScoreTheAssistantTurnsOnly) {
  auto l = open_model("fixtures/tiny-qwen2/hf");
  const ojson line = {{"messages",
                      {{{"role", "system"}, {"content", "Hi"}},
                       {{"role", "user"}, {"content", "Hello"}},
                       {{"role", "assistant"}, {"content", "Hi"}},
                       {{"role", "user"}, {"content", "Hello world"}},
                       {{"role", "assistant"}, {"content", "Hello"}},
                       {{"role", "user"}, {"content", "not rendered: after the last assistant turn"}}}}};
  const SftExample ex = sft_example(line, *l->lm.tokenizer, l->render);
  EXPECT_EQ(ex.format, "messages");
  EXPECT_EQ(scored_ids(ex), (std::vector<int32_t>{13048, 151645, 198, 9707, 151645, 198}));
  // The sequence is the rendering up to the last assistant turn, tokenized with special text parsed.
  EXPECT_EQ(ex.tokens.back(), 198);
  EXPECT_EQ(ex.tokens.front(), 151644);  // <|im_start|>
  EXPECT_EQ(std::count(ex.tokens.begin(), ex.tokens.end(), 151644), 5);
}

TEST(SftExamples, BadLinesAreUsageErrors) {
  auto l = open_model("fixtures/tiny-llama/hf");
  const Tokenizer& t = *l->lm.tokenizer;
  EXPECT_THROW(sft_example(ojson{{"text", "a"}, {"prompt", "b"}, {"completion", "c"}}, t, l->render), UsageError);
  EXPECT_THROW(sft_example(ojson{{"prompt", "b"}}, t, l->render), UsageError);
  EXPECT_THROW(sft_example(ojson{{"prompt", ojson::array()}, {"completion", ojson::array()}}, t, l->render), UsageError);
  EXPECT_THROW(sft_example(ojson{{"id", 3}}, t, l->render), UsageError);
  EXPECT_THROW(sft_example(ojson{{"messages", {{{"role", "user"}, {"content", "x"}}}}}, t, l->render), UsageError);
}

// The SFT cross-entropy is the plain scorer's -log p on exactly the scored positions, for each format; truncation
// keeps the first n_ctx tokens.
TEST(SftScoring, EqualsPlainScoreLogprobsOnTheSameTokens) {
  auto l = open_model("fixtures/tiny-qwen2/hf");
  ModelOptions mo;
  mo.n_threads = 2;
  Model m(l->lm.model, mo);
  const ojson lines[] = {
      {{"prompt", "The quick brown fox"}, {"completion", " jumps over the lazy dog."}},
      {{"text", "In 1969, Apollo 11 landed: 3 men, 8 days!"}},
      {{"messages", {{{"role", "user"}, {"content", "Hello"}}, {{"role", "assistant"}, {"content", "Hello world"}}}}}};
  for (const ojson& line : lines) {
    const SftExample ex = sft_example(line, *l->lm.tokenizer, l->render);
    const SftScore s = score_sft(m, ex, 256);
    EXPECT_EQ(s.tokens_scored, static_cast<int64_t>(scored_ids(ex).size())) << line.dump();
    EXPECT_GT(s.tokens_scored, 0);
    EXPECT_FALSE(s.truncated);
    EXPECT_EQ(s.nll_sum, plain_nll(m, ex)) << line.dump();
    EXPECT_TRUE(std::isfinite(s.cross_entropy()) && s.cross_entropy() > 0);
  }
  const SftExample ex = sft_example(lines[1], *l->lm.tokenizer, l->render);
  SftExample cut = ex;
  cut.tokens.resize(10);
  cut.scored.resize(10);
  const SftScore t = score_sft(m, ex, 10);
  EXPECT_TRUE(t.truncated);
  EXPECT_EQ(t.tokens_scored, 9);
  EXPECT_EQ(t.nll_sum, plain_nll(m, cut));
}
