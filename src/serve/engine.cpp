// The batched decoding loop (engine.hpp).
#include "serve/engine.hpp"

#include <algorithm>

#include "lmgen/error.hpp"
#include "run/decode_step.hpp"
#include "serve/prompt_cache.hpp"

namespace lmgen::serve {

// A job in a KV cache slot: its decode step (sampler chain, stop strings, streaming) and where its prompt is.
struct Engine::Seq {
  std::shared_ptr<Job> job;
  int32_t slot = 0;
  int64_t n_fed = 0;     // prompt tokens in the slot's cache so far (reused or evaluated)
  int64_t n_reused = 0;  // prompt tokens the slot held from before
  int32_t next = -1;     // the sampled token to evaluate at the next step (-1 while reading the prompt)
  DecodeStep step;

  Seq(std::shared_ptr<Job> j, int32_t slot_, const Tokenizer& tok)
      : job(std::move(j)), slot(slot_), step(tok, job->params().gen, job->params().prompt) {}
  const JobParams& p() const { return job->params(); }
  bool reading_prompt() const { return n_fed < static_cast<int64_t>(p().prompt.size()); }
};

Engine::Engine(Model& model, const Tokenizer& tok, EngineOptions opt)
    : model_(model), tok_(tok), opt_(std::move(opt)), slots_(static_cast<size_t>(model.n_seq())),
      cache_(std::make_unique<PromptCache>(slots_.size())) {
  thread_ = std::thread([this] { loop(); });
}

Engine::~Engine() { stop(); }

void Engine::submit(std::shared_ptr<Job> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) throw Busy("the server is shutting down");
    if (queue_.size() >= opt_.max_queue) throw Busy("the server is busy: too many requests are waiting");
    queue_.push_back(std::move(job));
  }
  cv_.notify_all();
}

void Engine::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Engine::Stats Engine::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s = stats_;
  s.queued = queue_.size();
  s.slots = slots_.size();
  return s;
}

std::vector<Engine::SlotInfo> Engine::slots() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<SlotInfo> out;
  for (size_t i = 0; i < slots_.size(); ++i)
    out.push_back(SlotInfo{static_cast<int32_t>(i), slots_[i] != nullptr, cache_->tokens(static_cast<int32_t>(i))});
  return out;
}

void Engine::loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto busy = [&] {
        return std::any_of(slots_.begin(), slots_.end(), [](const auto& s) { return s != nullptr; });
      };
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty() || busy(); });
      if (stopping_) {
        for (auto& j : queue_) j->mark_finished(StopReason::Interrupted, 0);
        queue_.clear();
        lock.unlock();
        for (auto& s : slots_)
          if (s) end(*s, StopReason::Interrupted);
        return;
      }
    }
    admit();
    retire_cancelled();
    try {
      step();
    } catch (const std::exception&) {
      // A failed pass (out of memory, a broken model) fails the jobs in it, not the server; what their slots hold
      // is no longer known.
      for (auto& s : slots_)
        if (s) {
          forget(s->slot);
          end(*s, StopReason::Interrupted);
        }
    }
  }
}

void Engine::admit() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<bool> idle(slots_.size());
  for (;;) {
    for (size_t i = 0; i < slots_.size(); ++i) idle[i] = slots_[i] == nullptr;
    if (queue_.empty() || std::none_of(idle.begin(), idle.end(), [](bool b) { return b; })) return;
    std::shared_ptr<Job> job = std::move(queue_.front());
    queue_.pop_front();
    if (job->cancelled()) {
      job->mark_finished(StopReason::Interrupted, 0);
      continue;
    }
    const JobParams& p = job->params();
    // Prompt log-probs need every prompt row's logits: that request evaluates its whole prompt.
    const PromptCache::Choice c = cache_->choose(p.prompt, idle, p.cache_prompt && !p.prompt_logprobs);
    auto s = std::make_unique<Seq>(std::move(job), c.slot, tok_);
    start_in_slot(*s, c.n_shared);
    slots_[static_cast<size_t>(c.slot)] = std::move(s);
    ++stats_.running;
  }
}

// Keeps the first n_shared tokens the slot holds (but the prompt's last, whose logits are needed) and leaves the
// rest of the prompt to evaluate. Called with mu_ held.
void Engine::start_in_slot(Seq& s, int64_t n_shared) {
  const int64_t n_prompt = static_cast<int64_t>(s.p().prompt.size());
  int64_t keep = std::min(n_shared, n_prompt - 1);
  if (keep > 0 && !model_.can_truncate(s.slot, keep)) keep = 0;  // a sliding window that cannot rewind so far
  if (keep == 0) model_.reset(s.slot); else model_.truncate(s.slot, keep);
  cache_->keep(s.slot, static_cast<size_t>(keep));
  cache_->touch(s.slot);
  s.n_fed = s.n_reused = keep;
  s.job->started(keep);
  stats_.prompt_reused += keep;
  if (s.p().prompt_logprobs) s.job->push(prompt_event(s.p().prompt[0]));  // no prediction for the first
}

void Engine::retire_cancelled() {
  const Clock::time_point now = Clock::now();
  for (auto& s : slots_) {
    if (!s) continue;
    if (s->job->cancelled()) end(*s, StopReason::Interrupted);
    else if (now >= s->p().deadline) end(*s, StopReason::Length);  // time is up: it ends as if at max_tokens
  }
}

