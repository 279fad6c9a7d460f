// The grammar step of the sampler chain on a hand-made vocabulary: only allowed tokens are picked, end-of-generation
// only where the text is complete and alone once nothing else can follow, prompt tokens do not count, a lazy
// grammar starts at its trigger, the trie walk agrees with token-by-token checks, --trace sees only allowed
// survivors (also on the fast path over a large vocabulary), and constrained_top reports the distribution renormalised
// over the allowed tokens, lazily or exactly.
#include <gtest/gtest.h>

#include <cmath>

#include "grammar/token_index.hpp"
#include "lmgen/error.hpp"
#include "lmgen/sampler.hpp"

namespace lmgen::test {
namespace {

// ids:                                    0    1    2    3    4     5       6      7         8          9
const std::vector<std::string> kPieces = {"{", "a", "b", "}", "ab", "{a}", "", "<tc>", "\xC3", "\xA9"};
constexpr int32_t kEos = 6;

std::shared_ptr<const TokenIndex> vocab() {
  std::vector<bool> eog(kPieces.size(), false);
  eog[kEos] = true;
  return std::make_shared<const TokenIndex>(kPieces, eog);
}

// Logits that make `favourite` the argmax, then descending by id distance.
std::vector<float> logits_favouring(int32_t favourite) {
  std::vector<float> l(kPieces.size());
  for (size_t i = 0; i < l.size(); ++i) l[i] = -static_cast<float>(i);
  l[static_cast<size_t>(favourite)] = 10.0f;
  return l;
}

std::unique_ptr<SamplerChain> chain_for(const std::string& gbnf, float temp, const std::string& trigger = "") {
  SamplingOptions o;
  o.temperature = temp;
  o.top_k = 0;
  o.top_p = 1.0f;
  o.min_p = 0.0f;
  o.grammar = GrammarConstraint{compile_gbnf(gbnf), vocab(), trigger};
  return make_sampler_chain(o);
}

int32_t step(SamplerChain& c, int32_t favourite) {
  const std::vector<float> l = logits_favouring(favourite);
  const int32_t id = c.sample(l);
  c.accept(id);
  return id;
}

TEST(SamplerGrammar, PicksOnlyAllowedTokensAndEndsWhereTheGrammarDoes) {
  auto c = chain_for("root ::= \"{\" \"a\"* \"}\"", 0.0f);
  EXPECT_NE(c->name().find("grammar -> greedy"), std::string::npos) << c->name();
  c->accept(2);  // a prompt token ("b"): not part of the constrained text
  EXPECT_EQ(step(*c, 2), 0);     // "b" is not allowed first; "{" is the best allowed
  EXPECT_EQ(step(*c, kEos), 1);  // end of text is not allowed before "}": the best other is "a"
  EXPECT_EQ(step(*c, 4), 1);     // "ab" is not allowed
  EXPECT_EQ(step(*c, 3), 3);     // "}"
  EXPECT_EQ(step(*c, 1), kEos);  // nothing else can follow: end of text only
}

TEST(SamplerGrammar, MultiTokenCharacter) {
  auto c = chain_for("root ::= \"\xC3\xA9\"", 0.0f);
  EXPECT_EQ(step(*c, 0), 8);  // the first byte of é
  EXPECT_EQ(step(*c, 0), 9);  // and the second
  EXPECT_EQ(step(*c, 0), kEos);
}

TEST(SamplerGrammar, SamplingDrawsOnlyAllowedTokens) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    SamplingOptions o;
    o.temperature = 1.0f;
    o.seed = seed;
    o.grammar = GrammarConstraint{compile_gbnf("root ::= (\"a\" | \"b\" | \"ab\")+"), vocab(), ""};
    auto c = make_sampler_chain(o);
    std::vector<float> flat(kPieces.size(), 0.0f);
    for (int i = 0; i < 5; ++i) {
      const int32_t id = c->sample(flat);
      EXPECT_TRUE(id == 1 || id == 2 || id == 4 || (i > 0 && id == kEos)) << "seed " << seed << " step " << i << ": " << id;
      if (id == kEos) break;
      c->accept(id);
    }
  }
}

