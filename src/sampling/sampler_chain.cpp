// make_sampler_chain: validate SamplingOptions and build the chain of steps in the requested order.
#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>

#include "lmgen/error.hpp"
#include "lmgen/sampler.hpp"
#include "sampling/sampler_internal.hpp"

namespace lmgen {

using sampler_detail::num;

namespace {

constexpr std::array<std::string_view, 6> kStepNames = {"penalties", "logit_bias", "top_k",
                                                        "top_p",     "min_p",      "temperature"};

std::string valid_names() {
  std::string s;
  for (std::string_view n : kStepNames) s += (s.empty() ? "" : ", ") + std::string(n);
  return s;
}

// "penalties, top-k,top_p" -> {"penalties", "top_k", "top_p"}; '-' is accepted for '_'. Empty string -> {}.
std::vector<std::string> parse_order(const std::string& order) {
  std::vector<std::string> out;
  if (order.find_first_not_of(" \t") == std::string::npos) return out;
  size_t start = 0;
  while (start <= order.size()) {
    const size_t comma = std::min(order.find(',', start), order.size());
    std::string name = order.substr(start, comma - start);
    name.erase(0, name.find_first_not_of(" \t"));
    name.erase(name.find_last_not_of(" \t") + 1);
    std::replace(name.begin(), name.end(), '-', '_');
    if (std::find(kStepNames.begin(), kStepNames.end(), name) == kStepNames.end())
      throw UsageError("sampler order: unknown step '" + name + "' in '" + order + "' (valid: " + valid_names() +
                       ")");
    if (std::find(out.begin(), out.end(), name) != out.end())
      throw UsageError("sampler order: step '" + name + "' appears twice in '" + order + "'");
    out.push_back(name);
    start = comma + 1;
  }
  return out;
}

bool penalties_neutral(const SamplingOptions& o) {
  return o.penalty_last_n == 0 ||
         (o.repeat_penalty == 1.0f && o.frequency_penalty == 0.0f && o.presence_penalty == 0.0f);
}

}  // namespace

void validate_sampling_options(const SamplingOptions& o) {
  if (!(o.temperature >= 0.0f) || std::isinf(o.temperature))
    throw UsageError("temperature must be a finite number >= 0 (0 = greedy), got " + num(o.temperature));
  // The step factories check the other ranges with the same messages.
  make_top_k(o.top_k);
  make_top_p(o.top_p);
  make_min_p(o.min_p);
  make_penalties(o.penalty_last_n, o.repeat_penalty, o.frequency_penalty, o.presence_penalty);
  make_logit_bias(o.logit_bias);
  parse_order(o.order);
}

std::unique_ptr<SamplerChain> make_sampler_chain(const SamplingOptions& o) {
  validate_sampling_options(o);
  const bool greedy = o.temperature <= 0.0f;
  const std::vector<std::string> order = parse_order(o.order);
  // With a grammar, the steps after the later of penalties and logit_bias go inside the grammar step.
  size_t split = order.size();
  if (o.grammar.grammar) {
    split = 0;
    for (size_t i = 0; i < order.size(); ++i)
      if (order[i] == "penalties" || order[i] == "logit_bias") split = i + 1;
  }
  auto chain = std::make_unique<SamplerChain>();
  auto tail = std::make_unique<SamplerChain>();
  for (size_t i = 0; i < order.size(); ++i) {
    const std::string& name = order[i];
    SamplerChain& to = i < split ? *chain : *tail;
    if (name == "penalties") {
      if (!penalties_neutral(o))
        to.add(make_penalties(o.penalty_last_n, o.repeat_penalty, o.frequency_penalty, o.presence_penalty));
    } else if (name == "logit_bias") {
      if (!o.logit_bias.empty()) to.add(make_logit_bias(o.logit_bias));
    } else if (greedy) {
      continue;  // truncation and temperature never change the argmax
    } else if (name == "top_k") {
      if (o.top_k > 0) to.add(make_top_k(o.top_k));
    } else if (name == "top_p") {
      if (o.top_p < 1.0f) to.add(make_top_p(o.top_p));
    } else if (name == "min_p") {
      if (o.min_p > 0.0f) to.add(make_min_p(o.min_p));
    } else if (name == "temperature") {
      if (o.temperature != 1.0f) to.add(make_temperature(o.temperature));
    }
  }
  auto draw = greedy ? make_greedy() : make_dist(o.seed);
  if (o.grammar.grammar) {
    tail->add(std::move(draw));
    chain->add(make_grammar(o.grammar, std::move(tail)));
  } else {
    chain->add(std::move(draw));
  }
  return chain;
}

}  // namespace lmgen
