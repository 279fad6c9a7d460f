// `lmgen serve` over raw HTTP on a loopback port: the routes, the OpenAI shapes, equality with the CLI's greedy
// output and with `lmgen score`'s log-probs, errors, and shutdown. The load test is in test_serve_load.cpp.
#include <gtest/gtest.h>

#include <cmath>

#include "lmgen_run.hpp"
#include "serve_client.hpp"

namespace lmgen::test {
namespace {

using nlohmann::json;

std::string qwen() { return shared_path("fixtures/tiny-qwen2/model-q8_0.gguf"); }

void for_each_line_of(const std::string& text, const std::function<void(const nlohmann::json&)>& fn) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) fn(nlohmann::json::parse(line));
}

std::string completion_text(const HttpReply& r) {
  const json j = r.json();
  return j["choices"][0]["text"].get<std::string>();
}

TEST(ServeHttp, HealthModelsTokenizeAndErrorShapes) {
  ServeProcess s({"-m", stories_gguf(), "--parallel", "2"});
  ASSERT_GT(s.port(), 0);
  HttpReply h = http(s.port(), "GET", "/health");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.json()["status"], "ok");
  HttpReply m = http(s.port(), "GET", "/v1/models");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.json()["data"][0]["id"], "stories260K.gguf");

  HttpReply t = post(s.port(), "/tokenize", {{"content", "Once upon a time"}});
  ASSERT_EQ(t.status, 200) << t.body;
  const json ids = t.json()["tokens"];
  ASSERT_GT(ids.size(), 2u);
  HttpReply d = post(s.port(), "/detokenize", {{"tokens", ids}});
  ASSERT_EQ(d.status, 200);
  EXPECT_EQ(d.json()["content"], "Once upon a time");

  auto expect_error = [&](const HttpReply& r, int status, const std::string& mentions) {
    EXPECT_EQ(r.status, status) << r.body;
    const json j = r.json();
    ASSERT_TRUE(j.contains("error")) << r.body;
    EXPECT_EQ(j["error"]["code"], status);
    EXPECT_TRUE(j["error"]["type"].is_string());
    EXPECT_NE(j["error"]["message"].get<std::string>().find(mentions), std::string::npos) << r.body;
  };
  expect_error(http(s.port(), "GET", "/v1/nothing"), 404, "/v1/nothing");
  expect_error(http(s.port(), "POST", "/v1/completions", "{\"prompt\": \"x\", "), 400, "not valid JSON");
  expect_error(http(s.port(), "POST", "/v1/completions", "[1, 2]"), 400, "JSON object");
  expect_error(post(s.port(), "/v1/completions", {{"prompt", "x"}, {"max_tokens", "ten"}}), 400, "max_tokens");
  expect_error(post(s.port(), "/v1/completions", {{"prompt", "x"}, {"temperature", "hot"}}), 400, "temperature");
  expect_error(post(s.port(), "/v1/completions", {{"prompt", "x"}, {"max_tokens", 100000}}), 400, "max_tokens");
  expect_error(post(s.port(), "/v1/completions", {{"prompt", "x"}, {"n", 2}}), 400, "'n'");
  expect_error(post(s.port(), "/v1/completions", {{"prompt", {1, 2, 99999}}}), 400, "outside the vocabulary");
  expect_error(post(s.port(), "/v1/completions", {{"max_tokens", 3}}), 400, "'prompt'");
  expect_error(post(s.port(), "/v1/completions", {{"prompt", "x"}, {"stop", {1}}}), 400, "stop");
  expect_error(post(s.port(), "/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", "x"}}}}}), 400,
               "chat template");  // stories260K has none
  expect_error(post(s.port(), "/detokenize", {{"tokens", {-1}}}), 400, "token ids");
  // The server is still serving after all that.
  EXPECT_EQ(post(s.port(), "/v1/completions", {{"prompt", "Once"}, {"max_tokens", 2}}).status, 200);
}

