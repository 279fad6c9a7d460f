#include "lmgen/gguf.hpp"

#include "common.hpp"

using namespace lmgen;

TEST(Gguf, ReadsStories260KHeaderAndTensors) {
  GgufFile g(test::shared_path("models/stories260K/stories260K.gguf"));
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
