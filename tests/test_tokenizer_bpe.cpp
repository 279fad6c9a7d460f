// Byte-level BPE tokenizer: golden ids from HF tokenizers and llama.cpp, fixtures, malformed files, token methods.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>

#include "common.hpp"
#include "gguf_edit.hpp"
#include "lmgen/error.hpp"
#include "format/gguf.hpp"
#include "format/gguf_writer.hpp"
#include "lmgen/tokenizer.hpp"
#include "tokenizer/hf_tokenizer.hpp"
#include "tokenizer/builders.hpp"

namespace {

using nlohmann::json;
using lmgen::test::shared_path;

std::vector<int32_t> ids_of(const json& j) { return j.get<std::vector<int32_t>>(); }

std::string show(const std::vector<int32_t>& v) {
  std::ostringstream s;
  s << '[';
  for (size_t i = 0; i < v.size(); ++i) s << (i ? "," : "") << v[i];
  s << ']';
  return s.str();
}

// Checks every line of a reference file; `check_decode` also compares the decoded strings.
void check_reference(const lmgen::Tokenizer& tok, const std::string& file, bool check_decode) {
  auto lines = lmgen::test::read_lines(shared_path("reference/tokenizer/" + file));
  ASSERT_GT(lines.size(), 100u) << file;
  int bad_ids = 0, bad_ws = 0, bad_dec = 0, bad_dec_ws = 0;
  lmgen::EncodeOptions plain{.add_special = false, .parse_special = true};
  lmgen::EncodeOptions with{.add_special = true, .parse_special = true};
  for (size_t n = 0; n < lines.size(); ++n) {
    json j = json::parse(lines[n]);
    std::string text = j["text"];
    auto want = ids_of(j["ids"]);
    auto want_ws = ids_of(j["ids_with_special"]);
    auto got = tok.encode(text, plain);
    auto got_ws = tok.encode(text, with);
    if (got != want) {
      ++bad_ids;
      ADD_FAILURE() << file << " line " << n + 1 << " ids\n text: " << text.substr(0, 200) << "\n want " << show(want)
                    << "\n got  " << show(got);
    }
    if (got_ws != want_ws) {
      ++bad_ws;
      ADD_FAILURE() << file << " line " << n + 1 << " ids_with_special\n want " << show(want_ws) << "\n got  "
                    << show(got_ws);
    }
    if (check_decode) {
      std::string d = tok.decode(want, false), dws = tok.decode(want_ws, false);
      if (d != j["decoded"].get<std::string>()) {
        ++bad_dec;
        ADD_FAILURE() << file << " line " << n + 1 << " decoded: want '" << j["decoded"].get<std::string>()
                      << "' got '" << d << "'";
      }
      if (dws != j["decoded_with_special"].get<std::string>()) ++bad_dec_ws;
    }
  }
  EXPECT_EQ(bad_ids, 0) << file;
  EXPECT_EQ(bad_ws, 0) << file;
  EXPECT_EQ(bad_dec, 0) << file;
  EXPECT_EQ(bad_dec_ws, 0) << file;
}

void check_hf(const std::string& name) {
  auto tok = lmgen::load_hf_tokenizer(shared_path("tokenizers/" + name + "/tokenizer.json"));
  check_reference(*tok, "hf-" + name + ".jsonl", true);
}

void check_llamacpp(const std::string& name) {
  lmgen::GgufFile g(shared_path("vocab/ggml-vocab-" + name + ".gguf"));
  auto tok = lmgen::load_gguf_tokenizer(g);
  check_reference(*tok, "llamacpp-" + name + ".jsonl", false);
}

}  // namespace

TEST(TokenizerBpeHf, Gpt2MatchesHfTokenizers) { check_hf("gpt2"); }
TEST(TokenizerBpeHf, Llama3MatchesHfTokenizers) { check_hf("llama3"); }
TEST(TokenizerBpeHf, Qwen3MatchesHfTokenizers) { check_hf("qwen3"); }

