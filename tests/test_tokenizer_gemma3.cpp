// Gemma 3's real tokenizer.json (262k-token BPE with byte fallback, Replace normalizer, Split pre-tokenizer on
// spaces) against the HF tokenizers library's ids and decodes (reference/tokenizer/hf-gemma3.jsonl).
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "common.hpp"
#include "lmgen/tokenizer.hpp"
#include "tokenizer/builders.hpp"

namespace {

using nlohmann::json;
using lmgen::test::shared_path;

const lmgen::Tokenizer& gemma3() {
  static std::unique_ptr<lmgen::Tokenizer> tok =
      lmgen::load_hf_tokenizer(shared_path("tokenizers/gemma3/tokenizer.json"));
  return *tok;
}

TEST(TokenizerGemma3, MatchesHfTokenizers) {
  const lmgen::Tokenizer& tok = gemma3();
  auto lines = lmgen::test::read_lines(shared_path("reference/tokenizer/hf-gemma3.jsonl"));
  ASSERT_EQ(lines.size(), 109u);
  int bad = 0;
  for (size_t n = 0; n < lines.size(); ++n) {
    json j = json::parse(lines[n]);
    std::string text = j["text"];
    auto want = j["ids"].get<std::vector<int32_t>>();
    auto want_ws = j["ids_with_special"].get<std::vector<int32_t>>();
    auto got = tok.encode(text, {.add_special = false, .parse_special = true});
    auto got_ws = tok.encode(text, {.add_special = true, .parse_special = true});
    std::string dec = tok.decode(want, false), dec_ws = tok.decode(want_ws, false);
    bool ok = got == want && got_ws == want_ws && dec == j["decoded"].get<std::string>() &&
              dec_ws == j["decoded_with_special"].get<std::string>();
    if (!ok) {
      ++bad;
      ADD_FAILURE() << "line " << n + 1 << ": " << text.substr(0, 120);
    }
  }
  EXPECT_EQ(bad, 0);
}

TEST(TokenizerGemma3, SpecialsAndPieces) {
  const lmgen::Tokenizer& tok = gemma3();
  EXPECT_EQ(tok.n_vocab(), 262145);  // 262144 model tokens and the added <image_soft_token>
  EXPECT_EQ(tok.token_text(262144), "<image_soft_token>");
  EXPECT_EQ(tok.bos_id(), 2);
  EXPECT_TRUE(tok.add_bos());
  EXPECT_EQ(tok.token_text(2), "<bos>");
  EXPECT_TRUE(tok.is_special(2));
  // <end_of_turn> ends a turn.
  auto eot = tok.encode("<end_of_turn>", {.add_special = false, .parse_special = true});
  ASSERT_EQ(eot.size(), 1u);
  EXPECT_TRUE(tok.is_eog(eot[0]));
  // A character the vocabulary lacks falls back to byte tokens, whose pieces are the raw bytes.
  std::string odd = "\xF4\x8F\xBF\xBF";  // U+10FFFF
  auto ids = tok.encode(odd, {.add_special = false});
  std::string joined;
  for (int32_t id : ids) joined += tok.token_to_piece(id);
  EXPECT_EQ(joined, odd);
  EXPECT_EQ(tok.decode(ids), odd);
}

}  // namespace
