// Library-level tests of lmgen::Generator (src/run/generator.cpp) on the stories260K model: the greedy text,
// streaming callbacks, stop strings, interruption, context exhaustion, log-probs against a separate forward
// pass, seeded sampling, and the trace hook; and of its per-token step, DecodeStep (src/run/decode_step.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common.hpp"
#include "lmgen/error.hpp"
#include "lmgen/generator.hpp"
#include "lmgen/loader.hpp"
#include "lmgen/model.hpp"
#include "run/decode_step.hpp"

using namespace lmgen;

namespace {

const LoadedModel& stories() {
  static const LoadedModel lm = load_model(test::stories_gguf());
  return lm;
}

GenerateOptions greedy(int32_t n) {
  GenerateOptions o;
  o.n_predict = n;
  o.sampling.temperature = 0;
  return o;
}

// The greedy continuation llama2.c prints for this prompt (shared/README.md, and the install test).
constexpr const char* kOnceGreedy = ", there was a little girl named Lily. She loved to play outside in the park.";

}  // namespace

TEST(Generator, GreedyTextAndCallbacksAgree) {
  Model model(stories().model);
  Generator gen(model, *stories().tokenizer);
  std::string streamed;
  int calls = 0;
  GenerateResult r = gen.generate("Once upon a time", greedy(32), [&](const TokenEvent& ev) {
    streamed += ev.text;
    ++calls;
    return true;
  });
  EXPECT_EQ(r.text.rfind(kOnceGreedy, 0), 0u) << r.text;
  EXPECT_EQ(streamed, r.text);
  EXPECT_EQ(r.tokens.size(), 32u);
  EXPECT_GE(calls, 32);
  EXPECT_EQ(r.stop_reason, StopReason::Length);
  EXPECT_EQ(r.prompt_tokens, stories().tokenizer->encode("Once upon a time"));
}

TEST(Generator, StopStringEndsTheTextBeforeIt) {
  Model model(stories().model);
  Generator gen(model, *stories().tokenizer);
  GenerateOptions o = greedy(40);
  o.stop = {"Lily"};
  GenerateResult r = gen.generate("Once upon a time", o);
  EXPECT_EQ(r.stop_reason, StopReason::Stop);
  EXPECT_EQ(r.text, ", there was a little girl named ");
}

TEST(Generator, CallbackReturningFalseInterrupts) {
  Model model(stories().model);
  Generator gen(model, *stories().tokenizer);
  GenerateResult r = gen.generate("Once upon a time", greedy(20), [](const TokenEvent&) { return false; });
  EXPECT_EQ(r.stop_reason, StopReason::Interrupted);
  EXPECT_EQ(r.tokens.size(), 1u);
}

TEST(Generator, FullContextStops) {
  ModelOptions mo;
  mo.n_ctx = 12;
  Model model(stories().model, mo);
  Generator gen(model, *stories().tokenizer);
  GenerateResult r = gen.generate("Once upon a time", greedy(-1));
  EXPECT_EQ(r.stop_reason, StopReason::Context);
  EXPECT_EQ(model.n_past(), 12);
  EXPECT_EQ(r.prompt_tokens.size() + r.tokens.size(), 13u);  // the last token is sampled, never evaluated
  // A prompt that does not fit is an error, not a silent truncation.
  EXPECT_THROW(gen.generate(std::string(200, 'a'), greedy(1)), Error);
}

TEST(Generator, LogprobsMatchASeparateForwardPass) {
  Model model(stories().model);
  Generator gen(model, *stories().tokenizer);
  GenerateOptions o = greedy(6);
  o.n_probs = 3;
  std::vector<TokenEvent> events;
  GenerateResult r = gen.generate("Lily and Tom", o, [&](const TokenEvent& ev) {
    if (ev.id >= 0) events.push_back(ev);
    return true;
  });
  ASSERT_EQ(events.size(), 6u);
  // Teacher-forced: all logits of prompt + generated tokens in one pass.
  std::vector<int32_t> seq = r.prompt_tokens;
  seq.insert(seq.end(), r.tokens.begin(), r.tokens.end());
  Model ref(stories().model);
  std::vector<float> logits;
  ref.eval(seq, logits, true);
  const size_t V = static_cast<size_t>(ref.n_vocab());
  for (size_t i = 0; i < events.size(); ++i) {
    const size_t row = r.prompt_tokens.size() - 1 + i;
    std::span<const float> l(logits.data() + row * V, V);
    EXPECT_NEAR(events[i].logprob, token_logprob(l, events[i].id), 1e-4) << "token " << i;
    ASSERT_EQ(events[i].top.size(), 3u);
    EXPECT_EQ(events[i].top[0].id, events[i].id) << "greedy picks the most likely token";
    EXPECT_GE(events[i].top[0].logprob, events[i].top[1].logprob);
    EXPECT_GE(events[i].top[1].logprob, events[i].top[2].logprob);
  }
}

