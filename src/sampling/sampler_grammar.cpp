// The grammar step: only tokens that keep the generated text inside the grammar's language survive.
//
// It wraps the steps after it (truncation, temperature, the draw) and runs them first on the unconstrained
// candidates: when the token they pick is allowed, that is the answer (rejection sampling: the draw is then from
// the distribution restricted to the allowed tokens); only when it is not are the candidates filtered through the
// vocabulary trie and the steps run again (llama.cpp's order). End-of-generation is allowed only where the text
// is a complete sentence, and is the only choice once nothing else can follow.
//
// It is also the chain's TokenConstraint while active, so --trace, --n-probs and the log-probs can report the
// constrained distribution without this step filtering the whole vocabulary on the fast path.
//
// Tokens accepted before the first apply() after reset() are the prompt: they are not part of the constrained
// text. With a trigger, the constraint starts once the generated text contains it, and covers the text from the
// trigger on.
#include <algorithm>

#include "grammar/token_index.hpp"
#include "lmgen/error.hpp"
#include "lmgen/sampler.hpp"

namespace lmgen {

namespace {

constexpr size_t kLastFilterLimit = 1024;  // survivors filtered after a fast pick, so last() shows only allowed ones

class GrammarStep final : public Sampler, public TokenConstraint {
 public:
  GrammarStep(GrammarConstraint g, std::unique_ptr<SamplerChain> rest)
      : g_(std::move(g)), rest_(std::move(rest)), matcher_(g_.grammar->get()) {
    reset();
  }

  std::string name() const override {
    return "grammar" + std::string(g_.trigger.empty() ? "" : "(lazy)") + " -> " + rest_->name();
  }

  void reset() override {
    rest_->reset();
    armed_ = false;
    active_ = g_.trigger.empty();
    text_.clear();
    state_ = matcher_.start();
  }

  void accept(int32_t token) override {
    rest_->accept(token);
    if (!armed_ || token < 0 || static_cast<size_t>(token) >= g_.vocab->size() || g_.vocab->is_eog(token)) return;
    const std::string& piece = g_.vocab->piece(token);
    if (active_) {
      matcher_.accept(state_, piece);  // a dead state is reported by the next apply()
      return;
    }
    text_ += piece;
    const size_t at = text_.find(g_.trigger);
    if (at == std::string::npos) return;
    active_ = true;
    matcher_.accept(state_, std::string_view(text_).substr(at));
  }

  void apply(Candidates& c) override {
    armed_ = true;
    if (!active_) return rest_->apply(c);
    if (state_.dead()) throw Error("grammar: the generated text left the grammar (a token was forced past it)");
    saved_ = c.data;
    const bool saved_sorted = c.sorted;
    rest_->apply(c);
    if (c.selected >= 0 && allowed(c.selected)) {
      if (c.data.size() <= kLastFilterLimit) keep_allowed(c);
      return;
    }
    c.data.swap(saved_);
    c.sorted = saved_sorted;
    c.selected = -1;
    filter(c);
    rest_->apply(c);
  }

  TokenConstraint* constraint() override { return active_ && !state_.dead() ? this : nullptr; }
  bool allows(int32_t id) override { return allowed(id); }

  void mark_allowed(std::vector<uint8_t>& mask) override {
    mask.assign(g_.vocab->size(), 0);
    if (!matcher_.only_end(state_)) g_.vocab->mark_allowed(matcher_, state_, mask);
    if (matcher_.complete(state_))
      for (int32_t id : g_.vocab->eog_ids()) mask[static_cast<size_t>(id)] = 1;
  }

 private:
  bool allowed(int32_t id) {
    if (static_cast<size_t>(id) >= g_.vocab->size()) return false;
    if (g_.vocab->is_eog(id)) return matcher_.complete(state_);
    if (!g_.vocab->has_text(id) || matcher_.only_end(state_)) return false;
    grammar::MatchState st = state_;
    return matcher_.accept(st, g_.vocab->piece(id));
  }

  void keep_allowed(Candidates& c) {
    std::erase_if(c.data, [&](const Candidate& x) { return x.id != c.selected && !allowed(x.id); });
  }

  void filter(Candidates& c) {
    mark_allowed(mask_);
    std::erase_if(c.data, [&](const Candidate& x) {
      return static_cast<size_t>(x.id) >= mask_.size() || !mask_[static_cast<size_t>(x.id)];
    });
    if (c.data.empty()) {
      std::string want;
      for (const std::string& e : matcher_.expected(state_)) want += (want.empty() ? "" : ", ") + e;
      throw Error("grammar: no token of the vocabulary can continue the text here (expected " + want + ")");
    }
  }

  GrammarConstraint g_;
  std::unique_ptr<SamplerChain> rest_;
  grammar::Matcher matcher_;
  grammar::MatchState state_;
  bool armed_ = false;   // apply() has run since reset(): accepted tokens are generated ones
  bool active_ = true;   // the constraint applies (false until the trigger is seen)
  std::string text_;     // generated text before the trigger
  std::vector<Candidate> saved_;
  std::vector<uint8_t> mask_;
};

}  // namespace

std::unique_ptr<Sampler> make_grammar(const GrammarConstraint& g, std::unique_ptr<SamplerChain> rest) {
  if (!g.grammar || !g.vocab) throw UsageError("grammar step: needs a compiled grammar and a vocabulary index");
  return std::make_unique<GrammarStep>(g, std::move(rest));
}

}  // namespace lmgen
