// Job — one request's generation as the batched engine runs it, shared between the HTTP thread that waits for it
// and the engine thread that decodes it. The engine appends events (tokens with their text and log-probs) and
// finally marks it finished; the HTTP side takes the events as they come and can cancel it (client gone).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "lmgen/generator.hpp"
#include "lmgen/sampler.hpp"

namespace lmgen::serve {

using Clock = std::chrono::steady_clock;

struct JobParams {
  std::vector<int32_t> prompt;          // prompt tokens (at least one)
  int32_t max_tokens = 16;              // tokens to generate; 0 = evaluate the prompt only
  SamplingOptions sampling;
  std::vector<std::string> stop;        // stop strings (not part of the output)
  std::vector<int32_t> eog_ids;         // end-of-generation ids beyond Tokenizer::is_eog
  bool ignore_eos = false;
  bool logprobs = false;                // report each generated token's log-prob
  int32_t top_logprobs = 0;             // and its n most likely alternatives
  bool prompt_logprobs = false;         // report the prompt tokens' log-probs too (the first has none)
  Clock::time_point deadline = Clock::time_point::max();
};

enum class Finish { Running, Stop, Length, Cancelled };
const char* finish_name(Finish f);  // "stop", "length" (a timeout ends as "length"), "cancelled"

struct TokenOut {
  enum Kind { Prompt, Generated, Tail } kind = Generated;  // Tail: text released at the end (id -1)
  int32_t id = -1;
  std::string text;         // Generated: the bytes released to the output now; Prompt: the token's piece
  bool has_logprob = false;
  double logprob = 0;       // natural log of the token's probability
  std::vector<TopToken> top;
};

class Job {
 public:
  explicit Job(JobParams p) : params_(std::move(p)) {}
  const JobParams& params() const { return params_; }

  void cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

  // HTTP side: waits up to `timeout` for news, moves the new events to the end of `out`; true once the job has
  // finished and every event has been taken.
  bool wait(std::vector<TokenOut>& out, std::chrono::milliseconds timeout);
  Finish finish() const;
  int64_t n_generated() const;

  // Engine side.
  void push(TokenOut ev);
  void mark_finished(Finish f, int64_t n_generated);

 private:
  JobParams params_;
  std::atomic<bool> cancelled_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<TokenOut> events_;
  Finish finish_ = Finish::Running;
  int64_t n_generated_ = 0;
};

}  // namespace lmgen::serve
