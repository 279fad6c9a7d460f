// load_model's one way to find a model's parts: the tokenizer lookup policy (LoadOptions::tokenizer_path, the
// model's own, a llama2.c checkpoint's tokenizer.bin or only tok*.bin beside it), what it reports
// (LoadedModel::tokenizer_path), its errors (MissingTokenizer, naming no command-line flag), and the JSON files
// it reads (util/json_file.hpp).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common.hpp"
#include "lmgen/error.hpp"
#include "lmgen/loader.hpp"
#include "util/json_file.hpp"

namespace {

namespace fs = std::filesystem;

// A directory holding a link to stories260K.bin and links named `toks` to its tok512.bin.
std::string checkpoint_dir(const std::string& name, const std::vector<std::string>& toks) {
  const std::string dir = lmgen::test::scratch_dir() + "/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string stories = lmgen::test::shared_path("models/stories260K/");
  fs::create_symlink(stories + "stories260K.bin", dir + "/stories260K.bin");
  for (const std::string& t : toks) fs::create_symlink(stories + "tok512.bin", dir + "/" + t);
  return dir;
}

TEST(LoadModel, Llama2cCheckpointFindsTheOnlyTokBinBesideIt) {
  const std::string dir = checkpoint_dir("find-tok", {"tok512.bin"});
  const lmgen::LoadedModel lm = lmgen::load_model(dir + "/stories260K.bin");
  ASSERT_NE(lm.tokenizer, nullptr);
  EXPECT_EQ(lm.tokenizer_path, dir + "/tok512.bin");
  EXPECT_TRUE(lm.tokenizer_found_beside);
  EXPECT_EQ(lm.tokenizer->n_vocab(), 512);
}

TEST(LoadModel, TokenizerBinWinsOverTokBins) {
  const std::string dir = checkpoint_dir("find-tokenizer-bin", {"tokenizer.bin", "tok1.bin", "tok2.bin"});
  const lmgen::LoadedModel lm = lmgen::load_model(dir + "/stories260K.bin");
  EXPECT_EQ(lm.tokenizer_path, dir + "/tokenizer.bin");
}

TEST(LoadModel, MissingTokenizerSaysWhatIsBesideAndNamesNoFlag) {
  for (const auto& [name, toks, says] :
       {std::tuple<std::string, std::vector<std::string>, std::string>{"no-tok", {}, "no tokenizer.bin or tok*.bin"},
        {"two-toks", {"tok1.bin", "tok2.bin"}, "2 tok*.bin files"}}) {
    const std::string dir = checkpoint_dir(name, toks);
    try {
      lmgen::load_model(dir + "/stories260K.bin");
      ADD_FAILURE() << name << ": loaded without a tokenizer";
    } catch (const lmgen::MissingTokenizer& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(says), std::string::npos) << what;
      EXPECT_NE(what.find(dir + "/stories260K.bin"), std::string::npos) << what;
      EXPECT_EQ(what.find("--"), std::string::npos) << "a library error names a flag: " << what;
    }
  }
  // Without a tokenizer wanted there is nothing to find.
  lmgen::LoadOptions lo;
  lo.load_tokenizer = false;
  EXPECT_NE(lmgen::load_model(checkpoint_dir("no-tok-needed", {}) + "/stories260K.bin", lo).model, nullptr);
}

TEST(LoadModel, GivenTokenizerAndTheModelsOwnAreReported) {
  const std::string gguf = lmgen::test::shared_path("models/stories260K/stories260K.gguf");
  lmgen::LoadedModel own = lmgen::load_model(gguf);
  EXPECT_EQ(own.tokenizer_path, gguf);
  EXPECT_FALSE(own.tokenizer_found_beside);
  lmgen::LoadOptions lo;
  lo.tokenizer_path = lmgen::test::shared_path("models/stories260K/tok512.bin");
  const std::string dir = checkpoint_dir("given-tok", {});
  lmgen::LoadedModel given = lmgen::load_model(dir + "/stories260K.bin", lo);
  EXPECT_EQ(given.tokenizer_path, lo.tokenizer_path);
  EXPECT_FALSE(given.tokenizer_found_beside);
}

TEST(LoadModel, TokenizerOnlyNeedsNoWeights) {
  lmgen::LoadOptions lo;
  lo.load_weights = false;
  const std::string dir = checkpoint_dir("tok-only", {"tok512.bin"});
  lmgen::LoadedModel lm = lmgen::load_model(dir + "/stories260K.bin", lo);
  EXPECT_EQ(lm.model, nullptr);
  ASSERT_NE(lm.tokenizer, nullptr);
  EXPECT_EQ(lm.tokenizer->n_vocab(), 512);
  // A tokenizer itself (here a tokenizer.json) is accepted as the path when no weights are wanted ...
  const std::string json = lmgen::test::shared_path("tokenizers/llama2/tokenizer.json");
  EXPECT_GT(lmgen::load_model(json, lo).tokenizer->n_vocab(), 0);
  // ... and is not a model otherwise.
  EXPECT_THROW(lmgen::load_model(json), lmgen::Error);
}

TEST(JsonFile, ErrorsNameTheFile) {
  const std::string dir = lmgen::test::scratch_dir() + "/json-file";
  fs::create_directories(dir);
  auto expect_error = [](const std::string& path, const std::string& says, bool object) {
    try {
      if (object) lmgen::read_json_object_file(path);
      else lmgen::read_json_file(path);
      ADD_FAILURE() << path << " was read";
    } catch (const lmgen::Error& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.rfind(path + ": ", 0), 0u) << what;
      EXPECT_NE(what.find(says), std::string::npos) << what;
    }
  };
  expect_error(dir + "/missing.json", "cannot open", false);
  std::ofstream(dir + "/bad.json") << "{\"a\": ";
  expect_error(dir + "/bad.json", "not valid JSON", false);
  std::ofstream(dir + "/deep.json") << std::string(200, '[') + std::string(200, ']');
  expect_error(dir + "/deep.json", "nested deeper than", false);
  std::ofstream(dir + "/array.json") << "[1, 2]";
  EXPECT_EQ(lmgen::read_json_file(dir + "/array.json").size(), 2u);
  expect_error(dir + "/array.json", "not a JSON object", true);
}

}  // namespace