TEST(SamplerGrammar, LazyGrammarStartsAtItsTrigger) {
  auto c = chain_for("root ::= \"<tc>{\" [ab]+ \"}\"", 0.0f, "<tc>");
  EXPECT_NE(c->name().find("grammar(lazy)"), std::string::npos);
  EXPECT_EQ(step(*c, 4), 4);     // unconstrained before the trigger
  EXPECT_EQ(step(*c, 7), 7);     // the trigger
  EXPECT_EQ(step(*c, 3), 0);     // now constrained: "}" is refused, "{" is the best allowed
  EXPECT_EQ(step(*c, 3), 1);     // "}" too early ([ab]+ first); "a" is the best allowed
  EXPECT_EQ(step(*c, 3), 3);
  EXPECT_EQ(step(*c, 0), kEos);
}

TEST(SamplerGrammar, TrieWalkAgreesWithTokenByTokenChecks) {
  auto idx = vocab();
  auto g = compile_gbnf("root ::= \"{\" ( [ab]* | \"\xC3\xA9\" ) \"}\"");
  grammar::Matcher m(g->get());
  for (const std::string& prefix : std::vector<std::string>{"", "{", "{a", "{\xC3", "{\xC3\xA9"}) {
    grammar::MatchState st = m.start();
    ASSERT_TRUE(m.accept(st, prefix)) << prefix;
    std::vector<uint8_t> allowed(idx->size(), 0);
    idx->mark_allowed(m, st, allowed);
    for (int32_t id = 0; id < static_cast<int32_t>(idx->size()); ++id) {
      grammar::MatchState s2 = st;
      const bool one = idx->has_text(id) && m.accept(s2, idx->piece(id));
      EXPECT_EQ(allowed[static_cast<size_t>(id)] != 0, one) << "prefix [" << prefix << "] token " << id;
    }
  }
}

TEST(SamplerGrammar, TraceShowsOnlyAllowedSurvivors) {
  auto c = chain_for("root ::= \"a\" | \"b\"", 1.0f);
  SampleTrace t;
  const std::vector<float> flat(kPieces.size(), 0.0f);
  const int32_t id = c->sample(flat, &t, 10);
  EXPECT_TRUE(id == 1 || id == 2);
  EXPECT_EQ(t.after_count, 2u);
  for (const Candidate& x : t.after) EXPECT_TRUE(x.id == 1 || x.id == 2) << x.id;
}

// A vocabulary larger than the grammar step's last() filter limit: "{", "a", "b", "}", 3000 others, EOS last.
constexpr int32_t kBigOthers = 3000;
constexpr int32_t kBigEos = 4 + kBigOthers;

std::shared_ptr<const TokenIndex> big_vocab() {
  std::vector<std::string> pieces = {"{", "a", "b", "}"};
  for (int32_t i = 0; i < kBigOthers; ++i) pieces.push_back("x" + std::to_string(i));
  pieces.push_back("");
  std::vector<bool> eog(pieces.size(), false);
  eog[kBigEos] = true;
  return std::make_shared<const TokenIndex>(pieces, eog);
}

// A greedy chain under root ::= "{" [ab]+ "}" on big_vocab(), after "{" was generated.
std::unique_ptr<SamplerChain> big_chain_after_brace() {
  SamplingOptions o;
  o.temperature = 0.0f;
  o.grammar = GrammarConstraint{compile_gbnf("root ::= \"{\" [ab]+ \"}\""), big_vocab(), ""};
  auto c = make_sampler_chain(o);
  std::vector<float> l(static_cast<size_t>(kBigEos) + 1, -5.0f);
  l[0] = 9.0f;
  EXPECT_EQ(c->sample(l), 0);
  c->accept(0);
  return c;
}

