// Sampler chains: steps in the order asked, no-op steps skipped, order mattering, seeded reproducibility with and
// without a trace, option validation.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lmgen/error.hpp"
#include "lmgen/sampler.hpp"
#include "sampler_helpers.hpp"

namespace lmgen {
namespace {

using test::ids_of;
using test::make_candidates;
using test::random_logits;

std::vector<std::string> step_names(const SamplerChain& chain) {
  std::vector<std::string> out;
  for (size_t i = 0; i < chain.size(); ++i) {
    const std::string n = chain.step(i).name();
    out.push_back(n.substr(0, n.find('(')));
  }
  return out;
}

SamplingOptions all_on() {
  SamplingOptions o;
  o.repeat_penalty = 1.1f;
  o.logit_bias = {{1, 2.0f}};
  return o;
}

TEST(SamplerChain, StepsFollowOrderAndNoOpsAreSkipped) {
  SamplingOptions o = all_on();
  EXPECT_EQ(step_names(*make_sampler_chain(o)),
            (std::vector<std::string>{"penalties", "logit_bias", "top_k", "top_p", "min_p", "temperature", "dist"}));
  o.order = "temperature, min-p,top_k,logit_bias";
  EXPECT_EQ(step_names(*make_sampler_chain(o)),
            (std::vector<std::string>{"temperature", "min_p", "top_k", "logit_bias", "dist"}));
  SamplingOptions neutral;
  neutral.top_k = 0;
  neutral.top_p = 1.0f;
  neutral.min_p = 0.0f;
  neutral.temperature = 1.0f;
  neutral.repeat_penalty = 1.0f;
  EXPECT_EQ(step_names(*make_sampler_chain(neutral)), (std::vector<std::string>{"dist"}));
  SamplingOptions g = all_on();
  g.temperature = 0.0f;
  EXPECT_EQ(step_names(*make_sampler_chain(g)), (std::vector<std::string>{"penalties", "logit_bias", "greedy"}));
  EXPECT_NE(make_sampler_chain(all_on())->name().find("top_k(40) -> top_p(0.95)"), std::string::npos);
}

TEST(SamplerChain, OrderChangesTheResult) {
  // Token 0 has the lowest logit; a large bias makes it the best, but only if the bias runs before top_k drops it.
  const std::vector<float> logits = {0.0f, 5.0f, 4.0f, 3.0f};
  SamplingOptions o;
  o.top_k = 1;
  o.logit_bias = {{0, 10.0f}};
  o.order = "logit_bias,top_k";
  EXPECT_EQ(make_sampler_chain(o)->sample(logits), 0);
  o.order = "top_k,logit_bias";
  EXPECT_EQ(make_sampler_chain(o)->sample(logits), 1);
}

TEST(SamplerChain, GreedyUsesPenalisedLogits) {
  const std::vector<float> logits = {1.0f, 3.0f, 2.9f, 3.0f};
  SamplingOptions o;
  o.temperature = 0.0f;
  auto chain = make_sampler_chain(o);
  EXPECT_EQ(chain->sample(logits), 1);  // tie between 1 and 3: lowest id
  o.repeat_penalty = 1.5f;
  auto pen = make_sampler_chain(o);
  pen->accept(1);
  pen->accept(3);
  EXPECT_EQ(pen->sample(logits), 2);  // 3.0 / 1.5 = 2.0 < 2.9
  pen->reset();
  EXPECT_EQ(pen->sample(logits), 1);
}

TEST(SamplerChain, SameSeedReproducesAndTraceDoesNotPerturb) {
  const std::vector<float> logits = random_logits(2000, 77, 3.0f);
  SamplingOptions o;
  o.seed = 9;
  o.repeat_penalty = 1.2f;
  auto a = make_sampler_chain(o), b = make_sampler_chain(o);
  std::vector<int32_t> sa, sb;
  for (int i = 0; i < 200; ++i) {
    SampleTrace tr;
    sa.push_back(a->sample(logits));
    sb.push_back(b->sample(logits, &tr, 5));
    a->accept(sa.back());
    b->accept(sb.back());
    ASSERT_EQ(tr.selected, sb.back());
    ASSERT_EQ(tr.before.size(), 5u);
    EXPECT_EQ(tr.before_count, logits.size());
    ASSERT_GE(tr.after_count, 1u);
    ASSERT_LE(tr.after_count, 40u);  // top_k 40
    EXPECT_TRUE(std::is_sorted(tr.before.begin(), tr.before.end(), ranks_before));
    double mass = 0;
    for (const Candidate& x : b->last().data) mass += x.p;
    EXPECT_NEAR(mass, 1.0, 1e-5);
    bool in_after = false;
    for (const Candidate& x : b->last().data) in_after |= x.id == tr.selected;
    EXPECT_TRUE(in_after);
  }
  EXPECT_EQ(sa, sb);
  o.seed = 10;
  auto c = make_sampler_chain(o);
  std::vector<int32_t> sc;
  for (int i = 0; i < 200; ++i) {
    sc.push_back(c->sample(logits));
    c->accept(sc.back());
  }
  EXPECT_NE(sa, sc);
}

TEST(SamplerChain, InvalidOptionsThrowUsageError) {
  auto bad = [](auto mutate) {
    SamplingOptions o;
    mutate(o);
    return o;
  };
  EXPECT_THROW(make_sampler_chain(bad([](SamplingOptions& o) { o.temperature = -0.1f; })), UsageError);
  EXPECT_THROW(make_sampler_chain(bad([](SamplingOptions& o) { o.temperature = NAN; })), UsageError);
  EXPECT_THROW(make_sampler_chain(bad([](SamplingOptions& o) { o.top_p = 0.0f; })), UsageError);
  EXPECT_THROW(make_sampler_chain(bad([](SamplingOptions& o) { o.top_p = 1.01f; })), UsageError);
  EXPECT_THROW(make_sampler_chain(bad([](SamplingOptions& o) { o.min_p = -0.01f; })), UsageError);
  EXPECT_THROW(make_sampler_chain(bad([](SamplingOptions& o) { o.min_p = 1.5f; })), UsageError);
  EXPECT_THROW(make_sampler_chain(bad([](SamplingOptions& o) { o.top_k = -1; })), UsageError);
  EXPECT_THROW(make_sampler_chain(bad([](SamplingOptions& o) { o.penalty_last_n = -1; })), UsageError);
  EXPECT_THROW(make_sampler_chain(bad([](SamplingOptions& o) { o.repeat_penalty = 0.0f; })), UsageError);
  EXPECT_THROW(make_sampler_chain(bad([](SamplingOptions& o) { o.order = "top_k,top_k"; })), UsageError);
  EXPECT_THROW(make_sampler_chain(bad([](SamplingOptions& o) { o.order = "top_k,"; })), UsageError);
  try {
    make_sampler_chain(bad([](SamplingOptions& o) { o.order = "top_k,typical"; }));
    FAIL() << "unknown step accepted";
  } catch (const UsageError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("typical"), std::string::npos) << msg;
    for (const char* n : {"penalties", "logit_bias", "top_k", "top_p", "min_p", "temperature"})
      EXPECT_NE(msg.find(n), std::string::npos) << msg;
  }
  // Boundary values are fine.
  SamplingOptions ok;
  ok.top_p = 1.0f;
  ok.min_p = 1.0f;
  ok.temperature = 0.0f;
  ok.order = "";
  EXPECT_NO_THROW(make_sampler_chain(ok));
}

TEST(SamplerChain, ChainWithoutPickerThrowsOnSample) {
  SamplerChain chain;
  chain.add(make_top_k(2));
  const std::vector<float> logits = {1.0f, 2.0f, 3.0f};
  EXPECT_THROW(chain.sample(logits), Error);
  Candidates c = make_candidates(logits);  // but apply() on caller-held candidates is fine
  chain.apply(c);
  EXPECT_EQ(ids_of(c), (std::set<int32_t>{1, 2}));
}

}  // namespace
}  // namespace lmgen