TEST(TokenizerBpeGguf, Gpt2MatchesLlamaCpp) { check_llamacpp("gpt-2"); }
TEST(TokenizerBpeGguf, GptNeoxMatchesLlamaCpp) { check_llamacpp("gpt-neox"); }
TEST(TokenizerBpeGguf, MptMatchesLlamaCpp) { check_llamacpp("mpt"); }
TEST(TokenizerBpeGguf, FalconMatchesLlamaCpp) { check_llamacpp("falcon"); }
TEST(TokenizerBpeGguf, RefactMatchesLlamaCpp) { check_llamacpp("refact"); }
TEST(TokenizerBpeGguf, StarcoderMatchesLlamaCpp) { check_llamacpp("starcoder"); }
TEST(TokenizerBpeGguf, DeepseekCoderMatchesLlamaCpp) { check_llamacpp("deepseek-coder"); }
TEST(TokenizerBpeGguf, DeepseekLlmMatchesLlamaCpp) { check_llamacpp("deepseek-llm"); }

// The llama.cpp detokenizer (with its space clean-up) reproduces llama.cpp's decoded strings.
TEST(TokenizerBpeGguf, DecodeMatchesLlamaCpp) {
  for (std::string name : {"gpt-2", "falcon", "deepseek-coder", "starcoder"}) {
    lmgen::GgufFile g(shared_path("vocab/ggml-vocab-" + name + ".gguf"));
    auto tok = lmgen::load_gguf_tokenizer(g);
    int bad = 0;
    for (const auto& line : lmgen::test::read_lines(shared_path("reference/tokenizer/llamacpp-" + name + ".jsonl"))) {
      json j = json::parse(line);
      std::string d = tok->decode(ids_of(j["ids_with_special"]), false);
      if (d != j["decoded_with_special"].get<std::string>()) {
        ++bad;
        ADD_FAILURE() << name << ": want '" << j["decoded_with_special"].get<std::string>() << "' got '" << d << "'";
      }
    }
    EXPECT_EQ(bad, 0) << name;
  }
}

// Fixture models: the prompt ids recorded with each reference run, through the GGUF and through tokenizer.json.
TEST(TokenizerBpeFixtures, PromptIdsMatch) {
  for (std::string fx : {"tiny-qwen2", "tiny-gpt2"}) {
    lmgen::GgufFile g(shared_path("fixtures/" + fx + "/model-q8_0.gguf"));
    auto from_gguf = lmgen::load_gguf_tokenizer(g);
    auto from_hf = lmgen::load_hf_tokenizer(shared_path("fixtures/" + fx + "/hf/tokenizer.json"));
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(shared_path("fixtures/" + fx + "/refs"))) {
      if (e.path().extension() != ".json") continue;
      json j = json::parse(lmgen::test::read_file(e.path().string()));
      if (!j.contains("prompt_ids")) continue;
      std::string prompt = j["prompt"];
      bool add = j.value("add_bos", false);
      auto want = ids_of(j["prompt_ids"]);
      lmgen::EncodeOptions opt{.add_special = add, .parse_special = true};
      EXPECT_EQ(from_gguf->encode(prompt, opt), want) << fx << " gguf " << e.path();
      EXPECT_EQ(from_hf->encode(prompt, opt), want) << fx << " hf " << e.path();
      ++n;
    }
    EXPECT_GT(n, 0) << fx;
  }
}

TEST(TokenizerBpe, TokenMethodsGpt2) {
  auto tok = lmgen::load_hf_tokenizer(shared_path("tokenizers/gpt2/tokenizer.json"));
  EXPECT_EQ(tok->n_vocab(), 50257);
  auto ids = tok->encode("Hello world<|endoftext|>", {.add_special = true, .parse_special = true});
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[2], 50256);
  EXPECT_EQ(tok->token_text(ids[1]), "\xC4\xA0world");  // "Ġworld"
  EXPECT_EQ(tok->token_to_piece(ids[1]), " world");
  EXPECT_TRUE(tok->is_special(50256));
  EXPECT_TRUE(tok->is_eog(50256));
  EXPECT_FALSE(tok->is_eog(ids[0]));
  EXPECT_EQ(tok->token_to_piece(50256, true), "<|endoftext|>");
  EXPECT_EQ(tok->token_to_piece(50256, false), "");
  EXPECT_EQ(tok->decode(ids, true), "Hello world");
  EXPECT_EQ(tok->eos_id(), 50256);
  EXPECT_FALSE(tok->add_bos());
  // Without parse_special the marker is ordinary text.
  auto lit = tok->encode("<|endoftext|>", {.add_special = false, .parse_special = false});
  EXPECT_GT(lit.size(), 1u);
  EXPECT_EQ(tok->decode(lit), "<|endoftext|>");
  // A byte that is half of a UTF-8 character decodes to raw bytes piecewise, and to U+FFFD alone.
  auto e = tok->encode("\xC3\xA9", {.add_special = false});
  std::string joined;
  for (int32_t id : e) joined += tok->token_to_piece(id);
  EXPECT_EQ(joined, "\xC3\xA9");
}

