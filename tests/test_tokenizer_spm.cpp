// SentencePiece-style tokenizers: GGUF "llama" vocabularies against llama.cpp's golden tokenizations, llama2.c
// tokenizer.bin against the model refs, malformed vocabularies. (Llama-2 tokenizer.json: test_tokenizer_hf_spm.cpp.)
#include <nlohmann/json.hpp>

#include <cstring>
#include <functional>
#include <span>
#include <fstream>

#include "common.hpp"
#include "tokenizer_golden.hpp"
#include "lmgen/error.hpp"
#include "format/gguf.hpp"
#include "lmgen/tokenizer.hpp"
#include "tokenizer/builders.hpp"

using namespace lmgen;
using nlohmann::json;
using test::check_golden;
using test::expect_error_mentioning;
using test::read_jsonl;

namespace {

std::unique_ptr<Tokenizer> gguf_tokenizer(const std::string& rel) {
  GgufFile g(test::shared_path(rel));
  return load_gguf_tokenizer(g);
}

}  // namespace

TEST(TokenizerSpm, LlamaSpmGgufMatchesLlamaCpp) {
  auto tok = gguf_tokenizer("vocab/ggml-vocab-llama-spm.gguf");
  EXPECT_EQ(tok->n_vocab(), 32000);
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
  EXPECT_TRUE(tok->add_bos());
  EXPECT_EQ(check_golden(*tok, "reference/tokenizer/llamacpp-llama-spm.jsonl", true), 109);
}

TEST(TokenizerSpm, Phi3GgufMatchesLlamaCpp) {
  auto tok = gguf_tokenizer("vocab/ggml-vocab-phi-3.gguf");
  EXPECT_EQ(tok->eos_id(), 32000);
  EXPECT_EQ(check_golden(*tok, "reference/tokenizer/llamacpp-phi-3.jsonl", true), 109);
  // <|end|> and <|endoftext|> end generation; ordinary tokens do not.
  auto end = tok->encode("<|end|>", {.add_special = false, .parse_special = true});
  ASSERT_EQ(end.size(), 1u);
  EXPECT_TRUE(tok->is_eog(end[0]));
  EXPECT_TRUE(tok->is_eog(32000));
  EXPECT_FALSE(tok->is_eog(15043));
  EXPECT_TRUE(tok->is_special(end[0]));
  EXPECT_FALSE(tok->is_special(15043));
}

TEST(TokenizerSpm, BaichuanGgufMatchesLlamaCpp) {
  auto tok = gguf_tokenizer("vocab/ggml-vocab-baichuan.gguf");
  EXPECT_EQ(check_golden(*tok, "reference/tokenizer/llamacpp-baichuan.jsonl", true), 109);
}

TEST(TokenizerSpm, ParseSpecialOffLeavesControlTextAsText) {
  auto tok = gguf_tokenizer("vocab/ggml-vocab-llama-spm.gguf");
  auto with = tok->encode("a</s>b", {.add_special = false, .parse_special = true});
  auto without = tok->encode("a</s>b", {.add_special = false, .parse_special = false});
  EXPECT_NE(std::find(with.begin(), with.end(), 2), with.end());
  EXPECT_GT(without.size(), with.size());
}

TEST(TokenizerSpm, PiecesAndStreaming) {
  auto tok = gguf_tokenizer("vocab/ggml-vocab-llama-spm.gguf");
  EXPECT_EQ(tok->token_text(15043), "\xE2\x96\x81Hello");
  EXPECT_EQ(tok->token_to_piece(15043), " Hello");
  EXPECT_EQ(tok->token_to_piece(13), "\n");  // <0x0A>
  EXPECT_EQ(tok->token_to_piece(1, true), "<s>");
  EXPECT_EQ(tok->token_to_piece(1, false), "");
  EXPECT_EQ(tok->stream_piece(15043, 1), "Hello");      // first piece after BOS loses its space
  EXPECT_EQ(tok->stream_piece(3186, 15043), " world");  // later pieces keep it
  EXPECT_TRUE(tok->is_eog(2));
  EXPECT_TRUE(tok->is_special(1));
  std::vector<int32_t> ids = {1, 15043, 3186, 2};
  EXPECT_EQ(tok->decode(ids, false), "<s> Hello world</s>");
  EXPECT_THROW(tok->token_to_piece(32000), Error);
  EXPECT_THROW(tok->token_to_piece(-5), Error);
}