TEST(ServeHttp, ApiKeyAndBodyLimit) {
  ServeProcess s({"-m", stories_gguf(), "--api-key", "sesame", "--max-body", "2000"});
  ASSERT_GT(s.port(), 0);
  const json req = {{"prompt", "Once"}, {"max_tokens", 2}};
  HttpReply no_key = post(s.port(), "/v1/completions", req);
  EXPECT_EQ(no_key.status, 401);
  EXPECT_EQ(no_key.json()["error"]["type"], "authentication_error");
  EXPECT_EQ(post(s.port(), "/v1/completions", req, {"Authorization: Bearer wrong"}).status, 401);
  EXPECT_EQ(http(s.port(), "GET", "/v1/models").status, 401);
  EXPECT_EQ(post(s.port(), "/v1/completions", req, {"Authorization: Bearer sesame"}).status, 200);
  EXPECT_EQ(http(s.port(), "GET", "/health").status, 200);  // health needs no key
  HttpReply big = post(s.port(), "/v1/completions", {{"prompt", std::string(5000, 'a')}},
                       {"Authorization: Bearer sesame"});
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(big.json()["error"]["code"], 413);
}

// A server owns its port: a second lmgen on it, or one on a port another program holds with SO_REUSEPORT, fails
// at once with one line naming the port (cpp-httplib's default SO_REUSEPORT let both listen, traffic split).
TEST(ServeHttp, SecondServerOnABusyPortFails) {
  ServeProcess first({"-m", stories_gguf()});
  ASSERT_GT(first.port(), 0);
  const std::string port = std::to_string(first.port());
  RunResult second = run_lmgen({"serve", "-m", stories_gguf(), "--host", "127.0.0.1", "--port", port}, 10);
  EXPECT_TRUE(clean_failure(second, 1, "127.0.0.1:" + port)) << second.describe();
  EXPECT_NE(second.err.find("in use"), std::string::npos) << second.err;
  EXPECT_EQ(http(first.port(), "GET", "/health").status, 200);

  // Another program listening with SO_REUSEPORT.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  int yes = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &yes, sizeof yes);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const std::string other = std::to_string(ntohs(a.sin_port));
  RunResult third = run_lmgen({"serve", "-m", stories_gguf(), "--host", "127.0.0.1", "--port", other}, 10);
  ::close(fd);
  EXPECT_TRUE(clean_failure(third, 1, "127.0.0.1:" + other)) << third.describe();
}

TEST(ServeCompletions, GreedyTextEqualsTheCliAndStreamingEqualsWhole) {
  const std::string prompt = "Once upon a time, there was a";
  RunResult cli = run_lmgen({"-m", stories_gguf(), "-p", prompt, "--temp", "0", "-n", "24"});
  ASSERT_EQ(cli.exit_code, 0) << cli.describe();
  ServeProcess s({"-m", stories_gguf()});
  const json req = {{"prompt", prompt}, {"max_tokens", 24}, {"temperature", 0}};
  HttpReply whole = post(s.port(), "/v1/completions", req);
  ASSERT_EQ(whole.status, 200) << whole.body;
  const json j = whole.json();
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_EQ(completion_text(whole), cli.out);  // the CLI prints the continuation only
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(j["usage"]["completion_tokens"], 24);
  EXPECT_EQ(j["usage"]["total_tokens"], j["usage"]["prompt_tokens"].get<int>() + 24);

  json sreq = req;
  sreq["stream"] = true;
  sreq["stream_options"] = {{"include_usage", true}};
  HttpReply streamed = post(s.port(), "/v1/completions", sreq);
  ASSERT_EQ(streamed.status, 200);
  EXPECT_NE(streamed.headers["content-type"].find("text/event-stream"), std::string::npos);
  const SseStream sse = parse_sse(streamed.body);
  EXPECT_TRUE(sse.done);
  std::string text;
  std::string finish;
  for (const json& e : sse.events) {
    if (e.contains("usage")) {
      EXPECT_EQ(e["usage"]["completion_tokens"], 24);
      continue;
    }
    text += e["choices"][0]["text"].get<std::string>();
    if (!e["choices"][0]["finish_reason"].is_null()) finish = e["choices"][0]["finish_reason"];
  }
  EXPECT_EQ(text, completion_text(whole));
  EXPECT_EQ(finish, "length");

  // A stop string ends the text before it, with finish_reason "stop".
  const std::string full = completion_text(whole);
  const std::string stop = full.substr(full.size() / 2, 3);
  json stop_req = req;
  stop_req["stop"] = {stop};
  HttpReply stopped = post(s.port(), "/v1/completions", stop_req);
  EXPECT_EQ(completion_text(stopped), full.substr(0, full.find(stop)));
  EXPECT_EQ(stopped.json()["choices"][0]["finish_reason"], "stop");
}

