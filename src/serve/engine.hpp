// Engine — batched decoding across requests. One thread owns the Model (with one KV cache slot per parallel
// sequence) and runs steps: at each step, every sequence that is generating contributes its last token, and
// sequences still reading their prompt contribute a chunk of it from what is left of the n_batch budget; all of
// them go through one Model::eval_batch pass. Jobs join a free slot and leave it between steps; each token is
// chosen and reported by the job's own DecodeStep (run/decode_step.hpp), as in Generator. A row's logits do not
// depend on the other rows, so a request's greedy output is the same whether it ran alone or beside others.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "lmgen/model.hpp"
#include "lmgen/tokenizer.hpp"
#include "serve/job.hpp"

namespace lmgen::serve {

struct EngineOptions {
  size_t max_queue = 256;  // jobs waiting for a slot beyond this are refused (Busy)
};

// Thrown by Engine::submit when the job cannot be taken (queue full, engine stopping): HTTP 503.
struct Busy : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Engine {
 public:
  // model.n_seq() sequences decode together. Starts the engine thread.
  Engine(Model& model, const Tokenizer& tok, EngineOptions opt = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues a job (params checked by the caller: prompt fits the context, options valid). Throws Busy.
  void submit(std::shared_ptr<Job> job);
  // Refuses new jobs, cancels the queued and running ones, and joins the thread. Idempotent.
  void stop();

  struct Stats {
    int64_t steps = 0, rows = 0;  // forward passes and the rows they carried
    size_t running = 0, queued = 0;
  };
  Stats stats() const;

 private:
  struct Seq;
  void loop();
  void admit();
  void step();
  void retire_cancelled();
  void after_prompt_chunk(Seq& s, const float* rows, int64_t start, int64_t len);
  void sample_next(Seq& s, const float* row);
  TokenEvent prompt_event(int32_t id) const;
  void end(Seq& s, StopReason r);

  Model& model_;
  const Tokenizer& tok_;
  EngineOptions opt_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  bool stopping_ = false;
  std::vector<std::unique_ptr<Seq>> slots_;  // null = free
  Stats stats_;
  std::vector<float> logits_;
  std::thread thread_;
};

}  // namespace lmgen::serve
