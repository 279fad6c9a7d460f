// Chat templates against references: every case of the Hugging Face renders in the shared material
// (chat/hf-renders.jsonl, made with jinja2 as transformers configures it) and the project's own extra cases
// (tests/data/chat-extra.jsonl, made by tools/chat/make_cases.py with the same renderer), byte for byte.
#include <gtest/gtest.h>

#include "chat_cases.hpp"

#ifndef LMGEN_SOURCE_DIR
#define LMGEN_SOURCE_DIR "."
#endif

namespace {

using lmgen::test::run_chat_cases;

TEST(ChatTemplateReference, HuggingFaceRenders) {
  const auto tally = run_chat_cases(lmgen::test::shared_path("chat/hf-renders.jsonl"));
  EXPECT_EQ(tally.failed, 0);
  EXPECT_EQ(tally.passed, 198);
  std::printf("hf-renders: %d passed, %d failed\n", tally.passed, tally.failed);
}

TEST(ChatTemplateReference, ExtraCases) {
  const std::string path = std::string(LMGEN_SOURCE_DIR) + "/tests/data/chat-extra.jsonl";
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  const auto tally = run_chat_cases(path);
  EXPECT_EQ(tally.failed, 0);
  EXPECT_GT(tally.passed, 50);
  std::printf("chat-extra: %d passed, %d failed\n", tally.passed, tally.failed);
}

}  // namespace