void Engine::step() {
  // Generating sequences first (one token each), then prompt chunks from what is left of the budget, oldest slot
  // first: a long prompt advances a chunk per step while the others keep decoding.
  std::vector<SeqChunk> chunks;
  std::vector<Seq*> owners;
  int64_t budget = model_.n_batch();
  for (auto& s : slots_)
    if (s && !s->reading_prompt()) {
      chunks.push_back(SeqChunk{s->slot, std::span<const int32_t>(&s->next, 1), false});
      owners.push_back(s.get());
      --budget;
    }
  for (auto& s : slots_) {
    if (!s || !s->reading_prompt() || budget <= 0) continue;
    const auto& prompt = s->p().prompt;
    const int64_t len = std::min<int64_t>(budget, static_cast<int64_t>(prompt.size()) - s->n_fed);
    chunks.push_back(SeqChunk{s->slot, std::span<const int32_t>(prompt).subspan(static_cast<size_t>(s->n_fed),
                                                                                   static_cast<size_t>(len)),
                              s->p().prompt_logprobs});
    owners.push_back(s.get());
    budget -= len;
  }
  if (chunks.empty()) return;
  const auto t0 = Clock::now();
  model_.eval_batch(chunks, logits_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.steps;
    stats_.rows += model_.n_batch() - budget;
    stats_.busy_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
    for (size_t i = 0; i < chunks.size(); ++i) {
      cache_->append(chunks[i].slot, chunks[i].tokens);
      if (owners[i]->reading_prompt()) stats_.prompt_evaluated += static_cast<int64_t>(chunks[i].tokens.size());
    }
  }
  const int64_t V = model_.n_vocab();
  const float* row = logits_.data();
  for (size_t i = 0; i < chunks.size(); ++i) {
    Seq& s = *owners[i];
    const int64_t len = static_cast<int64_t>(chunks[i].tokens.size());
    const int64_t n_rows = chunks[i].all_logits ? len : 1;
    if (s.reading_prompt()) {
      const int64_t start = s.n_fed;
      s.n_fed += len;
      after_prompt_chunk(s, row, start, len);
    } else {
      sample_next(s, row);
    }
    row += n_rows * V;
  }
}

void Engine::forget(int32_t slot) {
  std::lock_guard<std::mutex> lock(mu_);
  model_.reset(slot);
  cache_->keep(slot, 0);
}

TokenEvent Engine::prompt_event(int32_t id) const {
  TokenEvent ev;
  ev.kind = TokenEvent::Prompt;
  ev.id = id;
  ev.piece = ev.text = tok_.token_to_piece(id);  // echoed: the piece is the text
  return ev;
}

// Reports the log-probs of the prompt tokens this chunk predicts; once the whole prompt is in, the first token is
// sampled from the last row (or the job ends, for max_tokens 0).
void Engine::after_prompt_chunk(Seq& s, const float* rows, int64_t start, int64_t len) {
  const JobParams& p = s.p();
  const int64_t V = model_.n_vocab(), n_prompt = static_cast<int64_t>(p.prompt.size());
  if (p.prompt_logprobs)
    for (int64_t i = 0; i < len && start + i + 1 < n_prompt; ++i) {
      const std::span<const float> r(rows + i * V, static_cast<size_t>(V));
      TokenEvent ev = prompt_event(p.prompt[static_cast<size_t>(start + i + 1)]);
      ev.has_logprob = true;
      ev.logprob = token_logprob(r, ev.id);
      if (p.gen.n_probs > 0) ev.top = top_logprobs(r, p.gen.n_probs);
      s.job->push(std::move(ev));
    }
  if (s.reading_prompt()) return;
  if (s.step.done()) return end(s, StopReason::Length);  // max_tokens 0
  const float* last = p.prompt_logprobs ? rows + (len - 1) * V : rows;
  sample_next(s, last);
}

void Engine::sample_next(Seq& s, const float* row) {
  TokenEvent ev = s.step.next(std::span<const float>(row, static_cast<size_t>(model_.n_vocab())));
  const int32_t id = ev.id;
  s.job->push(std::move(ev));
  if (!s.step.continues(model_.n_past(s.slot), model_.n_ctx())) return end(s, s.step.reason());
  s.next = id;
}

// Releases what the output buffer still holds (not for a cancelled job: nobody reads it), finishes the job, frees
// the slot.
void Engine::end(Seq& s, StopReason r) {
  s.step.stop(r);  // no-op when the step itself ended the sequence
  if (s.step.reason() != StopReason::Interrupted) {
    TokenEvent tail = s.step.finish();
    if (!tail.text.empty()) s.job->push(std::move(tail));
  }
  {
    // No longer running before the client can learn that it finished: a /health read right after the last reply
    // must not still count it (admission looks at the slots, which this thread frees below).
    std::lock_guard<std::mutex> lock(mu_);
    --stats_.running;
    ++stats_.requests;
    stats_.generated += s.step.n_generated();
    cache_->touch(s.slot);  // the slot keeps its tokens for the next request that shares them
  }
  if (opt_.on_done)
    opt_.on_done(RequestDone{s.slot, static_cast<int64_t>(s.p().prompt.size()), s.n_reused, s.step.n_generated(),
                             s.step.reason()});
  s.job->mark_finished(s.step.reason(), s.step.n_generated());
  const size_t slot = static_cast<size_t>(s.slot);
  std::lock_guard<std::mutex> lock(mu_);
  slots_[slot].reset();  // destroys s
}

}  // namespace lmgen::serve
