// SFT examples and their masked cross-entropy (see sft.hpp).
#include "run/sft.hpp"

#include <algorithm>
#include <span>

#include "lmgen/error.hpp"
#include "lmgen/scorer.hpp"

namespace lmgen {

namespace {

std::string string_field(const nlohmann::ordered_json& line, const char* key) {
  const auto& v = line.at(key);
  if (!v.is_string())
    throw UsageError(std::string("\"") + key + "\" must be a string, got " + v.dump() +
                     (v.is_array() ? " (conversational prompt-completion is not supported: write {\"messages\": [...]})"
                                   : ""));
  return v.get<std::string>();
}

bool starts_with(const std::vector<int32_t>& seq, const std::vector<int32_t>& prefix) {
  return prefix.size() <= seq.size() && std::equal(prefix.begin(), prefix.end(), seq.begin());
}

SftExample from_messages(const nlohmann::ordered_json& line, const Tokenizer& tok, const SftRender& render) {
  const auto& msgs = line.at("messages");
  if (!msgs.is_array()) throw UsageError("\"messages\" must be an array of messages");
  const EncodeOptions chat_enc{.add_special = false, .parse_special = true};
  auto tokens_of = [&](size_t n, bool agp) {
    nlohmann::ordered_json conv = {{"messages", nlohmann::ordered_json::array()}};
    for (size_t i = 0; i < n; ++i) conv["messages"].push_back(msgs[i]);
    if (line.contains("tools")) conv["tools"] = line["tools"];
    return tok.encode(render(conv, agp), chat_enc);
  };
  size_t last = msgs.size();
  for (size_t k = 0; k < msgs.size(); ++k) {
    if (!msgs[k].is_object()) throw UsageError("every message must be a JSON object");
    if (msgs[k].value("role", "") == "assistant") last = k;
  }
  if (last == msgs.size()) throw UsageError("\"messages\" has no assistant message: nothing to score");
  SftExample ex;
  ex.format = "messages";
  ex.tokens = tokens_of(last + 1, false);
  ex.scored.assign(ex.tokens.size(), 0);
  for (size_t k = 0; k <= last; ++k) {
    if (msgs[k].value("role", "") != "assistant") continue;
    const std::vector<int32_t> before = tokens_of(k, true), upto = k == last ? ex.tokens : tokens_of(k + 1, false);
    if (!starts_with(upto, before) || !starts_with(ex.tokens, upto))
      throw Error("the chat template renders the turns before assistant message " + std::to_string(k) +
                  " differently once it follows (e.g. it drops earlier reasoning): score one example per assistant "
                  "turn instead");
    for (size_t p = std::max<size_t>(before.size(), 1); p < upto.size(); ++p) ex.scored[p] = 1;
  }
  return ex;
}

}  // namespace

SftExample sft_example(const nlohmann::ordered_json& line, const Tokenizer& tok, const SftRender& render) {
  if (!line.is_object()) throw UsageError("an SFT line must be a JSON object");
  const bool pc = line.contains("prompt") || line.contains("completion"), m = line.contains("messages"),
             t = line.contains("text");
  if (pc + m + t != 1)
    throw UsageError(pc + m + t == 0 ? "the line has none of \"prompt\"/\"completion\", \"messages\", \"text\""
                                     : "the line mixes formats: give \"prompt\"+\"completion\", \"messages\" or \"text\"");
  if (m) return from_messages(line, tok, render);
  SftExample ex;
  const EncodeOptions enc{.add_special = true, .parse_special = true};
  if (t) {
    ex.format = "text";
    ex.tokens = tok.encode(string_field(line, "text"), enc);
    ex.scored.assign(ex.tokens.size(), 1);
    if (!ex.scored.empty()) ex.scored[0] = 0;
    return ex;
  }
  if (!line.contains("prompt") || !line.contains("completion"))
    throw UsageError("a prompt-completion line needs both \"prompt\" and \"completion\"");
  const std::string prompt = string_field(line, "prompt");
  ex.format = "prompt_completion";
  ex.tokens = tok.encode(prompt + string_field(line, "completion"), enc);
  const size_t n_prompt = tok.encode(prompt, enc).size();
  ex.scored.assign(ex.tokens.size(), 0);
  for (size_t p = std::max<size_t>(n_prompt, 1); p < ex.tokens.size(); ++p) ex.scored[p] = 1;
  return ex;
}

SftScore score_sft(Model& model, const SftExample& ex, int64_t n_ctx) {
  SftScore s;
  const int64_t L = std::min<int64_t>(static_cast<int64_t>(ex.tokens.size()), n_ctx);
  s.truncated = L < static_cast<int64_t>(ex.tokens.size());
  bool any = false;
  for (int64_t p = 1; p < L; ++p) any = any || ex.scored[static_cast<size_t>(p)] != 0;
  if (!any) return s;
  ScoreOptions so;
  so.n_ctx = L;
  so.stride = L;  // one window: every position 1..L-1 predicted from all the tokens before it
  score_tokens(model, std::span<const int32_t>(ex.tokens.data(), static_cast<size_t>(L)), so,
               [&](const ScoredToken& t) {
                 if (ex.scored[static_cast<size_t>(t.pos)] != 0) {
                   s.nll_sum -= t.logprob;
                   ++s.tokens_scored;
                 }
                 return true;
               });
  return s;
}

}  // namespace lmgen