// The fast path (the greedy pick is allowed) leaves the whole vocabulary among the survivors: the trace must still
// show only what the grammar allows, renormalised.
TEST(SamplerGrammar, TraceShowsConstrainedDistributionOnTheFastPath) {
  auto c = big_chain_after_brace();
  std::vector<float> l(static_cast<size_t>(kBigEos) + 1, 0.0f);
  for (size_t i = 4; i < l.size(); ++i) l[i] = 1.0f + 0.001f * static_cast<float>(i % 97);  // others lead...
  l[1] = 8.0f;                                                                               // ...but "a" is first
  SampleTrace t;
  ASSERT_EQ(c->sample(l, &t, 10), 1);
  EXPECT_EQ(t.after_count, 2u);  // "a" and "b"
  ASSERT_EQ(t.after.size(), 2u);
  EXPECT_EQ(t.after[0].id, 1);
  EXPECT_EQ(t.after[1].id, 2);
  EXPECT_NEAR(t.after[0].p + t.after[1].p, 1.0, 1e-6);
  EXPECT_NEAR(t.after[0].p, 1.0 / (1.0 + std::exp(0.0 - 8.0)), 1e-6);
}

// Exact reference: p = exp(l) / sum of exp over the allowed ids.
std::vector<double> exact_constrained(const std::vector<float>& l, const std::vector<int32_t>& allowed) {
  double z = 0.0;
  for (int32_t id : allowed) z += std::exp(static_cast<double>(l[static_cast<size_t>(id)]));
  std::vector<double> p(l.size(), 0.0);
  for (int32_t id : allowed) p[static_cast<size_t>(id)] = std::exp(static_cast<double>(l[static_cast<size_t>(id)])) / z;
  return p;
}

void expect_constrained_top(const std::vector<float>& l, double tolerance) {
  auto c = big_chain_after_brace();
  TokenConstraint* k = c->constraint();
  ASSERT_NE(k, nullptr);
  const ConstrainedTop top = constrained_top(l, 5, *k);
  const std::vector<double> exact = exact_constrained(l, {1, 2});  // after "{": only "a" and "b"
  ASSERT_EQ(top.top.size(), 2u);
  EXPECT_EQ(top.top[0].id, 1);  // the unconstrained favourites (the x tokens, "}") are forbidden
  EXPECT_EQ(top.top[1].id, 2);
  double sum = 0.0;
  for (const Candidate& x : top.top) {
    sum += x.p;
    EXPECT_LE(x.p, exact[static_cast<size_t>(x.id)] + 1e-6) << x.id;
    EXPECT_NEAR(x.p, exact[static_cast<size_t>(x.id)], tolerance) << x.id;
    EXPECT_NEAR(static_cast<double>(x.logit) - top.log_z, std::log(exact[static_cast<size_t>(x.id)]), tolerance * 10) << x.id;
  }
  EXPECT_LE(sum, 1.0 + 1e-6);
}

// The unconstrained top tokens are forbidden and few allowed tokens lie far down: the walk passes its budget and
// marks the vocabulary (exact).
TEST(SamplerGrammar, ConstrainedTopRenormalisesOverAllowedTokens) {
  std::vector<float> l(static_cast<size_t>(kBigEos) + 1);
  for (size_t i = 0; i < l.size(); ++i) l[i] = 6.0f - 0.002f * static_cast<float>(i % 1500);
  l[1] = 1.0f;
  l[2] = 0.5f;
  l[3] = 12.0f;  // "}" first unconstrained (not allowed before a letter)
  expect_constrained_top(l, 1e-6);
}

// The allowed tokens carry nearly all the mass after a forbidden favourite: the walk stops early, within 1e-4.
TEST(SamplerGrammar, ConstrainedTopStopsEarlyWhenTheRestIsNegligible) {
  std::vector<float> l(static_cast<size_t>(kBigEos) + 1, -40.0f);
  l[3] = 10.0f;  // forbidden favourite
  l[1] = 9.0f;
  l[2] = 8.5f;
  expect_constrained_top(l, 1e-4);
}

TEST(SamplerGrammar, NoAllowedTokenIsAnError) {
  auto c = chain_for("root ::= \"z\"", 0.0f);
  const std::vector<float> flat(kPieces.size(), 0.0f);
  try {
    c->sample(flat);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected \"z\""), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lmgen::test
