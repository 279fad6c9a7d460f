// `lmgen serve`: an OpenAI-compatible HTTP server over one model (src/serve/). Loads the model with one KV cache
// slot per --parallel sequence, binds (loopback by default; --port 0 picks a free port), prints one line with the
// URL on stderr, and serves until SIGINT / SIGTERM: then new requests get 503, requests in flight get a few
// seconds to finish (then are cut short), and the command exits 0.
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>

#include "cli/chat_args.hpp"
#include "cli/cli.hpp"
#include "lmgen/error.hpp"
#include "serve/server.hpp"

namespace lmgen::cli {

namespace {

struct ServeArgs {
  ModelArgs model;
  ChatArgs chat;
  serve::ServerOptions server;
  int32_t parallel = 4;
  int32_t max_tokens = 0;     // 0: the context
  size_t max_queue = 256;
  double grace_s = 3;
  SamplingOptions sampling;   // defaults a request overrides
};

std::string model_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  return name.empty() ? "lmgen" : name;
}

// -v: one line per request on stderr as it ends.
void log_request(const serve::RequestDone& d) {
  std::fprintf(stderr, "lmgen: slot %d: prompt %lld tokens (%lld evaluated, %lld reused), %lld generated (%s)\n",
               d.slot, static_cast<long long>(d.n_prompt), static_cast<long long>(d.n_prompt - d.n_reused),
               static_cast<long long>(d.n_reused), static_cast<long long>(d.n_generated), stop_reason_name(d.reason));
}

serve::ApiContext api_context(const ServeArgs& a, const LoadedModel& lm, const Model& model,
                              const chat::ChatTemplate* tmpl, std::mutex& render_mu) {
  serve::ApiContext api;
  api.tok = lm.tokenizer.get();
  api.tmpl = tmpl;
  api.render_mu = &render_mu;
  api.special_tokens = lm.special_tokens;
  api.chat_kwargs = chat_kwargs(a.chat);
  if (tmpl) api.reply_format = reply::detect_format(tmpl->source());
  api.reasoning_format = reply::reasoning_format_from(a.chat.reasoning_format);
  api.eog_ids = lm.eog_ids;
  api.vocab = index_vocabulary(*lm.tokenizer, lm.eog_ids);  // for requests with a grammar or a JSON schema
  api.sampling = a.sampling;
  validate_sampling_options(api.sampling);
  api.n_ctx = model.n_ctx();
  api.max_tokens_limit = static_cast<int32_t>(a.max_tokens > 0 ? std::min<int64_t>(a.max_tokens, model.n_ctx())
                                                               : model.n_ctx());
  return api;
}

// Listens first (GET /health answers 503 "loading" meanwhile), then loads the model and serves.
int run_serve(ServeArgs& a, Context& ctx) {
  if (a.parallel < 1 || a.parallel > 256) throw UsageError("--parallel must be 1 .. 256");
  (void)chat_kwargs(a.chat);  // a malformed --chat-template-kwargs is a usage error before anything starts
  if (a.server.model_name.empty()) a.server.model_name = model_name(resolve_model_path(a.model.model));
  if (a.server.busy_queue == SIZE_MAX) a.server.busy_queue = static_cast<size_t>(a.parallel);
  serve::Server server(a.server);
  const int port = server.bind();
  std::thread http([&] { server.run(); });
  struct StopHttp {  // on every way out, the HTTP thread ends
    serve::Server& s;
    std::thread& t;
    ~StopHttp() {
      s.stop();
      if (t.joinable()) t.join();
    }
  } stop_http{server, http};
  if (a.model.verbose > 0 && !a.model.quiet)
    std::fprintf(stderr, "lmgen: listening on %s:%d, loading the model\n", a.server.host.c_str(), port);

  LoadedModel lm = load(a.model);
  ModelOptions mo = model_options(a.model);
  mo.n_seq = a.parallel;
  mo.n_batch = std::max<int64_t>(mo.n_batch, a.parallel);  // every generating sequence fits one step
  Model model(lm.model, mo);
  std::optional<chat::ChatTemplate> tmpl;
  if (!a.chat.template_file.empty() || !lm.chat_templates.empty()) tmpl.emplace(chat_template_for(a.chat, &lm));
  std::mutex render_mu;
  serve::EngineOptions eo{a.max_queue, {}};
  if (a.model.verbose > 0 && !a.model.quiet) eo.on_done = log_request;
  serve::Engine engine(model, *lm.tokenizer, eo);
  server.ready(engine, api_context(a, lm, model, tmpl ? &*tmpl : nullptr, render_mu));
  if (!a.model.quiet)
    std::fprintf(stderr, "lmgen: serving %s at http://%s:%d (%d parallel, context %lld)\n",
                 a.server.model_name.c_str(), a.server.host.c_str(), port, a.parallel,
                 static_cast<long long>(model.n_ctx()));
  std::fflush(stderr);
  while (!ctx.interrupted->load()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // Shutdown: refuse new requests, let those in flight finish for a moment, cut the rest short, stop listening.
  ctx.signal_is_normal_end = true;
  server.drain();
  server.wait_idle(a.grace_s);
  engine.stop();
  server.wait_idle(2.0);
  server.stop();
  http.join();
  if (!a.model.quiet) std::fprintf(stderr, "lmgen: server stopped\n");
  return 0;
}

}  // namespace

std::vector<Command> setup_serve(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<ServeArgs>();
  a->sampling.seed = 0;
  a->server.busy_queue = SIZE_MAX;  // not given: --parallel
  CLI::App* sub = app.add_subcommand("serve", "An OpenAI-compatible HTTP server with batched decoding across clients");
  sub->footer(
      "Endpoints: GET /health, GET /metrics, GET /slots, GET /v1/models, POST /v1/completions,\n"
      "POST /v1/chat/completions (both with \"stream\": true as server-sent events), POST /tokenize,\n"
      "POST /detokenize. See docs/server.md.\n"
      "A slot keeps its KV cache after a request: a later prompt that starts with what a slot holds (a conversation\n"
      "sent again with one more turn) evaluates only its new tokens (\"cache_prompt\": false turns this off).\n"
      "Up to --parallel requests decode together, one forward pass per step; each has its own KV cache slot of -c\n"
      "positions. A request's greedy output does not depend on what else is running.\n"
      "SIGINT / SIGTERM: new requests get 503, those in flight get --grace seconds, then the server exits 0.\n\n"
      "Examples:\n"
      "  lmgen serve -m model.gguf --port 8080 --parallel 8\n"
      "  curl -s localhost:8080/v1/completions -d '{\"prompt\": \"Once upon a time\", \"max_tokens\": 32}'");
  add_model_options(*sub, a->model, true);
  add_chat_options(*sub, a->chat);
  add_reasoning_option(*sub, a->chat);
  auto& o = a->server;
  sub->add_option("--host", o.host, "Address to listen on (default loopback)")->capture_default_str()->group("Server");
  sub->add_option("--port", o.port, "Port (0: any free port; the ready line says which)")
      ->capture_default_str()->check(CLI::Range(0, 65535))->group("Server");
  sub->add_option("--parallel", a->parallel, "Requests decoded together (KV cache slots)")
      ->capture_default_str()->check(count_check(1))->group("Server");
  sub->add_option("--api-key", o.api_key, "Require \"Authorization: Bearer KEY\" (401 otherwise)")->group("Server");
  sub->add_option("--alias", o.model_name, "Model id reported by /v1/models (default: the file name)")->group("Server");
  sub->add_option("--max-tokens", a->max_tokens, "Most tokens a request may ask for (0: the context)")
      ->capture_default_str()->check(count_check(0))->group("Server");
  sub->add_option("--max-body", o.max_body, "Largest request body in bytes (413 beyond)")
      ->capture_default_str()->check(uint64_check())->group("Server");
  sub->add_option("--timeout", o.timeout_s, "Seconds a request may generate (then it ends, finish_reason \"length\")")
      ->capture_default_str()->check(CLI::PositiveNumber)->group("Server");
  sub->add_option("--max-queue", a->max_queue, "Requests that may wait for a slot (503 beyond)")
      ->capture_default_str()->check(uint64_check())->group("Server");
  sub->add_option("--grace", a->grace_s, "Seconds requests in flight get to finish on SIGTERM")
      ->capture_default_str()->check(CLI::NonNegativeNumber)->group("Server");
  sub->add_option("--http-threads", o.http_threads, "HTTP worker threads (0: 32)")->capture_default_str()->group("Server");
  sub->add_option("--busy-queue", o.busy_queue,
                  "GET /health answers 503 when every slot is busy and more than this many requests wait "
                  "(default: --parallel)")
      ->group("Server");
  auto& s = a->sampling;
  sub->add_option("--temp", s.temperature, "Default temperature")->capture_default_str()->group("Decoding defaults");
  sub->add_option("--top-k", s.top_k, "Default top_k")->capture_default_str()->group("Decoding defaults");
  sub->add_option("--top-p", s.top_p, "Default top_p")->capture_default_str()->group("Decoding defaults");
  sub->add_option("--min-p", s.min_p, "Default min_p")->capture_default_str()->group("Decoding defaults");
  sub->add_option("-s,--seed", s.seed, "Default seed")->capture_default_str()->check(uint64_check())
      ->group("Decoding defaults");
  Context* c = &ctx;
  return {Command{sub, [a, c] { return run_serve(*a, *c); }}};
}

// lmgen-serve is the server: nothing to hand off to.
void hand_off_serve(int, char**) {}

}  // namespace lmgen::cli
