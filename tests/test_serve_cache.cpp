// Prompt-prefix reuse in `lmgen serve` (serve/prompt_cache.cpp): the slot choice on its own, then conversations
// interleaved over fewer slots than conversations, each turn sent as the whole conversation so far: the slot chosen
// by the longest prefix it holds, eviction of the least recently used, "cache_prompt": false, both endpoints,
// streamed or not, and every greedy reply byte-identical to a fresh evaluation. Also GET /slots, GET /metrics (read
// by the Prometheus project's own text parser, python3-prometheus-client, installed by tools/test.sh; without it
// this test fails, it is never skipped), and /health's 503 while the model loads and when every slot is busy with
// requests waiting.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "lmgen_run.hpp"
#include "serve/prompt_cache.hpp"
#include "serve_client.hpp"

namespace lmgen::test {
namespace {

using nlohmann::json;

struct Turn {
  std::string text;
  int64_t cached = 0;  // usage.prompt_tokens_details.cached_tokens
  int64_t prompt_tokens = 0;
};

// One greedy completion (streamed or not): its text and usage.
Turn complete(int port, const std::string& prompt, bool stream, bool cache = true) {
  json req = {{"prompt", prompt}, {"max_tokens", 10}, {"temperature", 0}};
  if (!cache) req["cache_prompt"] = false;
  if (stream) {
    req["stream"] = true;
    req["stream_options"] = {{"include_usage", true}};
  }
  const HttpReply r = post(port, "/v1/completions", req);
  EXPECT_EQ(r.status, 200) << r.body;
  Turn t;
  json usage;
  if (stream) {
    for (const json& e : parse_sse(r.body).events) {
      if (e.contains("usage")) usage = e["usage"];
      else t.text += e["choices"][0]["text"].get<std::string>();
    }
  } else {
    t.text = r.json()["choices"][0]["text"].get<std::string>();
    usage = r.json()["usage"];
  }
  if (usage.is_null()) return t;
  t.cached = usage["prompt_tokens_details"]["cached_tokens"].get<int64_t>();
  t.prompt_tokens = usage["prompt_tokens"].get<int64_t>();
  return t;
}

// GET /metrics parsed by prometheus_client's text parser: sample name -> value. An unparsable body fails.
std::map<std::string, double> scrape(int port) {
  HttpReply r = http(port, "GET", "/metrics");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.headers["content-type"].find("text/plain"), std::string::npos);
  const std::string file = write_scratch("metrics.txt", r.body);
  const std::string script =
      "import json, sys\n"
      "from prometheus_client.parser import text_string_to_metric_families\n"
      "out = {}\n"
      "for fam in text_string_to_metric_families(open(sys.argv[1]).read()):\n"
      "    for s in fam.samples:\n"
      "        out[s.name] = s.value\n"
      "print(json.dumps(out))\n";
  const RunResult py = run_process("/usr/bin/python3", {"-c", script, file}, 20.0, "", false, {});
  EXPECT_EQ(py.exit_code, 0) << "python3 with prometheus_client (Debian python3-prometheus-client, installed by "
                                "tools/test.sh) could not parse /metrics: "
                             << py.describe() << "\n" << r.body;
  std::map<std::string, double> m;
  if (py.exit_code != 0) return m;
  const json parsed = json::parse(py.out);
  for (const auto& [k, v] : parsed.items()) m[k] = v.get<double>();
  return m;
}

TEST(PromptCache, LongestPrefixAmongSlotsItMostlyKeepsElseLeastRecentlyUsed) {
  serve::PromptCache c(3);
  std::vector<bool> idle = {true, true, true};
  using Ids = std::vector<int32_t>;
  EXPECT_EQ(c.choose(Ids{1, 2, 3}, idle, true).slot, 0);  // all empty: the first never used
  c.append(0, Ids{1, 2, 3, 4});
  c.touch(0);
  c.append(1, Ids{1, 2, 9});
  c.touch(1);
  c.append(2, Ids{1, 2, 3, 4, 5, 6});
  c.touch(2);
  serve::PromptCache::Choice ch = c.choose(Ids{1, 2, 3, 4, 5, 7}, idle, true);
  EXPECT_EQ(ch.slot, 2);  // shares 5 of the 6 it holds: more than slot 0's 4
  EXPECT_EQ(ch.n_shared, 5);
  idle[2] = false;  // busy: the next longest
  ch = c.choose(Ids{1, 2, 3, 4, 5, 7}, idle, true);
  EXPECT_EQ(ch.slot, 0);
  EXPECT_EQ(ch.n_shared, 4);
  idle[2] = true;
  // Only the first token in common with each: no slot is mostly kept, so the least recently used one (0) is
  // evicted, keeping that token.
  ch = c.choose(Ids{1, 50, 51}, idle, true);
  EXPECT_EQ(ch.slot, 0);
  EXPECT_EQ(ch.n_shared, 1);
  // Without reuse: the least recently used, nothing kept; using a slot moves it to the back.
  EXPECT_EQ(c.choose(Ids{1, 2, 3, 4, 5, 7}, idle, false).n_shared, 0);
  c.touch(0);
  EXPECT_EQ(c.choose(Ids{7}, idle, false).slot, 1);
  c.keep(2, 2);
  EXPECT_EQ(c.tokens(2), (Ids{1, 2}));
}

TEST(ServeCache, ConversationsOverFewerSlotsReuseTheirPrefixAndMatchFreshRuns) {
  ServeProcess s({"-m", stories_gguf(), "--parallel", "2"});
  ASSERT_GT(s.port(), 0);
  const int port = s.port();
  std::map<char, std::string> convo = {{'A', "Once upon a time"}, {'B', "The little dog"}, {'C', "Lily and Ben"}};
  std::vector<std::pair<std::string, std::string>> asked;  // every prompt and its reply, to replay afresh
  int64_t reused = 0, prompt_tokens = 0;
  // Sends conversation c's next turn (the conversation so far); returns the tokens it found cached.
  auto turn = [&](char c, bool stream) {
    const std::string prompt = convo[c] + " Then";
    const Turn t = complete(port, prompt, stream);
    asked.emplace_back(prompt, t.text);
    convo[c] = prompt + t.text;
    reused += t.cached;
    prompt_tokens += t.prompt_tokens;
    return t;
  };
  EXPECT_EQ(turn('A', false).cached, 0);  // slot 0
  EXPECT_EQ(turn('B', false).cached, 0);  // slot 1
  // B again: its slot holds B's first turn. The least recently used slot is A's, so only the prefix rule picks B's.
  const Turn b2 = turn('B', true);
  EXPECT_GT(b2.cached, 0);
  EXPECT_LT(b2.cached, b2.prompt_tokens);
  // Only BOS in common with the other conversations: at most that is kept.
  EXPECT_LE(turn('C', false).cached, 1);  // no slot holds C: the least recently used (A's) is evicted
  EXPECT_LE(turn('A', true).cached, 1);   // A was evicted; B's slot is now the least recently used
  EXPECT_GT(turn('C', true).cached, 0);   // C's slot kept C
  EXPECT_GT(turn('A', false).cached, 0);

  // /slots: both idle, each holding a conversation; the text only when asked for.
  const json slots = http(port, "GET", "/slots").json();
  ASSERT_EQ(slots.size(), 2u);
  std::string held;
  for (const json& sl : slots) {
    EXPECT_EQ(sl["state"], "idle");
    EXPECT_GT(sl["n_cached"].get<int>(), 0);
    EXPECT_FALSE(sl.contains("content"));
  }
  for (const json& sl : http(port, "GET", "/slots?content=1").json()) held += sl["content"].get<std::string>() + "|";
  EXPECT_NE(held.find(convo['A'].substr(0, 30)), std::string::npos) << held;

  // /metrics agrees with the replies' usage.
  std::map<std::string, double> m = scrape(port);
  EXPECT_EQ(m["lmgen_requests_total"], static_cast<double>(asked.size()));
  EXPECT_EQ(m["lmgen_prompt_tokens_reused_total"], static_cast<double>(reused));
  EXPECT_EQ(m["lmgen_prompt_tokens_evaluated_total"], static_cast<double>(prompt_tokens - reused));
  EXPECT_EQ(m["lmgen_slots"], 2);
  EXPECT_EQ(m["lmgen_slots_busy"], 0);
  EXPECT_EQ(m["lmgen_generated_tokens_total"], 10.0 * static_cast<double>(asked.size()));

  // Every reply is byte for byte what a fresh evaluation of its whole prompt gives ("cache_prompt": false reuses
  // nothing), streamed or not.
  for (size_t i = 0; i < asked.size(); ++i) {
    const Turn fresh = complete(port, asked[i].first, i % 2 == 0, false);
    EXPECT_EQ(fresh.cached, 0);
    EXPECT_EQ(fresh.text, asked[i].second) << "turn " << i << ": " << asked[i].first;
  }
  EXPECT_EQ(scrape(port)["lmgen_prompt_tokens_reused_total"], static_cast<double>(reused));
}

TEST(ServeCache, ChatConversationReusesTheRenderedPrefix) {
  ServeProcess s({"-m", shared_path("fixtures/tiny-qwen2/model-q8_0.gguf"), "--parallel", "1"});
  ASSERT_GT(s.port(), 0);
  json messages = {{{"role", "user"}, {"content", "Hello there"}}};
  auto chat = [&](bool cache) {
    json req = {{"messages", messages}, {"max_tokens", 8}, {"temperature", 0}};
    if (!cache) req["cache_prompt"] = false;
    const HttpReply r = post(s.port(), "/v1/chat/completions", req);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json();
  };
  const json first = chat(true);
  EXPECT_EQ(first["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
  messages.push_back({{"role", "assistant"}, {"content", first["choices"][0]["message"]["content"]}});
  messages.push_back({{"role", "user"}, {"content", "And then?"}});
  const json second = chat(true);
  // The first prompt's tokens at least are in the slot (the rendered reply may tokenize differently at its end).
  EXPECT_GE(second["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>(),
            first["usage"]["prompt_tokens"].get<int>());
  const json fresh = chat(false);
  EXPECT_EQ(fresh["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
  EXPECT_EQ(fresh["choices"][0]["message"]["content"], second["choices"][0]["message"]["content"]);
}

TEST(ServeCache, HealthIs503WhenEverySlotIsBusyAndRequestsWait) {
  ServeProcess s({"-m", stories_gguf(), "--parallel", "1", "--busy-queue", "0", "-c", "512"});
  ASSERT_GT(s.port(), 0);
  EXPECT_EQ(http(s.port(), "GET", "/health").status, 200);
  // Two long requests on one slot: one runs, one waits.
  const json req = {{"prompt", "Once"}, {"max_tokens", 500}, {"ignore_eos", true}, {"temperature", 0}};
  std::atomic<int> done{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 2; ++i)
    clients.emplace_back([&] {
      post(s.port(), "/v1/completions", req);
      ++done;
    });
  json busy;
  while (done.load() < 2 && busy.is_null()) {
    const HttpReply h = http(s.port(), "GET", "/health");
    if (h.status == 503) busy = h.json();
  }
  for (auto& c : clients) c.join();
  ASSERT_FALSE(busy.is_null()) << "/health never answered 503 while a request waited";
  EXPECT_EQ(busy["status"], "busy");
  EXPECT_EQ(busy["running"], 1);
  EXPECT_GE(busy["queued"].get<int>(), 1);
  EXPECT_EQ(http(s.port(), "GET", "/health").status, 200);  // idle again
}

TEST(ServeCache, HealthIs503WhileTheModelLoads) {
  // The server listens before it loads (-v says where); a tokenizer.json of 151k tokens takes long enough to load
  // that requests meet the loading state.
  Child c({"serve", "-m", shared_path("fixtures/tiny-qwen2/hf"), "--host", "127.0.0.1", "--port", "0", "-v"});
  const std::regex listening("listening on 127\\.0\\.0\\.1:([0-9]+)");
  int port = 0;
  for (int i = 0; i < 1500 && port == 0; ++i) {
    std::smatch m;
    const std::string err = c.err();
    if (std::regex_search(err, m, listening)) port = std::stoi(m[1]);
    else std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_GT(port, 0) << c.err();
  HttpReply h = http(port, "GET", "/health");
  const HttpReply early = post(port, "/v1/completions", {{"prompt", "Hi"}, {"max_tokens", 1}});
  EXPECT_EQ(h.status, 503) << h.body;
  EXPECT_EQ(h.json()["status"], "loading");
  EXPECT_EQ(early.status, 503) << early.body;
  for (int i = 0; i < 3000 && h.status != 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    h = http(port, "GET", "/health");
  }
  EXPECT_EQ(h.status, 200) << c.err();
  EXPECT_EQ(post(port, "/v1/completions", {{"prompt", "Hi"}, {"max_tokens", 1}}).status, 200);
  c.signal(SIGTERM);
  EXPECT_EQ(c.wait(10), 0);
}

}  // namespace
}  // namespace lmgen::test