TEST(TokenizerSpm, LongInputIsLinearEnough) {
  auto tok = gguf_tokenizer("vocab/ggml-vocab-llama-spm.gguf");
  std::string text = test::read_file(test::shared_path("data/tinystories-sample/tinystories.txt"));
  auto ids = tok->encode(text, {.add_special = false, .parse_special = false});
  EXPECT_GT(ids.size(), text.size() / 8);
  EXPECT_EQ(tok->decode(ids, false), text);
}

namespace {
struct PromptRef {
  std::string prompt;
  std::vector<int32_t> ids;
};
std::vector<PromptRef> prompt_refs(const std::string& dir, const std::string& variant) {
  std::vector<PromptRef> out;
  for (int i = 0; i < 4; ++i) {
    json j = json::parse(test::read_file(test::shared_path(dir + "/ref-" + variant + "-" + std::to_string(i) + ".json")));
    out.push_back({j["prompt"].get<std::string>(), j["prompt_ids"].get<std::vector<int32_t>>()});
  }
  return out;
}
}  // namespace

TEST(TokenizerSpm, Stories260KTokenizerBinAndGgufMatchRefs) {
  auto bin = load_llama2c_tokenizer(test::shared_path("models/stories260K/tok512.bin"), 512);
  auto gguf = gguf_tokenizer("models/stories260K/stories260K.gguf");
  EXPECT_EQ(bin->n_vocab(), 512);
  EXPECT_EQ(bin->bos_id(), 1);
  EXPECT_EQ(bin->eos_id(), 2);
  for (const auto& r : prompt_refs("fixtures/stories260K/refs", "f32")) {
    EXPECT_EQ(bin->encode(r.prompt), r.ids) << r.prompt;
    EXPECT_EQ(gguf->encode(r.prompt), r.ids) << r.prompt;
    EXPECT_EQ(bin->decode(r.ids, true), r.prompt);
    // llama.cpp's detokenizer drops the leading space of the first piece when no BOS precedes it.
    EXPECT_EQ(gguf->decode(std::span<const int32_t>(r.ids).subspan(1), false), r.prompt);
  }
  // Same pieces from both sources.
  for (int32_t id = 3; id < 512; ++id) ASSERT_EQ(bin->token_to_piece(id), gguf->token_to_piece(id)) << id;
  EXPECT_EQ(bin->encode(""), std::vector<int32_t>{1});
  EXPECT_TRUE(bin->encode("", {.add_special = false}).empty());
}

TEST(TokenizerSpm, TinyLlamaGgufAndLlama2TokenizerBinMatchRefs) {
  auto gguf = gguf_tokenizer("fixtures/tiny-llama/model-q8_0.gguf");
  auto bin = load_llama2c_tokenizer(test::shared_path("tokenizers/llama2/tokenizer.bin"), 32000);
  for (const auto& r : prompt_refs("fixtures/tiny-llama/refs", "q8_0")) {
    EXPECT_EQ(gguf->encode(r.prompt), r.ids) << r.prompt;
    EXPECT_EQ(bin->encode(r.prompt), r.ids) << r.prompt;
  }
  // On text without special-token markers llama2.c's encode agrees with llama.cpp on the whole corpus.
  int n = 0;
  for (const json& l : read_jsonl(test::shared_path("reference/tokenizer/llamacpp-llama-spm.jsonl"))) {
    std::string text = l["text"];
    if (text.find('<') != std::string::npos) continue;
    EXPECT_EQ(bin->encode(text, {.add_special = false}), l["ids"].get<std::vector<int32_t>>()) << text;
    ++n;
  }
  EXPECT_GT(n, 90);
}