TEST(ServeCompletions, EchoLogprobsOfThePromptEqualLmgenScore) {
  const std::string text = "Once upon a time, there was a little girl named Lily. She loved to play outside.";
  RunResult score = run_lmgen({"score", "-m", stories_gguf(), "-p", text, "-c", "256", "--stride", "256", "--jsonl"});
  ASSERT_EQ(score.exit_code, 0) << score.describe();
  std::vector<double> want;
  for_each_line_of(score.out, [&](const json& l) {
    if (l.contains("logprob")) want.push_back(l["logprob"].get<double>());
  });
  ASSERT_GT(want.size(), 10u);

  ServeProcess s({"-m", stories_gguf(), "-c", "256", "-b", "8"});  // the prompt goes through in several chunks
  HttpReply r = post(s.port(), "/v1/completions",
                     {{"prompt", text}, {"echo", true}, {"logprobs", 1}, {"max_tokens", 0}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = r.json();
  const json& lp = j["choices"][0]["logprobs"];
  ASSERT_EQ(lp["token_logprobs"].size(), want.size() + 1);  // the first token has none
  EXPECT_TRUE(lp["token_logprobs"][0].is_null());
  EXPECT_TRUE(lp["top_logprobs"][0].is_null());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(lp["token_logprobs"][i + 1].get<double>(), want[i]) << i;
  EXPECT_EQ(j["choices"][0]["text"], text);
  EXPECT_EQ(j["usage"]["completion_tokens"], 0);
  EXPECT_EQ(j["usage"]["prompt_tokens"], want.size() + 1);
}

TEST(ServeChat, GreedyReplyEqualsLmgenChatWithLogprobsAndStreaming) {
  RunResult cli = run_lmgen({"chat", "-m", qwen(), "-p", "Hello there", "--temp", "0", "-n", "12"});
  ASSERT_EQ(cli.exit_code, 0) << cli.describe();
  ServeProcess s({"-m", qwen(), "--parallel", "2"});
  const json req = {{"messages", {{{"role", "user"}, {"content", "Hello there"}}}},
                    {"max_tokens", 12}, {"temperature", 0}, {"logprobs", true}, {"top_logprobs", 3}};
  HttpReply r = post(s.port(), "/v1/chat/completions", req);
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = r.json();
  EXPECT_EQ(j["object"], "chat.completion");
  const std::string content = j["choices"][0]["message"]["content"];
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  std::string want = cli.out;
  while (!want.empty() && want.back() == '\n') want.pop_back();
  EXPECT_EQ(content, want);
  const json& lp = j["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(lp.size(), j["usage"]["completion_tokens"].get<size_t>());
  for (const json& t : lp) {
    ASSERT_EQ(t["top_logprobs"].size(), 3u);
    EXPECT_NEAR(t["logprob"].get<double>(), t["top_logprobs"][0]["logprob"].get<double>(), 1e-5);  // greedy: the top
    EXPECT_EQ(t["token"], t["top_logprobs"][0]["token"]);
    EXPECT_LE(t["logprob"].get<double>(), 0.0);
  }

  json sreq = req;
  sreq["stream"] = true;
  const SseStream sse = parse_sse(post(s.port(), "/v1/chat/completions", sreq).body);
  EXPECT_TRUE(sse.done);
  ASSERT_FALSE(sse.events.empty());
  EXPECT_EQ(sse.events[0]["choices"][0]["delta"]["role"], "assistant");
  std::string streamed;
  size_t n_lp = 0;
  for (const json& e : sse.events) {
    EXPECT_EQ(e["object"], "chat.completion.chunk");
    const json& d = e["choices"][0]["delta"];
    if (d.contains("content")) streamed += d["content"].get<std::string>();
    if (!e["choices"][0]["logprobs"].is_null()) n_lp += e["choices"][0]["logprobs"]["content"].size();
  }
  EXPECT_EQ(streamed, content);
  EXPECT_EQ(n_lp, lp.size());
  EXPECT_EQ(sse.events.back()["choices"][0]["finish_reason"], j["choices"][0]["finish_reason"]);

  // chat_template_kwargs and tools reach the template (Qwen2's template lists tools in the system turn).
  json with_tools = req;
  with_tools["tools"] = {{{"type", "function"}, {"function", {{"name", "get_weather"}, {"parameters", json::object()}}}}};
  HttpReply t = post(s.port(), "/v1/chat/completions", with_tools);
  ASSERT_EQ(t.status, 200) << t.body;
  EXPECT_GT(t.json()["usage"]["prompt_tokens"].get<int>(), j["usage"]["prompt_tokens"].get<int>());
}

TEST(ServeRobust, DisconnectCancelsTimeoutEndsAndSigtermExitsZero) {
  ServeProcess s({"-m", stories_gguf(), "-c", "8192", "--parallel", "2", "--grace", "0.5"});
  // A long streaming request whose client goes away after the first event.
  const int fd = connect_loopback(s.port());
  ASSERT_GE(fd, 0);
  const std::string body =
      json{{"prompt", "Once"}, {"max_tokens", 8000}, {"ignore_eos", true}, {"stream", true}}.dump();
  const std::string req = request_text("POST", "/v1/completions", body, {});
  ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  std::string got;  // until the first token's event: the job is decoding
  for (int i = 0; i < 100 && got.find("data: ") == std::string::npos; ++i) {
    char buf[256];
    pollfd p{fd, POLLIN, 0};
    const ssize_t n = ::poll(&p, 1, 100) == 1 ? ::recv(fd, buf, sizeof buf, 0) : 0;
    if (n > 0) got.append(buf, static_cast<size_t>(n));
  }
  ASSERT_NE(got.find("data: "), std::string::npos);
  ::close(fd);
  auto running = [&] {  // admitted or waiting
    const json h = http(s.port(), "GET", "/health").json();
    return h["running"].get<int>() + h["queued"].get<int>();
  };
  const auto t0 = std::chrono::steady_clock::now();
  while (running() > 0 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5))
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(running(), 0) << "the sequence of a client that went away is still decoding";
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 2.0);
  EXPECT_LT(http(s.port(), "GET", "/health").json()["steps"].get<int>(), 8000) << "it ran to the end";

  // --timeout 1: a request that would run longer ends after about a second, finish_reason "length".
  ServeProcess quick({"-m", stories_gguf(), "-c", "8192", "--timeout", "1"});
  const auto t1 = std::chrono::steady_clock::now();
  HttpReply timed = post(quick.port(), "/v1/completions", {{"prompt", "Once"}, {"max_tokens", 8000}, {"ignore_eos", true}});
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  ASSERT_EQ(timed.status, 200);
  EXPECT_EQ(timed.json()["choices"][0]["finish_reason"], "length");
  EXPECT_LT(timed.json()["usage"]["completion_tokens"].get<int>(), 8000);
  EXPECT_LT(took, 3.0);

  // SIGTERM with a request in flight: it is cut short but finished properly, and the server exits 0.
  HttpReply during;
  std::thread client([&] {
    during = post(s.port(), "/v1/completions",
                  {{"prompt", "Once"}, {"max_tokens", 8000}, {"ignore_eos", true}, {"stream", true}});
  });
  for (int i = 0; i < 1000 && running() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(running(), 1);  // (no ASSERT: the client thread must be joined)
  const auto t2 = std::chrono::steady_clock::now();
  EXPECT_EQ(s.terminate(10), 0) << s.child().err();
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t2).count(), 6.0);
  client.join();
  EXPECT_EQ(during.status, 200);
  EXPECT_TRUE(parse_sse(during.body).done);
  EXPECT_EQ(http(s.port(), "GET", "/health").status, 0) << "still listening after SIGTERM";
}

}  // namespace
}  // namespace lmgen::test
