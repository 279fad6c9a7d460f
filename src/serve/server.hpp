// Server — `lmgen serve`'s HTTP side: the OpenAI-compatible routes over one Engine. Binds, then serves on the
// calling thread until stop(). The HTTP library (cpp-httplib) stays inside server.cpp.
//   GET  /health                 {"status": "ok", "running", "queued", "steps", "rows"}; 503 while the model loads,
//                                when every slot is busy with a queue over --busy-queue, and when shutting down
//   GET  /metrics                Prometheus text: requests, prompt tokens evaluated / reused, tokens, queue, slots
//   GET  /slots                  each slot's state and cached length (?content: and the text it holds)
//   GET  /v1/models              the one model
//   POST /v1/completions         text completion; echo + logprobs + max_tokens 0 gives the prompt's log-probs
//   POST /v1/chat/completions    messages through the model's chat template
//   POST /tokenize, /detokenize  {"content"} <-> {"tokens"}
// Errors are {"error": {"message", "type", "code"}} with 400 / 401 / 404 / 413 / 503.
#pragma once

#include <memory>
#include <string>

#include "serve/api.hpp"
#include "serve/engine.hpp"

namespace lmgen::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                    // 0: any free port (bind() says which)
  std::string api_key;                // non-empty: "Authorization: Bearer KEY" required (401 otherwise)
  std::string model_name;             // the id /v1/models reports
  size_t max_body = 8 << 20;          // request bodies beyond this many bytes: 413
  double timeout_s = 600;             // a request generating longer than this ends (finish_reason "length")
  int http_threads = 0;               // 0: enough for the parallel sequences and waiting clients
  size_t busy_queue = 0;              // /health is 503 when every slot is busy and more than this many wait
};

class Server {
 public:
  // Serves /health (503 "loading") until ready().
  explicit Server(ServerOptions opt);
  ~Server();

  // The model is loaded: `ctx` describes it for request parsing (its tokenizer, template and limits); `engine` runs
  // the jobs. Call once, before or while run() serves.
  void ready(Engine& engine, ApiContext ctx);

  // Binds the listening socket; returns the port. Throws Error when it cannot.
  int bind();
  // Serves until stop() (call bind() first).
  void run();
  // Shutting down: new completion requests get 503 from now on.
  void drain();
  // Waits up to `seconds` for the completion responses in flight to end; true if none is left.
  bool wait_idle(double seconds);
  // Stops the HTTP server (run() returns). Thread-safe.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lmgen::serve
