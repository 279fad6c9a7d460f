// Job — one request's generation as the batched engine runs it, shared between the HTTP thread that waits for it
// and the engine thread that decodes it. The engine appends events (TokenEvent: tokens with their text and
// log-probs, prompt tokens with theirs, the tail) and finally marks it finished with a StopReason (Interrupted when
// cancelled, Length when its time ran out); the HTTP side takes the events as they come and can cancel it (client
// gone).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "lmgen/generator.hpp"

namespace lmgen::serve {

using Clock = std::chrono::steady_clock;

// A request as the engine runs it: the prompt's tokens and the generation options every loop uses (the request's
// max_tokens is GenerateOptions::n_predict, its logprobs / top_logprobs are logprobs / n_probs).
struct JobParams {
  std::vector<int32_t> prompt;          // prompt tokens (at least one)
  GenerateOptions gen;                  // n_predict >= 0: 0 = evaluate the prompt only
  bool prompt_logprobs = false;         // report the prompt tokens' log-probs too (the first has none)
  bool cache_prompt = true;             // reuse the prefix a KV cache slot holds from earlier requests
  Clock::time_point deadline = Clock::time_point::max();
};

// How a finished job went.
struct JobResult {
  StopReason finish = StopReason::Interrupted;
  int64_t n_generated = 0;
  int64_t n_reused = 0;  // prompt tokens found in the slot's cache (not evaluated again)
};

class Job {
 public:
  explicit Job(JobParams p) : params_(std::move(p)) {}
  const JobParams& params() const { return params_; }

  void cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

  // HTTP side: waits up to `timeout` for news, moves the new events to the end of `out`; true once the job has
  // finished and every event has been taken.
  bool wait(std::vector<TokenEvent>& out, std::chrono::milliseconds timeout);
  JobResult result() const;  // valid once finished

  // Engine side.
  void started(int64_t n_reused);  // placed in a slot holding n_reused of its prompt tokens
  void push(TokenEvent ev);
  void mark_finished(StopReason r, int64_t n_generated);

 private:
  JobParams params_;
  std::atomic<bool> cancelled_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<TokenEvent> events_;
  std::optional<StopReason> finish_;
  JobResult result_;
};

}  // namespace lmgen::serve
