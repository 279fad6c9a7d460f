#include "format/gguf.hpp"

#include <cstdio>

#include "common.hpp"

using namespace lmgen;

TEST(Gguf, ReadsStories260KHeaderAndTensors) {
  GgufFile g(test::stories_gguf());
  EXPECT_EQ(g.version(), 3u);
  EXPECT_EQ(g.get_string("general.architecture"), "llama");
  EXPECT_EQ(g.get_int("llama.embedding_length"), 64);
  EXPECT_EQ(g.get_int("llama.block_count"), 5);
  const auto& toks = g.get_string_array("tokenizer.ggml.tokens");
  EXPECT_EQ(toks.size(), 512u);
  TensorView emb = g.tensor("token_embd.weight");
  EXPECT_EQ(emb.type, DType::F32);
  ASSERT_EQ(emb.shape.size(), 2u);
  EXPECT_EQ(emb.shape[0], 512);
  EXPECT_EQ(emb.shape[1], 64);
  EXPECT_EQ(emb.nbytes, 512u * 64u * 4u);
}

TEST(Gguf, RejectsNonGgufFile) {
  EXPECT_THROW(GgufFile(test::shared_path("models/stories260K/tok512.bin")), Error);
}

// Format detection (through a map since the page-cache change): true only for the GGUF magic; anything that cannot
// be opened or is too short is "not GGUF", never an exception.
TEST(Gguf, SniffTellsGgufFromEverythingElse) {
  EXPECT_TRUE(GgufFile::sniff(test::stories_gguf()));
  EXPECT_FALSE(GgufFile::sniff(test::shared_path("models/stories260K/tok512.bin")));
  EXPECT_FALSE(GgufFile::sniff(test::shared_path("models/stories260K")));  // a directory
  EXPECT_FALSE(GgufFile::sniff(test::scratch_dir() + "/no-such-file.gguf"));
  const std::string short_file = test::scratch_dir() + "/three-bytes.gguf";
  {
    std::FILE* f = std::fopen(short_file.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite("GGU", 1, 3, f);
    std::fclose(f);
  }
  EXPECT_FALSE(GgufFile::sniff(short_file));
  const std::string empty_file = test::scratch_dir() + "/empty.gguf";
  std::FILE* e = std::fopen(empty_file.c_str(), "wb");
  ASSERT_NE(e, nullptr);
  std::fclose(e);
  EXPECT_FALSE(GgufFile::sniff(empty_file));
}