TEST(TokenizerBpe, EogAndSpecialsQwen3) {
  auto tok = lmgen::load_hf_tokenizer(shared_path("tokenizers/qwen3/tokenizer.json"));
  auto im_end = tok->encode("<|im_end|>", {.add_special = false});
  ASSERT_EQ(im_end.size(), 1u);
  EXPECT_TRUE(tok->is_eog(im_end[0]));
  EXPECT_TRUE(tok->is_special(im_end[0]));
  auto think = tok->encode("<think>", {.add_special = false, .parse_special = false});
  ASSERT_EQ(think.size(), 1u);  // non-special added tokens are always matched
  EXPECT_FALSE(tok->is_special(think[0]));
  EXPECT_EQ(tok->token_to_piece(think[0], false), "<think>");
  EXPECT_FALSE(tok->is_eog(think[0]));
}

TEST(TokenizerBpe, GgufSpecialTokensAndBos) {
  lmgen::GgufFile g(shared_path("vocab/ggml-vocab-deepseek-coder.gguf"));
  auto tok = lmgen::load_gguf_tokenizer(g);
  EXPECT_TRUE(tok->add_bos());
  auto a = tok->encode("hi", {.add_special = true});
  auto b = tok->encode("hi", {.add_special = false});
  ASSERT_EQ(a.size(), b.size() + 1);
  EXPECT_EQ(a[0], tok->bos_id());
  EXPECT_TRUE(tok->is_eog(tok->eos_id()));
}

