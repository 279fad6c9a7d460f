// SentencePiece-style tokenizers: GGUF "llama" vocabularies against llama.cpp's golden tokenizations, HF
// Llama-2 tokenizer.json against the HF tokenizers library's, llama2.c tokenizer.bin against the model refs.
#include <nlohmann/json.hpp>

#include <cstring>
#include <functional>
#include <span>
#include <fstream>

#include "common.hpp"
#include "lmgen/error.hpp"
#include "format/gguf.hpp"
#include "lmgen/tokenizer.hpp"
#include "tokenizer/builders.hpp"

using namespace lmgen;
using nlohmann::json;

namespace {

std::vector<json> read_jsonl(const std::string& path) {
  std::vector<json> out;
  for (const std::string& line : test::read_lines(path))
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

std::string show(const std::vector<int32_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(v[i]);
  }
  return s + "]";
}

std::unique_ptr<Tokenizer> gguf_tokenizer(const std::string& rel) {
  GgufFile g(test::shared_path(rel));
  return load_gguf_tokenizer(g);
}

// Every line: ids (add_special=false) and ids_with_special (add_special=true), parse_special in both.
// Returns the number of lines that matched both.
int check_golden(const Tokenizer& tok, const std::string& jsonl, bool check_decoded_exactly) {
  auto lines = read_jsonl(test::shared_path(jsonl));
  EXPECT_EQ(lines.size(), 109u) << jsonl;
  int ok = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const json& l = lines[i];
    std::string text = l["text"];
    auto want = l["ids"].get<std::vector<int32_t>>();
    auto want_sp = l["ids_with_special"].get<std::vector<int32_t>>();
    auto got = tok.encode(text, {.add_special = false, .parse_special = true});
    auto got_sp = tok.encode(text, {.add_special = true, .parse_special = true});
    EXPECT_EQ(got, want) << jsonl << " line " << i + 1 << " ids: " << show(got) << " want " << show(want);
    EXPECT_EQ(got_sp, want_sp) << jsonl << " line " << i + 1 << " ids_with_special";
    bool line_ok = got == want && got_sp == want_sp;
    std::string dec = tok.decode(want, false);
    if (check_decoded_exactly) {
      EXPECT_EQ(dec, l["decoded"].get<std::string>()) << jsonl << " line " << i + 1 << " decoded";
      EXPECT_EQ(tok.decode(want_sp, false), l["decoded_with_special"].get<std::string>())
          << jsonl << " line " << i + 1 << " decoded_with_special";
      line_ok = line_ok && dec == l["decoded"].get<std::string>();
    } else if (l["decoded"] == l["text"]) {
      EXPECT_EQ(dec, text) << jsonl << " line " << i + 1 << " decode round trip";
    }
    ok += line_ok;
  }
  return ok;
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
class GgufWriter {
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
GgufWriter small_vocab(bool with_tokens = true, bool cross_word_tokens = false) {
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
  GgufWriter w;
  w.str("tokenizer.ggml.model", "llama");
  if (with_tokens) w.strs("tokenizer.ggml.tokens", toks);
  w.f32s("tokenizer.ggml.scores", scores);
  w.i32s("tokenizer.ggml.token_type", types);
  return w;
}

void expect_error_mentioning(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one mentioning " << needle;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not an lmgen::Error: " << e.what();
  }
}
}  // namespace

