// The HTTP routes of `lmgen serve` over cpp-httplib 0.11 (server.hpp). Completion responses are written by a
// chunked content provider that waits for the job's events: streamed as server-sent events, or as one JSON
// object at the end. The library checks before each provider call that the client can still be written to; when
// it cannot (the client went away), the provider's releaser cancels the job, which frees its slot at the next step.
#include "serve/server.hpp"

#include <httplib.h>

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <mutex>
#include <thread>

#include "lmgen/error.hpp"
#include "serve/metrics.hpp"
#include "serve/reply.hpp"

namespace lmgen::serve {

namespace {

void send_json(httplib::Response& res, int status, const Json& j) {
  res.status = status;
  res.set_content(dump(j), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, status, error_body(status, message));
}

// What a completion response's provider keeps between calls.
struct Pending {
  Request req;
  Reply reply;
  std::shared_ptr<Job> job;
  std::vector<TokenEvent> events;  // not streaming: everything, for the final object
  Pending(Request r, const Tokenizer& tok, std::string id, std::string model)
      : req(std::move(r)), reply(req, tok, std::move(id), std::move(model)) {}
};

}  // namespace

struct Server::Impl {
  Engine* engine = nullptr;  // set, with ctx, by ready(); then `loaded` is true
  ApiContext ctx;
  ServerOptions opt;
  httplib::Server http;
  std::atomic<bool> loaded{false};
  std::atomic<uint64_t> next_id{1};
  std::atomic<int> in_flight{0};
  std::atomic<bool> draining{false};
  std::mutex run_mu;               // run() and stop() agree on whether run() may still start listening
  bool stop_requested = false;
  std::atomic<int> run_state{0};  // 0 before run(), 1 in it, 2 after

  explicit Impl(ServerOptions o) : opt(std::move(o)) {
    const int threads = opt.http_threads > 0 ? opt.http_threads : 32;
    http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
    http.set_payload_max_length(opt.max_body);
    http.set_keep_alive_max_count(1000);
    http.set_keep_alive_timeout(2);
    http.set_read_timeout(30);
    http.set_write_timeout(30);
    // The server owns its port: cpp-httplib's default options set SO_REUSEPORT, under which a second server (another
    // lmgen, or any program listening with SO_REUSEPORT) binds the same port and the kernel splits the connections
    // between them. SO_REUSEADDR alone still allows a restart while old connections sit in TIME_WAIT.
    http.set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      return authorized(req, res) ? httplib::Server::HandlerResponse::Unhandled
                                  : httplib::Server::HandlerResponse::Handled;
    });
    http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // ours already
      const std::string msg = res.status == 404   ? "no route for " + req.method + " " + req.path
                              : res.status == 413 ? "the request body is too large"
                                                  : "bad request";
      send_error(res, res.status, msg);
      return httplib::Server::HandlerResponse::Handled;
    }));
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      std::string msg = "internal error";
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        msg = e.what();
      } catch (...) {
      }
      send_error(res, 500, msg);
    });
    routes();
  }

  bool authorized(const httplib::Request& req, httplib::Response& res) const {
    if (opt.api_key.empty() || req.path == "/health") return true;
    if (req.get_header_value("Authorization") == "Bearer " + opt.api_key) return true;
    send_error(res, 401, "invalid or missing API key (send \"Authorization: Bearer KEY\")");
    return false;
  }

  // Runs a handler body, answering an ApiError (or a Busy engine) in OpenAI's shape; 503 while the model loads.
  template <typename F>
  void guarded(httplib::Response& res, F&& f) {
    try {
      if (!loaded.load()) throw Busy("the model is loading");
      f();
    } catch (const ApiError& e) {
      send_error(res, e.status, e.what());
    } catch (const Busy& e) {
      send_error(res, 503, e.what());
    } catch (const Error& e) {
      send_error(res, 400, e.what());
    }
  }

  void routes() {
    http.Get("/health", [this](const httplib::Request&, httplib::Response& res) { health(res); });
    http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      guarded(res, [&] { res.set_content(prometheus_text(engine->stats()), "text/plain; version=0.0.4"); });
    });
    http.Get("/slots", [this](const httplib::Request& req, httplib::Response& res) {
      guarded(res, [&] { send_json(res, 200, slots_json(req.has_param("content"))); });
    });
    http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
      guarded(res, [&] {
        Json m{{"id", opt.model_name}, {"object", "model"}, {"created", 0}, {"owned_by", "lmgen"}};
        send_json(res, 200, Json{{"object", "list"}, {"data", Json::array({m})}});
      });
    });
    http.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
      guarded(res, [&] { complete(req, res, false); });
    });
    http.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      guarded(res, [&] { complete(req, res, true); });
    });
    http.Post("/tokenize", [this](const httplib::Request& req, httplib::Response& res) {
      guarded(res, [&] { tokenize(req, res); });
    });
    http.Post("/detokenize", [this](const httplib::Request& req, httplib::Response& res) {
      guarded(res, [&] { detokenize(req, res); });
    });
  }

  // 200 {"status": "ok", ...} when a request would be served soon; 503 while the model loads, while shutting down,
  // and when every slot is busy with more than opt.busy_queue requests waiting (a balancer sends elsewhere).
  void health(httplib::Response& res) const {
    if (!loaded.load()) return send_json(res, 503, Json{{"status", "loading"}});
    const Engine::Stats st = engine->stats();
    const bool full = st.running >= st.slots && st.queued > opt.busy_queue;
    const char* status = draining.load() ? "shutting down" : full ? "busy" : "ok";
    send_json(res, draining.load() || full ? 503 : 200,
              Json{{"status", status}, {"running", st.running}, {"queued", st.queued}, {"steps", st.steps},
                   {"rows", st.rows}});
  }

  // [{"id", "state": "idle" | "busy", "n_cached"}] (with ?content: also "content", the text the slot holds).
  Json slots_json(bool with_content) const {
    Json out = Json::array();
    for (const Engine::SlotInfo& s : engine->slots()) {
      Json j{{"id", s.id}, {"state", s.busy ? "busy" : "idle"}, {"n_cached", s.tokens.size()}};
      if (with_content) j["content"] = ctx.tok->decode(s.tokens);
      out.push_back(std::move(j));
    }
    return out;
  }

  void tokenize(const httplib::Request& req, httplib::Response& res) const {
    const Json b = parse_body(req.body);
    if (!b.contains("content") || !b["content"].is_string()) throw ApiError(400, "'content' must be a string");
    EncodeOptions eo{.add_special = false, .parse_special = true};
    auto flag = [&](const char* k, bool& v) {
      if (!b.contains(k)) return;
      if (!b[k].is_boolean()) throw ApiError(400, std::string("'") + k + "' must be true or false");
      v = b[k].get<bool>();
    };
    bool with_pieces = false;
    flag("add_special", eo.add_special);
    flag("parse_special", eo.parse_special);
    flag("with_pieces", with_pieces);
    const std::vector<int32_t> ids = ctx.tok->encode(b["content"].get<std::string>(), eo);
    Json tokens = Json::array();
    for (int32_t id : ids)
      tokens.push_back(with_pieces ? Json{{"id", id}, {"piece", ctx.tok->token_to_piece(id)}} : Json(id));
    res.status = 200;
    res.set_content(dump(Json{{"tokens", tokens}}), "application/json");
  }

  void detokenize(const httplib::Request& req, httplib::Response& res) const {
    const Json b = parse_body(req.body);
    if (!b.contains("tokens") || !b["tokens"].is_array()) throw ApiError(400, "'tokens' must be an array of token ids");
    std::vector<int32_t> ids;
    for (const Json& t : b["tokens"]) {
      if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= ctx.tok->n_vocab())
        throw ApiError(400, "'tokens' must hold token ids of the vocabulary, got " + t.dump());
      ids.push_back(t.get<int32_t>());
    }
    res.status = 200;
    res.set_content(dump(Json{{"content", ctx.tok->decode(ids)}}), "application/json");
  }

  void complete(const httplib::Request& req, httplib::Response& res, bool chat) {
    if (draining.load()) throw Busy("the server is shutting down");
    const Json body = parse_body(req.body);
    Request r = chat ? parse_chat(body, ctx) : parse_completion(body, ctx);
    r.job.deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opt.timeout_s));
    const std::string id = (chat ? "chatcmpl-" : "cmpl-") + std::to_string(next_id.fetch_add(1));
    auto p = std::make_shared<Pending>(std::move(r), *ctx.tok, id, opt.model_name);
    p->job = std::make_shared<Job>(p->req.job);
    engine->submit(p->job);  // Busy: 503
    ++in_flight;
    const bool stream = p->req.stream;
    auto provider = [p, stream](size_t, httplib::DataSink& sink) {
      std::vector<TokenEvent> evs;
      const bool done = p->job->wait(evs, std::chrono::milliseconds(100));
      if (stream) {
        const std::string s = p->reply.stream_events(evs);
        if (!s.empty() && !sink.write(s.data(), s.size())) return false;
      } else {
        for (TokenEvent& e : evs) p->events.push_back(std::move(e));
      }
      if (!done) return true;
      const std::string s = stream ? p->reply.stream_end(p->job->result()) : p->reply.full(p->events, p->job->result());
      if (!sink.write(s.data(), s.size())) return false;
      sink.done();
      return true;
    };
    auto release = [this, p](bool) {
      p->job->cancel();  // a no-op when it has finished; otherwise the client is gone
      --in_flight;
    };
    res.status = 200;
    if (stream) res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(stream ? "text/event-stream" : "application/json", provider, release);
  }
};