namespace {
std::string write_tmp(const std::string& name, const std::string& content) {
  auto dir = std::filesystem::path(lmgen::test::scratch_dir()) / name;
  std::filesystem::create_directories(dir);
  auto p = dir / "tokenizer.json";
  std::ofstream(p, std::ios::binary) << content;
  return p.string();
}

json tiny_tokenizer() {
  json vocab = json::object();
  for (int b = 33; b < 127; ++b) vocab[std::string(1, static_cast<char>(b))] = b - 33;
  vocab["\xC4\xA0"] = 94;  // "Ġ"
  vocab["ab"] = 95;
  return json{{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", json::array({"a b"})}}},
              {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
              {"decoder", {{"type", "ByteLevel"}}},
              {"added_tokens", json::array()}};
}
}  // namespace

TEST(TokenizerBpe, TinyJsonWorks) {
  auto tok = lmgen::load_hf_tokenizer(write_tmp("ok", tiny_tokenizer().dump()));
  EXPECT_EQ(tok->encode("ab a", {.add_special = false}), (std::vector<int32_t>{95, 94, 'a' - 33}));
  EXPECT_EQ(tok->decode(std::vector<int32_t>{95, 94, 0}), "ab !");
}

TEST(TokenizerBpe, MalformedFilesThrow) {
  std::string good = tiny_tokenizer().dump();
  EXPECT_THROW(lmgen::load_hf_tokenizer(write_tmp("trunc", good.substr(0, good.size() / 2))), lmgen::Error);
  {
    json j = tiny_tokenizer();
    j["model"]["merges"] = json::array({"a zz"});
    EXPECT_THROW(lmgen::load_hf_tokenizer(write_tmp("merge_unknown", j.dump())), lmgen::Error);
  }
  {
    json j = tiny_tokenizer();
    j["model"]["merges"] = json::array({"abc"});
    EXPECT_THROW(lmgen::load_hf_tokenizer(write_tmp("merge_bad", j.dump())), lmgen::Error);
  }
  {
    json j = tiny_tokenizer();
    j["model"]["vocab"]["zz"] = 4000000000LL;
    EXPECT_THROW(lmgen::load_hf_tokenizer(write_tmp("id_big", j.dump())), lmgen::Error);
  }
  {
    json j = tiny_tokenizer();
    j["model"]["vocab"]["zz"] = -3;
    EXPECT_THROW(lmgen::load_hf_tokenizer(write_tmp("id_neg", j.dump())), lmgen::Error);
  }
  {
    json j = tiny_tokenizer();
    j["added_tokens"] = json::array({json{{"id", 1LL << 40}, {"content", "<x>"}}});
    EXPECT_THROW(lmgen::load_hf_tokenizer(write_tmp("added_big", j.dump())), lmgen::Error);
  }
  {
    json j = tiny_tokenizer();
    j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
    EXPECT_THROW(lmgen::load_hf_tokenizer(write_tmp("bad_regex", j.dump())), lmgen::Error);
  }
  {
    json j = tiny_tokenizer();
    j["model"]["vocab"] = json::array();
    EXPECT_THROW(lmgen::load_hf_tokenizer(write_tmp("vocab_array", j.dump())), lmgen::Error);
  }
  for (const char* what : {"pre_tokenizer", "normalizer"}) {  // deep nesting is refused, not recursed into
    std::string open, close;
    std::string list = std::string(what) == "normalizer" ? "normalizers" : "pretokenizers";
    for (int i = 0; i < 50000; ++i) open += R"({"type":"Sequence",")" + list + R"(":[)", close += "]}";
    json j = tiny_tokenizer();
    j.erase(what);
    std::string text = j.dump();
    text.insert(1, "\"" + std::string(what) + "\":" + open + R"({"type":"NFC"})" + close + ",");
    EXPECT_THROW(lmgen::load_hf_tokenizer(write_tmp(std::string("deep_") + what, text)), lmgen::Error) << what;
  }
}

TEST(TokenizerBpe, IsByteLevel) {
  json j = tiny_tokenizer();
  EXPECT_TRUE(lmgen::hf_tokenizer_is_byte_level(j));
  j["pre_tokenizer"] = {{"type", "Sequence"},
                        {"pretokenizers", json::array({json{{"type", "Digits"}}, json{{"type", "ByteLevel"}}})}};
  EXPECT_TRUE(lmgen::hf_tokenizer_is_byte_level(j));
  j["pre_tokenizer"] = {{"type", "Metaspace"}};
  j["decoder"] = {{"type", "Sequence"}, {"decoders", json::array({json{{"type", "ByteFallback"}}})}};
  EXPECT_FALSE(lmgen::hf_tokenizer_is_byte_level(j));
  j["decoder"] = nullptr;
  j["pre_tokenizer"] = nullptr;
  EXPECT_FALSE(lmgen::hf_tokenizer_is_byte_level(j));
}

// Byte-level BPE is lossless when the vocabulary has all 256 byte tokens (GPT-2 has; StarCoder lacks bytes that
// never occur in UTF-8, such as 0xF7): for arbitrary bytes, invalid UTF-8 included, the pieces give back the input.
TEST(TokenizerBpe, ArbitraryBytesRoundTrip) {
  auto hf = lmgen::load_hf_tokenizer(shared_path("tokenizers/gpt2/tokenizer.json"));
  lmgen::GgufFile g(shared_path("vocab/ggml-vocab-gpt-2.gguf"));
  auto gg = lmgen::load_gguf_tokenizer(g);
  uint32_t seed = 12345;
  auto rnd = [&] { return seed = seed * 1664525u + 1013904223u, seed >> 24; };
  for (int n = 0; n < 300; ++n) {
    std::string s;
    size_t len = rnd() % 40;
    for (size_t k = 0; k < len; ++k) {
      uint32_t r = rnd();
      s.push_back(static_cast<char>(r < 128 ? " a1'\n\t.\xC3\xE2\x80\xFF"[r % 12] : rnd()));
    }
    for (const lmgen::Tokenizer* t : {hf.get(), gg.get()}) {
      auto ids = t->encode(s, {.add_special = false, .parse_special = false});
      std::string back;
      for (int32_t id : ids) back += t->token_to_piece(id);
      ASSERT_EQ(back, s) << "case " << n;
    }
  }
}

TEST(TokenizerBpeGguf, MalformedVocabThrowsOrDegradesLikeLlamaCpp) {
  const std::string src = shared_path("vocab/ggml-vocab-gpt-2.gguf");
  auto load = [](const std::string& p) {
    lmgen::GgufFile g(p);
    return lmgen::load_gguf_tokenizer(g);
  };
  EXPECT_THROW(load(lmgen::test::edited_gguf(src, "no_merges", [](auto& w) { w.remove("tokenizer.ggml.merges"); })), lmgen::Error);
  EXPECT_THROW(load(lmgen::test::edited_gguf(src, "bad_pre", [](auto& w) { w.set_string("tokenizer.ggml.pre", "no-such-pre"); })),
               lmgen::Error);
  EXPECT_THROW(load(lmgen::test::edited_gguf(src, "short_types",
                                [](auto& w) { w.set_i32_array("tokenizer.ggml.token_type", {1, 1, 1}); })),
               lmgen::Error);
  EXPECT_THROW(load(lmgen::test::edited_gguf(src, "no_tokens", [](auto& w) { w.remove("tokenizer.ggml.tokens"); })), lmgen::Error);
  // llama.cpp ignores an out-of-range special id and merges naming unknown tokens; so does lmgen.
  auto tok = load(lmgen::test::edited_gguf(src, "odd", [](auto& w) {
    w.set_u32("tokenizer.ggml.eos_token_id", 999999999u);
    w.set_string_array("tokenizer.ggml.merges", std::vector<std::string>{"zzzq yyyq", "nospace", "\xC4\xA0 t"});
  }));
  EXPECT_LT(tok->eos_id(), tok->n_vocab());
  auto ids = tok->encode(" the", {.add_special = false});
  std::string back;
  for (int32_t id : ids) back += tok->token_to_piece(id);
  EXPECT_EQ(back, " the");
  EXPECT_EQ(ids.size(), 3u);  // only "Ġ t" is left to merge: "Ġt" "h" "e"
}

// The llama-bpe (Llama 3) GGUF path: a vocabulary built from the Llama 3 tokenizer.json gives HF's ids on the corpus
// (llama.cpp's regex spells (?i:'s|...) as '[sS]... and skips merges for whole-vocabulary words, as HF does), and
// llama.cpp adds BOS for this pre-tokenizer type.
TEST(TokenizerBpeGguf, Llama3VocabAsGguf) {
  json tj = json::parse(lmgen::test::read_file(shared_path("tokenizers/llama3/tokenizer.json")));
  std::vector<std::string> tokens(128256);
  std::vector<int32_t> types(128256, 1);
  for (auto it = tj["model"]["vocab"].begin(); it != tj["model"]["vocab"].end(); ++it) tokens[it.value()] = it.key();
  for (const auto& a : tj["added_tokens"]) {
    tokens[a["id"].get<int>()] = a["content"];
    types[a["id"].get<int>()] = 3;
  }
  std::vector<std::string> merges;
  for (const auto& m : tj["model"]["merges"]) merges.push_back(m.get<std::string>());
  tj = json();
  lmgen::GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", "llama-bpe");
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  w.set_i32_array("tokenizer.ggml.token_type", types);
  w.set_string_array("tokenizer.ggml.merges", merges);
  w.set_u32("tokenizer.ggml.bos_token_id", 128000);
  w.set_u32("tokenizer.ggml.eos_token_id", 128001);
  std::string path = lmgen::test::scratch_dir() + "/llama3-vocab.gguf";
  w.write(path);
  lmgen::GgufFile g(path);
  auto tok = lmgen::load_gguf_tokenizer(g);
  EXPECT_TRUE(tok->add_bos());
  int n = 0, bad = 0;
  for (const auto& line : lmgen::test::read_lines(shared_path("reference/tokenizer/hf-llama3.jsonl"))) {
    json j = json::parse(line);
    auto want = ids_of(j["ids"]);
    auto got = tok->encode(j["text"].get<std::string>(), {.add_special = false});
    if (got != want) {
      ++bad;
      ADD_FAILURE() << "line " << n + 1 << "\n want " << show(want) << "\n got  " << show(got);
    }
    auto with = tok->encode(j["text"].get<std::string>(), {.add_special = true});
    ASSERT_FALSE(with.empty());
    EXPECT_EQ(with[0], 128000);
    ++n;
  }
  EXPECT_EQ(bad, 0);
  EXPECT_TRUE(tok->is_eog(128001));
  EXPECT_TRUE(tok->is_eog(128009));  // <|eot_id|>
}
