// `lmgen --batch`: one result per input line, in input order, each independent of the other lines.
#include <nlohmann/json.hpp>

#include "common.hpp"
#include "lmgen_run.hpp"

using lmgen::test::json_lines;
using lmgen::test::stories_gguf;

TEST(CliBatch, ResultsInInputOrderAndIndependentOfOtherLines) {
  const std::vector<std::string> prompts = {"Once upon a time", "Lily and Tom", "The dog", "", "She ate"};
  std::string input;
  for (const auto& p : prompts) input += p + "\n";
  auto r = lmgen::test::run_lmgen({"-m", stories_gguf(), "--batch", "--temp", "0", "-n", "8", "-q"}, 60, input, true);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto results = json_lines(r.out);
  ASSERT_EQ(results.size(), prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(results[i]["prompt_index"], i);
    EXPECT_EQ(results[i]["stop_reason"], "length");
    EXPECT_EQ(results[i]["generated_tokens"], 8);
    // The same prompt alone gives the same text: results do not depend on the other lines.
    auto single = lmgen::test::run_lmgen({"-m", stories_gguf(), "-p", prompts[i], "--temp", "0", "-n", "8", "-q"});
    ASSERT_EQ(single.exit_code, 0) << single.describe();
    EXPECT_EQ(results[i]["text"].get<std::string>(), single.out) << "prompt " << i;
  }
}

TEST(CliBatch, JsonLinesCarryTheirOwnOptionsAndErrorsStayOnTheirLine) {
  const std::string input =
      "{\"prompt\": \"Once upon a time\", \"n\": 3, \"temp\": 0}\n"
      "{\"prompt\": \"Once upon a time\", \"n\": 40, \"temp\": 0, \"stop\": \".\"}\n"
      "{\"prompt\": \"Lily\", \"top_p\": 7}\n"
      "{\"prompt\": \"Lily\", \"n\": 2, \"temp\": 0.9, \"seed\": 5}\n";
  auto r = lmgen::test::run_lmgen({"-m", stories_gguf(), "--batch", "-q"}, 60, input, true);
  ASSERT_EQ(r.exit_code, 1) << r.describe();  // a line failed: the batch goes on, the exit status says so
  auto res = json_lines(r.out);
  ASSERT_EQ(res.size(), 4u);
  EXPECT_EQ(res[0]["generated_tokens"], 3);
  EXPECT_EQ(res[1]["stop_reason"], "stop");
  EXPECT_EQ(res[1]["text"].get<std::string>().find('.'), std::string::npos);
  EXPECT_TRUE(res[2].contains("error")) << res[2].dump();  // top_p 7 is invalid: reported on its own line
  EXPECT_EQ(res[3]["generated_tokens"], 2);
  // Seeded sampling in a batch line reproduces the same line run again.
  auto again = lmgen::test::run_lmgen({"-m", stories_gguf(), "--batch", "-q"}, 60,
                                      "{\"prompt\": \"Lily\", \"n\": 2, \"temp\": 0.9, \"seed\": 5}\n", true);
  ASSERT_EQ(again.exit_code, 0) << again.describe();
  EXPECT_EQ(json_lines(again.out)[0]["tokens"], res[3]["tokens"]);
}
