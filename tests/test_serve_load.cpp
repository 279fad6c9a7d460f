// A bounded load test of `lmgen serve` on loopback: 8 concurrent clients x 20 requests each (a fixed number; it
// stops by itself), streaming and not, some with log-probs, with malformed requests mixed in. Every answer must be
// exactly what the same request gets alone (greedy), every malformed one a 400, and the server must have batched.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "serve_client.hpp"

namespace lmgen::test {
namespace {

using nlohmann::json;

// What the tests compare: the text and, when asked for, the log-probs.
struct Answer {
  std::string text;
  std::vector<double> logprobs;
  bool operator==(const Answer&) const = default;
};

Answer answer_of(const HttpReply& r, bool streamed) {
  Answer a;
  auto take = [&](const json& choice) {
    a.text += choice["text"].get<std::string>();
    if (choice.contains("logprobs") && !choice["logprobs"].is_null())
      for (const json& lp : choice["logprobs"]["token_logprobs"]) a.logprobs.push_back(lp.get<double>());
  };
  if (!streamed) {
    take(r.json()["choices"][0]);
    return a;
  }
  const SseStream s = parse_sse(r.body);
  if (!s.done) a.text = "<stream without [DONE]>";
  for (const json& e : s.events) take(e["choices"][0]);
  return a;
}

std::vector<json> variants() {
  const std::vector<std::string> prompts = {"Once upon a time", "The little dog", "Lily and Ben went to the park",
                                            "One day, a big", "Tom had a red ball. He", "The sun was"};
  std::vector<json> v;
  for (size_t i = 0; i < prompts.size(); ++i) {
    json r = {{"prompt", prompts[i]}, {"max_tokens", 8 + 7 * static_cast<int>(i)}, {"temperature", 0}};
    if (i % 2 == 1) r["logprobs"] = 2;
    v.push_back(r);
  }
  return v;
}

// Malformed requests: each must get a 400 and change nothing for the others.
const std::vector<std::string> kMalformed = {
    "{\"prompt\": \"Once\", \"max_tokens\": ",                // cut short
    "{\"prompt\": \"Once\", \"max_tokens\": \"many\"}",       // wrong type
    "{\"prompt\": {\"text\": \"Once\"}}",                     // wrong shape
    "{\"prompt\": \"Once\", \"temperature\": -1}",            // out of range
    "\"just a string\"",                                      // not an object
};

TEST(ServeLoad, EightClientsTwentyRequestsEachMatchTheirAnswersAlone) {
  ServeProcess s({"-m", stories_gguf(), "--parallel", "4", "-c", "512"});
  ASSERT_GT(s.port(), 0);
  const std::vector<json> reqs = variants();
  std::vector<Answer> alone;
  for (const json& r : reqs) {
    HttpReply h = post(s.port(), "/v1/completions", r);
    ASSERT_EQ(h.status, 200) << h.body;
    alone.push_back(answer_of(h, false));
    ASSERT_FALSE(alone.back().text.empty());
  }
  const int64_t steps_before = http(s.port(), "GET", "/health").json()["steps"];
  const int64_t rows_before = http(s.port(), "GET", "/health").json()["rows"];

  std::atomic<int> ok{0}, rejected{0};
  std::mutex mu;
  std::vector<std::string> failures;
  auto client = [&](int c) {
    for (int k = 0; k < 20; ++k) {
      const int n = c * 20 + k;
      std::string failure;
      if (n % 6 == 5) {
        HttpReply h = http(s.port(), "POST", "/v1/completions", kMalformed[static_cast<size_t>(n / 6) % kMalformed.size()]);
        if (h.status == 400 && h.json().contains("error")) ++rejected;
        else failure = "malformed request " + std::to_string(n) + " got " + std::to_string(h.status) + ": " + h.body;
      } else {
        const size_t v = static_cast<size_t>(n * 7 + c) % reqs.size();
        json r = reqs[v];
        const bool stream = n % 3 == 0;
        if (stream) r["stream"] = true;
        HttpReply h = post(s.port(), "/v1/completions", r);
        if (h.status != 200) failure = "request " + std::to_string(n) + ": status " + std::to_string(h.status);
        else if (!(answer_of(h, stream) == alone[v]))
          failure = "request " + std::to_string(n) + " (variant " + std::to_string(v) + ", stream " +
                    std::to_string(stream) + ") differs from its answer alone: [" + answer_of(h, stream).text +
                    "] vs [" + alone[v].text + "]";
        else ++ok;
      }
      if (!failure.empty()) {
        std::lock_guard<std::mutex> lock(mu);
        failures.push_back(failure);
      }
    }
  };
  std::vector<std::thread> threads;
  for (int c = 0; c < 8; ++c) threads.emplace_back(client, c);
  for (auto& t : threads) t.join();
  for (const auto& f : failures) ADD_FAILURE() << f;
  EXPECT_EQ(ok.load() + rejected.load(), 160);
  EXPECT_EQ(rejected.load(), 26);
  const json h = http(s.port(), "GET", "/health").json();
  EXPECT_EQ(h["running"], 0);
  EXPECT_EQ(h["queued"], 0);
  const double rows_per_step = static_cast<double>(h["rows"].get<int64_t>() - rows_before) /
                               static_cast<double>(h["steps"].get<int64_t>() - steps_before);
  EXPECT_GT(rows_per_step, 1.5) << "the concurrent requests were not decoded together";
}

}  // namespace
}  // namespace lmgen::test