TEST(Generator, SeededSamplingRepeatsAndSeedsDiffer) {
  Model model(stories().model);
  Generator gen(model, *stories().tokenizer);
  GenerateOptions o;
  o.n_predict = 48;
  o.sampling.temperature = 1.5f;
  o.sampling.min_p = 0;
  o.sampling.top_p = 1;
  o.sampling.top_k = 0;
  o.sampling.seed = 7;
  const GenerateResult a = gen.generate("Once", o), b = gen.generate("Once", o);
  EXPECT_EQ(a.tokens, b.tokens);
  o.sampling.seed = 8;
  const GenerateResult c = gen.generate("Once", o);
  EXPECT_NE(a.tokens, c.tokens) << "48 tokens at temperature 1.5 drawn identically from two seeds";
}

TEST(Generator, TraceSeesEveryStepAndChangesNothing) {
  Model model(stories().model);
  Generator gen(model, *stories().tokenizer);
  GenerateOptions o;
  o.n_predict = 10;
  o.sampling.temperature = 1.0f;
  o.sampling.seed = 3;
  o.trace_top = 5;
  std::vector<SampleTrace> traces;
  const GenerateResult traced =
      gen.generate("Once", o, {}, [&](const SampleTrace& t) { traces.push_back(t); });
  const GenerateResult plain = gen.generate("Once", o);
  EXPECT_EQ(traced.tokens, plain.tokens);
  ASSERT_EQ(traces.size(), traced.tokens.size());
  for (size_t i = 0; i < traces.size(); ++i) {
    EXPECT_EQ(traces[i].selected, traced.tokens[i]);
    EXPECT_EQ(traces[i].before_count, 512u);
    EXPECT_LE(traces[i].before.size(), 5u);
    EXPECT_GE(traces[i].after_count, 1u);
  }
}

TEST(Generator, EmptyPromptStartsFromBos) {
  Model model(stories().model);
  Generator gen(model, *stories().tokenizer);
  GenerateResult r = gen.generate("", greedy(4));
  ASSERT_EQ(r.prompt_tokens.size(), 1u);
  EXPECT_EQ(r.prompt_tokens[0], stories().tokenizer->bos_id());
  EXPECT_EQ(r.tokens.size(), 4u);
}

TEST(Generator, ContinueFromReusesTheCacheAndMatchesAFreshRun) {
  Model model(stories().model);
  const Tokenizer& tok = *stories().tokenizer;
  Generator gen(model, tok);
  const GenerateResult first = gen.generate("Once upon a time", greedy(12));
  EXPECT_EQ(first.n_reused, 0);
  // The context now holds the prompt and the generated tokens but the last (sampled, never evaluated).
  EXPECT_EQ(gen.context().size(), first.prompt_tokens.size() + first.tokens.size() - 1);

  // A second turn: everything so far plus new text. Only the new tokens (and the last generated one) are evaluated.
  std::vector<int32_t> turn2 = first.prompt_tokens;
  turn2.insert(turn2.end(), first.tokens.begin(), first.tokens.end());
  const std::vector<int32_t> more = tok.encode(" The end. One day", {.add_special = false});
  turn2.insert(turn2.end(), more.begin(), more.end());
  const GenerateResult second = gen.continue_from(turn2, greedy(16));
  EXPECT_EQ(second.n_reused + second.n_evaluated, static_cast<int64_t>(turn2.size()));
  EXPECT_EQ(second.n_evaluated, static_cast<int64_t>(more.size()) + 1);

  Model fresh_model(stories().model);
  Generator fresh(fresh_model, tok);
  const GenerateResult ref = fresh.continue_from(turn2, greedy(16));
  EXPECT_EQ(ref.n_reused, 0);
  EXPECT_EQ(second.tokens, ref.tokens);
  EXPECT_EQ(second.text, ref.text);

  // A prompt that diverges early keeps only the common prefix.
  std::vector<int32_t> other = first.prompt_tokens;
  other.push_back(more[0]);
  const GenerateResult third = gen.continue_from(other, greedy(2));
  EXPECT_EQ(third.n_reused, static_cast<int64_t>(first.prompt_tokens.size()));
  EXPECT_EQ(third.n_evaluated, 1);
}