// ---- malformed input ----
namespace {
// A minimal GGUF v3 writer (metadata only) for malformed-vocabulary tests.
class MetadataOnlyGguf {
 public:
  void str(const std::string& k, const std::string& v) { key(k, 8); put_str(v); ++n_; }
  void u32(const std::string& k, uint32_t v) { key(k, 4); put(v); ++n_; }
  void boolean(const std::string& k, bool v) { key(k, 7); put(static_cast<uint8_t>(v)); ++n_; }
  void strs(const std::string& k, const std::vector<std::string>& v) {
    key(k, 9); put(uint32_t{8}); put(static_cast<uint64_t>(v.size()));
    for (auto& s : v) put_str(s);
    ++n_;
  }
  void f32s(const std::string& k, const std::vector<float>& v) {
    key(k, 9); put(uint32_t{6}); put(static_cast<uint64_t>(v.size()));
    for (float f : v) put(f);
    ++n_;
  }
  void i32s(const std::string& k, const std::vector<int32_t>& v) {
    key(k, 9); put(uint32_t{5}); put(static_cast<uint64_t>(v.size()));
    for (int32_t x : v) put(x);
    ++n_;
  }
  std::string write(const std::string& name) const {
    std::string path = test::scratch_dir() + "/" + name;
    std::ofstream f(path, std::ios::binary);
    f.write("GGUF", 4);
    uint32_t ver = 3;
    uint64_t nt = 0, nkv = n_;
    f.write(reinterpret_cast<const char*>(&ver), 4);
    f.write(reinterpret_cast<const char*>(&nt), 8);
    f.write(reinterpret_cast<const char*>(&nkv), 8);
    f.write(body_.data(), static_cast<std::streamsize>(body_.size()));
    return path;
  }

 private:
  template <class T> void put(T v) { body_.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void put_str(const std::string& s) { put(static_cast<uint64_t>(s.size())); body_ += s; }
  void key(const std::string& k, uint32_t type) { put_str(k); put(type); }
  std::string body_;
  uint64_t n_ = 0;
};

// A small valid SPM vocabulary: <unk> <s> </s>, 256 byte tokens, then a few pieces.
MetadataOnlyGguf small_vocab(bool with_tokens = true, bool cross_word_tokens = false) {
  std::vector<std::string> toks = {"<unk>", "<s>", "</s>"};
  std::vector<int32_t> types = {2, 3, 3};
  static const char* hex = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    toks.push_back(std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">");
    types.push_back(6);
  }
  for (const char* p : {"\xE2\x96\x81", "a", "b", "ab", "\xE2\x96\x81" "ab"}) {
    toks.push_back(p);
    types.push_back(1);
  }
  std::vector<float> scores(toks.size(), 0.0f);
  for (size_t i = 259; i < toks.size(); ++i) scores[i] = -static_cast<float>(i - 258);
  scores.back() = -0.5f;
  if (cross_word_tokens) {  // tokens that join a word to the next one: 264 "b▁a" (best), 265 "b▁"
    toks.insert(toks.end(), {"b\xE2\x96\x81" "a", "b\xE2\x96\x81"});
    types.insert(types.end(), {1, 1});
    scores.insert(scores.end(), {0.0f, -0.1f});
  }
  MetadataOnlyGguf w;
  w.str("tokenizer.ggml.model", "llama");
  if (with_tokens) w.strs("tokenizer.ggml.tokens", toks);
  w.f32s("tokenizer.ggml.scores", scores);
  w.i32s("tokenizer.ggml.token_type", types);
  return w;
}

}  // namespace

TEST(TokenizerSpm, SmallSyntheticVocabMergesAndFallsBack) {
  MetadataOnlyGguf w = small_vocab();
  GgufFile g(w.write("spm-ok.gguf"));
  auto tok = load_gguf_tokenizer(g);
  // "▁ab" beats "ab" + prefix; "c" is no token -> byte fallback <0x63> = 3 + 0x63.
  EXPECT_EQ(tok->encode("abc", {.add_special = false}), (std::vector<int32_t>{263, 3 + 0x63}));
  EXPECT_EQ(tok->encode("abc"), (std::vector<int32_t>{1, 263, 3 + 0x63}));
  EXPECT_EQ(tok->decode(tok->encode("ab ba", {.add_special = false}), false), "ab ba");
  EXPECT_EQ(tok->encode("ab ab", {.add_special = false}), (std::vector<int32_t>{263, 263}));
  // With a token spanning a word boundary the merge must see the whole text: ▁ a [b▁ -> b▁a] b.
  MetadataOnlyGguf w2 = small_vocab(true, true);
  GgufFile g2(w2.write("spm-cross.gguf"));
  auto cross = load_gguf_tokenizer(g2);
  EXPECT_EQ(cross->encode("ab ab", {.add_special = false}), (std::vector<int32_t>{259, 260, 264, 261}));
  // Flags from the metadata: no space prefix, no BOS, EOS appended.
  MetadataOnlyGguf w3 = small_vocab();
  w3.boolean("tokenizer.ggml.add_space_prefix", false);
  w3.boolean("tokenizer.ggml.add_bos_token", false);
  w3.boolean("tokenizer.ggml.add_eos_token", true);
  GgufFile g3(w3.write("spm-flags.gguf"));
  auto flags = load_gguf_tokenizer(g3);
  EXPECT_FALSE(flags->add_bos());
  EXPECT_EQ(flags->encode("ab"), (std::vector<int32_t>{262, 2}));
  EXPECT_EQ(flags->stream_piece(263, -1), " ab");  // no prefix to strip at the start
  EXPECT_EQ(tok->stream_piece(263, -1), "ab");
}