TEST(TokenizerSpm, SmallSyntheticVocabMergesAndFallsBack) {
  GgufWriter w = small_vocab();
  GgufFile g(w.write("spm-ok.gguf"));
  auto tok = load_gguf_tokenizer(g);
  // "▁ab" beats "ab" + prefix; "c" is no token -> byte fallback <0x63> = 3 + 0x63.
  EXPECT_EQ(tok->encode("abc", {.add_special = false}), (std::vector<int32_t>{263, 3 + 0x63}));
  EXPECT_EQ(tok->encode("abc"), (std::vector<int32_t>{1, 263, 3 + 0x63}));
  EXPECT_EQ(tok->decode(tok->encode("ab ba", {.add_special = false}), false), "ab ba");
  EXPECT_EQ(tok->encode("ab ab", {.add_special = false}), (std::vector<int32_t>{263, 263}));
  // With a token spanning a word boundary the merge must see the whole text: ▁ a [b▁ -> b▁a] b.
  GgufWriter w2 = small_vocab(true, true);
  GgufFile g2(w2.write("spm-cross.gguf"));
  auto cross = load_gguf_tokenizer(g2);
  EXPECT_EQ(cross->encode("ab ab", {.add_special = false}), (std::vector<int32_t>{259, 260, 264, 261}));
  // Flags from the metadata: no space prefix, no BOS, EOS appended.
  GgufWriter w3 = small_vocab();
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
    GgufWriter w = small_vocab(false);
    GgufFile g(w.write("spm-notokens.gguf"));
    expect_error_mentioning([&] { load_gguf_tokenizer(g); }, "tokenizer.ggml.tokens");
  }
  {
    GgufWriter w = small_vocab();
    w.u32("tokenizer.ggml.bos_token_id", 100000);
    GgufFile g(w.write("spm-badbos.gguf"));
    expect_error_mentioning([&] { load_gguf_tokenizer(g); }, "bos_token_id");
  }
  {
    GgufWriter w = small_vocab();
    w.u32("tokenizer.ggml.eos_token_id", 264);
    GgufFile g(w.write("spm-badeos.gguf"));
    expect_error_mentioning([&] { load_gguf_tokenizer(g); }, "out of range");
  }
  {
    GgufWriter w;
    w.str("tokenizer.ggml.model", "llama");
    w.strs("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a"});
    w.f32s("tokenizer.ggml.scores", {0, 0});
    GgufFile g(w.write("spm-badscores.gguf"));
    expect_error_mentioning([&] { load_gguf_tokenizer(g); }, "scores");
  }
  {
    GgufWriter w;
    w.str("tokenizer.ggml.model", "llama");
    w.strs("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a"});
    w.i32s("tokenizer.ggml.token_type", {2, 3, 3, 9});
    GgufFile g(w.write("spm-badtype.gguf"));
    expect_error_mentioning([&] { load_gguf_tokenizer(g); }, "token_type");
  }
  {
    // No byte tokens and no <unk>: an unknown character cannot be encoded -> Error, not a crash.
    GgufWriter w;
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

// ---- HF tokenizer.json (Llama-2) ----

TEST(TokenizerSpm, HfLlama2JsonMatchesHfTokenizers) {
  auto tok = load_hf_tokenizer(test::shared_path("tokenizers/llama2/tokenizer.json"));
  EXPECT_EQ(tok->n_vocab(), 32000);
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
  EXPECT_TRUE(tok->add_bos());
  EXPECT_TRUE(tok->is_eog(2));
  EXPECT_TRUE(tok->is_special(1));
  EXPECT_FALSE(tok->is_special(15043));
  EXPECT_EQ(check_golden(*tok, "reference/tokenizer/hf-llama2.jsonl", true), 109);
  // Directory form finds the same tokenizer.
  auto dir = load_tokenizer(test::shared_path("tokenizers/llama2"));
  EXPECT_EQ(dir->encode("Hello world"), tok->encode("Hello world"));
}

TEST(TokenizerSpm, HfLlama2PiecesAndSkipSpecial) {
  auto tok = load_hf_tokenizer(test::shared_path("tokenizers/llama2/tokenizer.json"));
  EXPECT_EQ(tok->token_to_piece(15043), " Hello");
  EXPECT_EQ(tok->token_to_piece(13), "\n");
  EXPECT_EQ(tok->token_to_piece(1, false), "");
  EXPECT_EQ(tok->token_to_piece(1, true), "<s>");
  EXPECT_EQ(tok->stream_piece(15043, 1), "Hello");
  std::vector<int32_t> ids = {1, 15043, 3186, 2};
  EXPECT_EQ(tok->decode(ids, true), "Hello world");
  EXPECT_EQ(tok->decode(ids, false), "<s> Hello world</s>");
  // An incomplete UTF-8 byte sequence decodes to one U+FFFD per byte token, as HF's ByteFallback.
  std::vector<int32_t> partial = {243, 162};
  EXPECT_EQ(tok->decode(partial, false), "\xEF\xBF\xBD\xEF\xBF\xBD");
  // parse_special = false: "<s>" is text, not BOS.
  auto plain = tok->encode("<s>", {.add_special = false, .parse_special = false});
  EXPECT_EQ(std::find(plain.begin(), plain.end(), 1), plain.end());
}

namespace {
json llama2_json() {
  return json::parse(test::read_file(test::shared_path("tokenizers/llama2/tokenizer.json")));
}
std::string write_json(const json& j, const std::string& name) {
  std::string dir = test::scratch_dir() + "/" + name;
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/tokenizer.json") << j.dump();
  return dir + "/tokenizer.json";
}
}  // namespace

TEST(TokenizerSpm, HfMergesAsStringsAndMetaspaceVariant) {
  json j = llama2_json();
  for (auto& m : j["model"]["merges"]) {
    if (m.is_array()) {
      std::string a = m[0], b = m[1];
      m = a + " " + b;
    }
  }
  auto str_tok = load_hf_tokenizer(write_json(j, "llama2-string-merges"));
  // Metaspace pre-tokenizer + decoder instead of the Prepend/Replace normalizer (HF "legacy": false layout).
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}, {"prepend_scheme", "first"},
                        {"split", false}};
  j["decoder"] = {{"type", "Sequence"},
                  {"decoders", json::array({{{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"},
                                             {"prepend_scheme", "first"}, {"split", false}},
                                            {{"type", "ByteFallback"}},
                                            {{"type", "Fuse"}}})}};
  auto meta_tok = load_hf_tokenizer(write_json(j, "llama2-metaspace"));
  int n = 0;
  for (const json& l : read_jsonl(test::shared_path("reference/tokenizer/hf-llama2.jsonl"))) {
    std::string text = l["text"];
    auto want = l["ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(str_tok->encode(text, {.add_special = false}), want) << text;
    if (text.empty() || text[0] == ' ' || text.find('<') != std::string::npos) continue;
    EXPECT_EQ(meta_tok->encode(text, {.add_special = false}), want) << text;
    if (l["decoded"] == text) {
      EXPECT_EQ(meta_tok->decode(want, false), text);
    }
    ++n;
  }
  EXPECT_GT(n, 80);
  // Metaspace does not add a second "▁" to text that already starts with a space.
  EXPECT_EQ(meta_tok->encode(" Hello", {.add_special = false}), (std::vector<int32_t>{15043}));
}

TEST(TokenizerSpm, HfAddedTokenStripFlags) {
  auto base = load_hf_tokenizer(test::shared_path("tokenizers/llama2/tokenizer.json"));
  auto with_token = [&](bool strip, const std::string& name) {
    json j = llama2_json();
    j["added_tokens"].push_back({{"id", 32000}, {"content", "<|end|>"}, {"single_word", false}, {"lstrip", strip},
                                 {"rstrip", strip}, {"normalized", false}, {"special", true}});
    return load_hf_tokenizer(write_json(j, name));
  };
  EncodeOptions plain{.add_special = false, .parse_special = true};
  auto cat = [](std::vector<int32_t> a, const std::vector<int32_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  // Non-normalized added tokens split the raw text; each remaining piece is normalized (gets its own "▁").
  auto stripping = with_token(true, "added-strip");
  EXPECT_EQ(stripping->n_vocab(), 32001);
  EXPECT_EQ(stripping->encode("Hi <|end|> there", plain),
            cat(cat(base->encode("Hi", plain), {32000}), base->encode("there", plain)));
  auto keeping = with_token(false, "added-nostrip");
  EXPECT_EQ(keeping->encode("Hi <|end|> there", plain),
            cat(cat(base->encode("Hi ", plain), {32000}), base->encode(" there", plain)));
  EXPECT_TRUE(keeping->is_special(32000));
  EXPECT_EQ(keeping->decode(std::vector<int32_t>{32000}, true), "");
  // Not matched when special-token parsing is off.
  auto off = keeping->encode("<|end|>", {.add_special = false, .parse_special = false});
  EXPECT_EQ(std::find(off.begin(), off.end(), 32000), off.end());
}

TEST(TokenizerSpm, MalformedHfJsonThrows) {
  {
    json j = llama2_json();
    j["model"]["merges"].push_back(json::array({"\xE2\x96\x81Hello", "nonexistent-token"}));
    std::string p = write_json(j, "bad-merge");
    expect_error_mentioning([&] { load_hf_tokenizer(p); }, "nonexistent-token");
  }
  {
    json j = llama2_json();
    j["model"].erase("vocab");
    std::string p = write_json(j, "no-vocab");
    expect_error_mentioning([&] { load_hf_tokenizer(p); }, "vocab");
  }
  {
    json j = llama2_json();
    j["added_tokens"].push_back({{"id", -4}, {"content", "<bad>"}, {"special", true}});
    std::string p = write_json(j, "bad-added");
    expect_error_mentioning([&] { load_hf_tokenizer(p); }, "<bad>");
  }
  {
    json j = llama2_json();
    j["post_processor"]["special_tokens"]["<s>"]["ids"] = json::array({40000});
    std::string p = write_json(j, "bad-template");
    expect_error_mentioning([&] { load_hf_tokenizer(p); }, "40000");
  }
  {
    // Ids far beyond the number of tokens are refused instead of allocating a huge id table.
    json j = {{"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", 16777215}}}, {"merges", json::array()}}}};
    std::string p = write_json(j, "sparse");
    expect_error_mentioning([&] { load_hf_tokenizer(p); }, "16777215");
  }
  {
    // Deeply nested Sequences are refused, not followed until the stack runs out.
    std::string deep;
    for (int i = 0; i < 100000; ++i) deep += R"({"type":"Sequence","normalizers":[)";
    deep += R"({"type":"Lowercase"})";
    for (int i = 0; i < 100000; ++i) deep += "]}";
    std::string dir = test::scratch_dir() + "/deep-normalizer";
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/tokenizer.json")
        << R"({"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":[]},"normalizer":)" + deep + "}";
    expect_error_mentioning([&] { load_hf_tokenizer(dir + "/tokenizer.json"); }, "nested");
  }
  {
    json j = llama2_json();
    j["model"]["merges"][0] = 42;
    std::string p = write_json(j, "bad-merge-type");
    expect_error_mentioning([&] { load_hf_tokenizer(p); }, "merge 0");
  }
}
