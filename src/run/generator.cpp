#include "lmgen/generator.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "lmgen/error.hpp"

namespace lmgen {

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Length of the longest prefix of `s` that ends on a UTF-8 character boundary (an incomplete trailing sequence
// is held back; invalid bytes are passed through so output never stalls).
size_t complete_utf8_prefix(const std::string& s) {
  const size_t n = s.size();
  // Look at most 3 bytes back for the start of a multi-byte sequence.
  for (size_t back = 1; back <= std::min<size_t>(3, n); ++back) {
    const unsigned char b = static_cast<unsigned char>(s[n - back]);
    if ((b & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead byte
    size_t len = (b & 0x80) == 0 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
    return back < len ? n - back : n;
  }
  return n;
}

// Output buffer that releases text only when it is complete UTF-8 and cannot be the start of a stop string.
class OutputBuffer {
 public:
  explicit OutputBuffer(const std::vector<std::string>& stops) : stops_(stops) {}
  // Adds bytes; returns the text released now. Sets `stopped` when a stop string was found (the stop string and
  // anything after it are discarded).
  std::string push(const std::string& bytes, bool& stopped) {
    pending_ += bytes;
    stopped = false;
    size_t hit = std::string::npos;
    for (const auto& s : stops_) {
      if (s.empty()) continue;
      size_t p = pending_.find(s);
      if (p != std::string::npos) hit = std::min(hit, p);
    }
    if (hit != std::string::npos) {
      stopped = true;
      std::string out = pending_.substr(0, hit);
      pending_.clear();
      return out;
    }
    size_t keep_from = complete_utf8_prefix(pending_);
    // Hold back the longest suffix that is a proper prefix of some stop string.
    for (const auto& s : stops_) {
      for (size_t k = std::min(s.size() - 1, pending_.size()); k > 0; --k) {
        if (pending_.compare(pending_.size() - k, k, s, 0, k) == 0) {
          keep_from = std::min(keep_from, pending_.size() - k);
          break;
        }
      }
    }
    std::string out = pending_.substr(0, keep_from);
    pending_.erase(0, keep_from);
    return out;
  }
  // Releases whatever is left (at the end of generation).
  std::string flush() {
    std::string out;
    out.swap(pending_);
    return out;
  }

 private:
  const std::vector<std::string>& stops_;
  std::string pending_;
};

}  // namespace

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::Eos: return "eos";
    case StopReason::Length: return "length";
    case StopReason::Context: return "context";
    case StopReason::Stop: return "stop";
    case StopReason::Interrupted: return "interrupted";
  }
  return "?";
}

void Generator::reset() {
  model_.reset();
  context_.clear();
}

int64_t Generator::sync_context(std::span<const int32_t> tokens, std::vector<float>& logits) {
  // The cache must be what context_ says (someone else may have used the model since): otherwise start over.
  if (model_.n_past() != static_cast<int64_t>(context_.size())) reset();
  size_t keep = 0;
  while (keep < context_.size() && keep < tokens.size() && context_[keep] == tokens[keep]) ++keep;
  if (keep == tokens.size()) --keep;  // the last token is evaluated again: its logits are needed
  if (!model_.can_truncate(static_cast<int64_t>(keep))) keep = 0;  // a sliding window that cannot rewind so far
  if (keep == 0) model_.reset(); else model_.truncate(static_cast<int64_t>(keep));
  context_.resize(keep);
  model_.eval(tokens.subspan(keep), logits);
  context_.insert(context_.end(), tokens.begin() + static_cast<std::ptrdiff_t>(keep), tokens.end());
  return static_cast<int64_t>(keep);
}

GenerateResult Generator::generate(std::string_view prompt, const GenerateOptions& opt, const TokenCallback& on_token,
                                   const TraceHook& trace) {
  std::vector<int32_t> ids = tok_.encode(prompt, opt.encode);
  if (ids.empty()) {
    if (tok_.bos_id() < 0) {
      if (prompt.empty()) throw UsageError("the prompt is empty and the model has no BOS token to start from");
      throw Error("the prompt encodes to no tokens and the model has no BOS token to start from");
    }
    ids.push_back(tok_.bos_id());
  }
  reset();
  return continue_from(ids, opt, on_token, trace);
}

GenerateResult Generator::continue_from(std::span<const int32_t> prompt_tokens, const GenerateOptions& opt,
                                        const TokenCallback& on_token, const TraceHook& trace) {
  GenerateResult res;
  auto chain = make_sampler_chain(opt.sampling);
  if (prompt_tokens.empty()) throw UsageError("generation needs at least one prompt token");
  res.prompt_tokens.assign(prompt_tokens.begin(), prompt_tokens.end());
  const int64_t n_prompt = static_cast<int64_t>(res.prompt_tokens.size());
  if (n_prompt >= model_.n_ctx())
    throw Error("the prompt has " + std::to_string(n_prompt) + " tokens but the context holds " +
                std::to_string(model_.n_ctx()) + " (use -c to enlarge it, or shorten the prompt)");

  chain->reset();
  for (int32_t t : res.prompt_tokens) chain->accept(t);
  std::vector<float> logits;
  auto t0 = std::chrono::steady_clock::now();
  res.n_reused = sync_context(res.prompt_tokens, logits);
  res.n_evaluated = n_prompt - res.n_reused;
  res.prompt_ms = ms_since(t0);

  OutputBuffer out(opt.stop);
  int32_t prev = res.prompt_tokens.back();
  t0 = std::chrono::steady_clock::now();
  res.stop_reason = StopReason::Length;
  const std::span<const float> row(logits.data(), static_cast<size_t>(model_.n_vocab()));
  for (int32_t i = 0; opt.n_predict < 0 || i < opt.n_predict; ++i) {
    int32_t id;
    if (trace) {
      SampleTrace st;
      id = chain->sample(row, &st, static_cast<size_t>(std::max(opt.trace_top, 1)));
      trace(st);
    } else {
      id = chain->sample(row);
    }
    chain->accept(id);
    res.tokens.push_back(id);

    TokenEvent ev;
    ev.id = id;
    if (opt.n_probs > 0) {
      ev.logprob = static_cast<float>(token_logprob(row, id));
      ev.top = top_logprobs(row, opt.n_probs);
    }
    const bool eog = (tok_.is_eog(id) || std::find(opt.eog_ids.begin(), opt.eog_ids.end(), id) != opt.eog_ids.end()) &&
                     !opt.ignore_eos;
    bool stopped = false;
    if (!eog) {
      ev.piece = tok_.stream_piece(id, prev, opt.render_special);
      ev.text = out.push(ev.piece, stopped);
    }
    prev = id;
    res.text += ev.text;
    const bool keep_going = !on_token || on_token(ev);
    if (eog) { res.stop_reason = StopReason::Eos; break; }
    if (stopped) { res.stop_reason = StopReason::Stop; break; }
    if (!keep_going) { res.stop_reason = StopReason::Interrupted; break; }
    if (opt.n_predict >= 0 && i + 1 >= opt.n_predict) break;
    if (model_.n_past() >= model_.n_ctx()) { res.stop_reason = StopReason::Context; break; }
    model_.eval(std::span<const int32_t>(&id, 1), logits);
    context_.push_back(id);
  }
  res.generate_ms = ms_since(t0);
  if (res.stop_reason != StopReason::Stop) {
    TokenEvent tail;
    tail.text = out.flush();
    if (!tail.text.empty()) {
      res.text += tail.text;
      if (on_token) on_token(tail);  // id -1: text released at the end (an incomplete character or held-back prefix)
    }
  }
  return res;
}

}  // namespace lmgen
