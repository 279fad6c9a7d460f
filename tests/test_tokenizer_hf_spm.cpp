// SentencePiece-style tokenizer.json (Llama 2's): the HF tokenizers library's golden ids, pieces, merges given as
// strings, the Metaspace variants, added-token strip flags, and malformed files. (The GGUF / llama2.c SentencePiece
// tokenizers are in test_tokenizer_spm.cpp.)
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>

#include "common.hpp"
#include "tokenizer_golden.hpp"
#include "lmgen/error.hpp"
#include "lmgen/tokenizer.hpp"
#include "tokenizer/builders.hpp"

using namespace lmgen;
using nlohmann::json;
using test::check_golden;
using test::expect_error_mentioning;
using test::read_jsonl;

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