// DecodeStep (src/run/decode_step.hpp) is the per-token step of Generator and of the server's engine: these drive it
// by hand, as the engine does, on hand-made logits rows.

namespace {

// A logits row over the stories vocabulary that makes `id` the argmax.
std::vector<float> row_for(int32_t id) {
  std::vector<float> row(static_cast<size_t>(stories().tokenizer->n_vocab()), 0.0f);
  row[static_cast<size_t>(id)] = 10.0f;
  return row;
}

}  // namespace

TEST(DecodeStep, OwnsStopStringsLogprobsAndWhyItStopped) {
  const Tokenizer& tok = *stories().tokenizer;
  const std::vector<int32_t> prompt = tok.encode("Once", {});
  const std::vector<int32_t> ids = tok.encode(" upon a time", {.add_special = false});
  ASSERT_GE(ids.size(), 3u);
  GenerateOptions o = greedy(-1);
  o.stop = {tok.token_to_piece(ids[2])};  // the third piece is a stop string
  o.logprobs = true;
  DecodeStep step(tok, o, prompt);
  std::string text;
  for (size_t i = 0; i < ids.size() && !step.done(); ++i) {
    const std::vector<float> row = row_for(ids[i]);
    const TokenEvent ev = step.next(row);
    EXPECT_EQ(ev.id, ids[i]);
    EXPECT_TRUE(ev.has_logprob);
    EXPECT_NEAR(ev.logprob, token_logprob(row, ids[i]), 1e-9);
    EXPECT_TRUE(ev.top.empty());  // n_probs 0: no alternatives
    text += ev.text;
    if (!step.done()) {
      EXPECT_TRUE(step.continues(static_cast<int64_t>(prompt.size() + i + 1), 64));
    }
  }
  EXPECT_TRUE(step.done());
  EXPECT_EQ(step.reason(), StopReason::Stop);
  EXPECT_EQ(step.n_generated(), 3);
  EXPECT_EQ(text, tok.stream_piece(ids[0], prompt.back()) + tok.stream_piece(ids[1], ids[0]));
  EXPECT_EQ(step.finish().text, "");  // a stop string drops what was held back
}

TEST(DecodeStep, EndsAtEndOfGenerationLengthAndContext) {
  const Tokenizer& tok = *stories().tokenizer;
  const std::vector<int32_t> prompt = tok.encode("Once", {});
  ASSERT_GE(tok.eos_id(), 0);
  {  // end of generation: reported with no text, and ignore_eos goes past it
    GenerateOptions o = greedy(-1);
    DecodeStep step(tok, o, prompt);
    const TokenEvent ev = step.next(row_for(tok.eos_id()));
    EXPECT_EQ(ev.text, "");
    EXPECT_EQ(step.reason(), StopReason::Eos);
    o.ignore_eos = true;
    DecodeStep past(tok, o, prompt);
    past.next(row_for(tok.eos_id()));
    EXPECT_FALSE(past.done());
  }
  {  // n_predict 0 is done before any token; n_predict 2 after two
    GenerateOptions o = greedy(0);
    EXPECT_TRUE(DecodeStep(tok, o, prompt).done());
    o.n_predict = 2;
    DecodeStep step(tok, o, prompt);
    step.next(row_for(100));
    EXPECT_TRUE(step.continues(2, 64));
    step.next(row_for(101));
    EXPECT_FALSE(step.continues(3, 64));
    EXPECT_EQ(step.reason(), StopReason::Length);
  }
  {  // a full cache: Context; a caller's stop does not override it
    GenerateOptions o = greedy(-1);
    DecodeStep step(tok, o, prompt);
    step.next(row_for(100));
    EXPECT_FALSE(step.continues(64, 64));
    step.stop(StopReason::Interrupted);
    EXPECT_EQ(step.reason(), StopReason::Context);
  }
}