Server::Server(ServerOptions opt) : impl_(std::make_unique<Impl>(std::move(opt))) {}
Server::~Server() = default;

int Server::bind() {
  Impl& m = *impl_;
  if (m.opt.port == 0) {
    const int port = m.http.bind_to_any_port(m.opt.host);
    if (port <= 0) throw Error("cannot listen on " + m.opt.host + " (any port)");
    m.opt.port = port;
  } else if (errno = 0; !m.http.bind_to_port(m.opt.host, m.opt.port)) {
    const std::string where = m.opt.host + ":" + std::to_string(m.opt.port);
    if (errno == EADDRINUSE) throw Error("cannot listen on " + where + ": port " + std::to_string(m.opt.port) +
                                         " is already in use (another server holds it; pick another --port)");
    throw Error("cannot listen on " + where + " (in use, or not an address)");
  }
  return m.opt.port;
}

void Server::run() {
  {
    std::lock_guard<std::mutex> lock(impl_->run_mu);
    if (impl_->stop_requested) return;
    impl_->run_state.store(1);
  }
  impl_->http.listen_after_bind();
  impl_->run_state.store(2);
}

void Server::ready(Engine& engine, ApiContext ctx) {
  impl_->engine = &engine;
  impl_->ctx = std::move(ctx);
  impl_->loaded.store(true);  // publishes engine and ctx to the HTTP threads
}

void Server::drain() { impl_->draining.store(true); }

bool Server::wait_idle(double seconds) {
  const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (impl_->in_flight.load() > 0 && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return impl_->in_flight.load() == 0;
}

void Server::stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->run_mu);
    impl_->stop_requested = true;
  }
  // A stop before run() has started listening would be lost (the model failed to load at once): wait for it.
  while (impl_->run_state.load() == 1 && !impl_->http.is_running())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  impl_->http.stop();
}

}  // namespace lmgen::serve