TEST(TokenizerSpm, MalformedGgufVocabThrows) {
  {
    MetadataOnlyGguf w = small_vocab(false);
    GgufFile g(w.write("spm-notokens.gguf"));
    expect_error_mentioning([&] { load_gguf_tokenizer(g); }, "tokenizer.ggml.tokens");
  }
  {
    MetadataOnlyGguf w = small_vocab();
    w.u32("tokenizer.ggml.bos_token_id", 100000);
    GgufFile g(w.write("spm-badbos.gguf"));
    expect_error_mentioning([&] { load_gguf_tokenizer(g); }, "bos_token_id");
  }
  {
    MetadataOnlyGguf w = small_vocab();
    w.u32("tokenizer.ggml.eos_token_id", 264);
    GgufFile g(w.write("spm-badeos.gguf"));
    expect_error_mentioning([&] { load_gguf_tokenizer(g); }, "out of range");
  }
  {
    MetadataOnlyGguf w;
    w.str("tokenizer.ggml.model", "llama");
    w.strs("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a"});
    w.f32s("tokenizer.ggml.scores", {0, 0});
    GgufFile g(w.write("spm-badscores.gguf"));
    expect_error_mentioning([&] { load_gguf_tokenizer(g); }, "scores");
  }
  {
    MetadataOnlyGguf w;
    w.str("tokenizer.ggml.model", "llama");
    w.strs("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a"});
    w.i32s("tokenizer.ggml.token_type", {2, 3, 3, 9});
    GgufFile g(w.write("spm-badtype.gguf"));
    expect_error_mentioning([&] { load_gguf_tokenizer(g); }, "token_type");
  }
  {
    // No byte tokens and no <unk>: an unknown character cannot be encoded -> Error, not a crash.
    MetadataOnlyGguf w;
    w.str("tokenizer.ggml.model", "llama");
    w.strs("tokenizer.ggml.tokens", {"x", "<s>", "</s>", "a"});
    w.i32s("tokenizer.ggml.token_type", {1, 3, 3, 1});
    w.u32("tokenizer.ggml.unknown_token_id", 0xFFFFFFFFu);
    GgufFile g(w.write("spm-nobytes.gguf"));
    auto tok = load_gguf_tokenizer(g);
    expect_error_mentioning([&] { tok->encode("q"); }, "byte");
  }
}

TEST(TokenizerSpm, MalformedLlama2cTokenizerThrows) {
  std::string bin = test::read_file(test::shared_path("models/stories260K/tok512.bin"));
  std::string path = test::scratch_dir() + "/tok-truncated.bin";
  {
    std::ofstream f(path, std::ios::binary);
    f.write(bin.data(), static_cast<std::streamsize>(bin.size() / 2));
  }
  expect_error_mentioning([&] { load_llama2c_tokenizer(path, 512); }, "truncated");
  // A vocabulary size larger than the file holds is also caught.
  expect_error_mentioning([&] { load_llama2c_tokenizer(test::shared_path("models/stories260K/tok512.bin"), 600); },
                          "truncated");
  expect_error_mentioning([&] { load_llama2c_tokenizer(test::scratch_dir() + "/nonexistent.bin", 512); }, "open");
}
