#include "format/gguf.hpp"

#include <cstdio>

#include "common.hpp"
#include "gguf_layout.hpp"

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

// A tensor of a ggml type lmgen does not run (here the i-quants IQ2_XXS / IQ1_S and the ternary TQ2_0, patched into the
// first tensor of a real file) is refused naming the tensor, its type and the file type to download instead; the
// i-quants lmgen runs load.
TEST(Gguf, UnsupportedTensorTypeNamesTheTensorAndAnAlternative) {
  const std::string bytes = test::read_file(test::stories_gguf());
  const test::GgufLayout L = test::GgufLayout::parse(bytes);
  const test::GgufLayout::Tensor& t = L.tensors.at(0);
  struct Case {
    uint32_t id;
    const char* name;
    const char* instead;
  };
  for (const Case& c : {Case{16, "IQ2_XXS", "Q2_K"}, Case{19, "IQ1_S", "Q2_K"}, Case{35, "TQ2_0", "Q2_K"},
                        Case{18, "IQ3_XXS", "IQ3_M"}}) {
    std::string b = bytes;
    test::poke(b, t.type_off, c.id);
    const std::string path = test::write_scratch(std::string("type-") + c.name + ".gguf", b);
    std::string msg;
    try {
      GgufFile g(path);
    } catch (const Error& e) {
      msg = e.what();
    }
    EXPECT_NE(msg.find("'" + t.name + "'"), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::string("type ") + c.name), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::string("use a ") + c.instead + " file"), std::string::npos) << msg;
  }
  for (const char* f : {"model-iq4_nl.gguf", "model-iq4_xs.gguf", "model-iq3_s.gguf"}) {
    GgufFile g(test::shared_path(std::string("fixtures/tiny-llama-kq/") + f));
    EXPECT_FALSE(g.tensors().empty()) << f;
  }
}
