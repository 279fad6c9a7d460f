// Where chat templates come from (src/load/chat_templates.cpp through load_model): GGUF tokenizer.chat_template,
// tokenizer_config.json (string or named list), chat_template.jinja, and the special-token strings.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "load/chat_templates.hpp"
#include "common.hpp"
#include "lmgen/error.hpp"
#include "lmgen/loader.hpp"

using namespace lmgen;
namespace fs = std::filesystem;

namespace {

std::string qwen2_hf_template() {
  auto j = nlohmann::json::parse(test::read_file(test::shared_path("fixtures/tiny-qwen2/hf/tokenizer_config.json")));
  return j["chat_template"].get<std::string>();
}

std::string write_dir(const std::string& name, const std::string& config, const std::string& jinja = "") {
  const fs::path d = fs::path(test::scratch_dir()) / name;
  fs::create_directories(d);
  if (!config.empty()) std::ofstream(d / "tokenizer_config.json") << config;
  if (!jinja.empty()) std::ofstream(d / "chat_template.jinja") << jinja;
  return d.string();
}

}  // namespace

TEST(ChatSource, HfDirectoryTemplateAndSpecialTokens) {
  const LoadedModel lm = load_model(test::shared_path("fixtures/tiny-qwen2/hf"));
  ASSERT_EQ(lm.chat_templates.count("default"), 1u);
  EXPECT_EQ(lm.chat_templates.at("default"), qwen2_hf_template());
  EXPECT_EQ(lm.special_tokens.at("eos_token"), "<|im_end|>");
  EXPECT_EQ(lm.special_tokens.at("pad_token"), "<|endoftext|>");
  EXPECT_EQ(lm.special_tokens.count("bos_token"), 0u) << "null in tokenizer_config.json: left undefined, as HF does";
}

TEST(ChatSource, GgufCarriesTheSameTemplate) {
  const LoadedModel lm = load_model(test::shared_path("fixtures/tiny-qwen2/model-bf16.gguf"));
  ASSERT_EQ(lm.chat_templates.count("default"), 1u);
  EXPECT_EQ(lm.chat_templates.at("default"), qwen2_hf_template());
  ASSERT_TRUE(lm.tokenizer);
  EXPECT_EQ(lm.special_tokens.at("eos_token"), lm.tokenizer->token_text(lm.tokenizer->eos_id()));
}

TEST(ChatSource, ModelsWithoutTemplate) {
  const LoadedModel lm = load_model(test::stories_gguf());
  EXPECT_TRUE(lm.chat_templates.empty());
  EXPECT_EQ(lm.special_tokens.at("bos_token"), "<s>");
}

TEST(ChatSource, NamedListAndJinjaFile) {
  const std::string list = write_dir("list", R"({"chat_template": [{"name": "default", "template": "D"},
      {"name": "tool_use", "template": "T"}], "bos_token": {"content": "<s>", "lstrip": false}, "eos_token": null})");
  ChatMetadata m = chat_metadata_from_hf_dir(list);
  EXPECT_EQ(m.templates.at("default"), "D");
  EXPECT_EQ(m.templates.at("tool_use"), "T");
  EXPECT_EQ(m.special_tokens.at("bos_token"), "<s>");
  EXPECT_EQ(m.special_tokens.count("eos_token"), 0u);

  // chat_template.jinja is used when tokenizer_config.json has no template; the config's own wins otherwise.
  EXPECT_EQ(chat_metadata_from_hf_dir(write_dir("jinja", R"({"eos_token": "</s>"})", "J")).templates.at("default"), "J");
  EXPECT_EQ(chat_metadata_from_hf_dir(write_dir("both", R"({"chat_template": "C"})", "J")).templates.at("default"), "C");
  EXPECT_TRUE(chat_metadata_from_hf_dir(write_dir("none", "")).templates.empty());
}

TEST(ChatSource, MalformedTemplateFieldsAreErrors) {
  EXPECT_THROW(chat_metadata_from_hf_dir(write_dir("num", R"({"chat_template": 5})")), Error);
  EXPECT_THROW(chat_metadata_from_hf_dir(write_dir("entry", R"({"chat_template": [{"name": "x"}]})")), Error);
  EXPECT_THROW(chat_metadata_from_hf_dir(write_dir("notjson", "{")), Error);
}
