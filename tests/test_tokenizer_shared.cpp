// The pieces shared by every tokenizer source: the llama.cpp special-token splitter, the rank-ordered BPE merge
// engine, the vocabulary table, the HF pre-tokenizer and normalizer built from JSON, and the UTF-8 helper. Each is checked where the
// two copies it replaces could have differed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tokenizer/bpe_merge.hpp"
#include "tokenizer/hf/normalizer.hpp"
#include "tokenizer/pretokenizer.hpp"
#include "tokenizer/special_split.hpp"
#include "tokenizer/vocab.hpp"
#include "util/utf8.hpp"

namespace {

using nlohmann::json;

// Fragments as readable strings: "#id" for a token, the text otherwise.
std::vector<std::string> show(std::string_view text, const std::vector<lmgen::Fragment>& frags) {
  std::vector<std::string> out;
  for (const auto& f : frags)
    out.push_back(f.token >= 0 ? "#" + std::to_string(f.token) : std::string(text.substr(f.begin, f.end - f.begin)));
  return out;
}

TEST(TokenizerShared, SpecialSplitLongestFirstAndOverlaps) {
  // Longest first: "<a><b>" wins over "<a>" where both match; "abc" and "bcd" overlap in "abcd": the one given
  // first (equal lengths keep the vocabulary order) takes the text and the other no longer matches.
  std::vector<lmgen::SpecialText> sp = {{7, "<a><b>", true}, {1, "abc", true}, {2, "bcd", true}, {5, "<a>", true}};
  std::vector<lmgen::Fragment> f;
  std::string text = "x<a><b>y<a>abcd";
  lmgen::split_specials(text, sp, true, f);
  EXPECT_EQ(show(text, f), (std::vector<std::string>{"x", "#7", "y", "#5", "#1", "d"}));
  // Without parse_special, control tokens stay text; a user-defined one (needs_parse_special false) is still cut.
  sp[3].needs_parse_special = false;
  lmgen::split_specials(text, sp, false, f);
  EXPECT_EQ(show(text, f), (std::vector<std::string>{"x", "#5", "<b>y", "#5", "abcd"}));
  // lstrip / rstrip swallow the ASCII whitespace next to a match, not beyond the fragment.
  std::vector<lmgen::SpecialText> strip = {{3, "<s>", true, true, true}};
  text = "a  <s>  b";
  lmgen::split_specials(text, strip, true, f);
  EXPECT_EQ(show(text, f), (std::vector<std::string>{"a", "#3", "b"}));
  text = "";
  lmgen::split_specials(text, strip, true, f);
  EXPECT_TRUE(f.empty());
}

TEST(TokenizerShared, VocabLaterDuplicateWinsAndMovesKeepTheIndex) {
  lmgen::Vocab v;
  v.assign({"<unk>", "a long token text", "<0x41>", "x", "a long token text"}, {0, 1, 2, 3, 4},
           {lmgen::Vocab::kUnknown, lmgen::Vocab::kNormal, lmgen::Vocab::kByte});
  EXPECT_EQ(v.find("a long token text"), 4);  // the later duplicate wins
  EXPECT_EQ(v.find("a long token tex"), -1);
  EXPECT_EQ(v.byte_piece_id(0x41), 2);
  EXPECT_EQ(v.byte_piece_id(0x42), -1);
  EXPECT_EQ(v.attr(3), lmgen::Vocab::kNormal);  // missing attributes are kNormal
  EXPECT_TRUE(v.is_special(0));
  EXPECT_FALSE(v.is_special(1));
  // The index follows the table it was moved with, and the moved-from vocabulary is empty.
  lmgen::Vocab w(std::move(v));
  EXPECT_EQ(v.size(), 0);
  EXPECT_EQ(v.find("x"), -1);
  lmgen::Vocab u;
  u = std::move(w);
  EXPECT_EQ(u.find("a long token text"), 4);
  EXPECT_EQ(u.find("x"), 3);
  EXPECT_EQ(u.score(4), 4.0f);
  // Token by token: only indexed texts are found.
  u.assign_empty(3, 1);
  u.set_text(0, "model token", true);
  u.set_text(2, "added", false);
  EXPECT_EQ(u.find("model token"), 0);
  EXPECT_EQ(u.find("added"), -1);
  EXPECT_EQ(u.text(2), "added");
}

TEST(TokenizerShared, MergeEngineRankOrderLeftmostAndLongWords) {
  // ids: a=0 b=1 c=2 ab=3 bc=4 aa=5 aaaa=6
  lmgen::bpe::MergeTable m;
  m.reserve(8);
  m.insert(0, 1, 0, 3, false);  // a b -> ab   (rank 0)
  m.insert(1, 2, 0, 4, false);  // b c -> bc   (rank 0: a tie is broken leftmost)
  m.insert(0, 0, 1, 5, false);  // a a -> aa
  m.insert(5, 5, 2, 6, false);  // aa aa -> aaaa
  m.insert(0, 1, 9, 2, false);  // a later duplicate is ignored without overwrite
  std::vector<int32_t> s = {0, 1, 2};
  lmgen::bpe::merge(s, m);
  EXPECT_EQ(s, (std::vector<int32_t>{3, 2}));
  m.insert(1, 2, -1, 4, true);  // overwrite: b c now ranks first
  s = {0, 1, 2};
  lmgen::bpe::merge(s, m);
  EXPECT_EQ(s, (std::vector<int32_t>{0, 4}));
  // Short words take the linear scan, long ones (> 128 symbols) the heap: both give the same merges.
  for (size_t n : {100u, 128u, 129u, 300u, 301u}) {
    s.assign(n, 0);
    lmgen::bpe::merge(s, m);
    std::vector<int32_t> want(n / 4, 6);
    if (n % 4 >= 2) want.push_back(5);
    if (n % 2) want.push_back(0);
    EXPECT_EQ(s, want) << n;
  }
}

std::vector<std::string> words(const lmgen::PreTokenizer& p, std::string text, bool at_start = true) {
  std::vector<lmgen::Span> spans;
  p.split(text, spans, at_start);
  std::vector<std::string> out;
  for (const auto& sp : spans) out.push_back(text.substr(sp.begin, sp.end - sp.begin));
  return out;
}

TEST(TokenizerShared, PreTokenizerMetaspaceAndStringSplit) {
  const std::string s = "\xE2\x96\x81";
  auto meta = lmgen::PreTokenizer::from_json(
      json{{"type", "Metaspace"}, {"replacement", s}, {"prepend_scheme", "first"}, {"split", true}}, "t");
  EXPECT_TRUE(meta.prepends_space());
  EXPECT_EQ(words(meta, "hello  world"), (std::vector<std::string>{s + "hello", s, s + "world"}));
  EXPECT_EQ(words(meta, "hello  world", false), (std::vector<std::string>{"hello", s, s + "world"}));
  auto never = lmgen::PreTokenizer::from_json(
      json{{"type", "Metaspace"}, {"replacement", s}, {"prepend_scheme", "never"}, {"split", false}}, "t");
  EXPECT_FALSE(never.prepends_space());
  EXPECT_EQ(words(never, "a b"), (std::vector<std::string>{"a" + s + "b"}));
  // Gemma 3's pre-tokenizer: Split on the String " ", MergedWithPrevious (a String pattern is literal).
  auto split = lmgen::PreTokenizer::from_json(
      json::parse(R"({"type":"Split","pattern":{"String":" "},"behavior":"MergedWithPrevious","invert":false})"), "t");
  EXPECT_EQ(words(split, "a b  c.*"), (std::vector<std::string>{"a ", "b ", " ", "c.*"}));
  auto dot = lmgen::PreTokenizer::from_json(
      json::parse(R"({"type":"Split","pattern":{"String":".*"},"behavior":"Isolated"})"), "t");
  EXPECT_EQ(words(dot, "ab.*cd"), (std::vector<std::string>{"ab", ".*", "cd"}));
}

TEST(TokenizerShared, NormalizerReplacePrependStrip) {
  auto n = lmgen::Normalizer::from_json(json::parse(R"({"type":"Sequence","normalizers":[
      {"type":"Strip","strip_left":true,"strip_right":false},
      {"type":"Prepend","prepend":"\u2581"},
      {"type":"Replace","pattern":{"String":" "},"content":"\u2581"}]})"), "t");
  EXPECT_TRUE(n.prepends_space());
  std::string s = "\xE3\x80\x80 a b ";  // U+3000 is White_Space
  n.apply(s);
  EXPECT_EQ(s, "\xE2\x96\x81" "a\xE2\x96\x81" "b\xE2\x96\x81");
  s = " \t ";
  n.apply(s);
  EXPECT_EQ(s, "");  // all stripped; Prepend leaves an empty text empty
  auto lower = lmgen::Normalizer::from_json(json{{"type", "Lowercase"}}, "t");
  s = "\xC3\x84" "Bc";  // "ÄBc"
  lower.apply(s);
  EXPECT_EQ(s, "\xC3\xA4" "bc");
  s = "AB\xFF";  // invalid UTF-8 is left alone by the Unicode steps
  lower.apply(s);
  EXPECT_EQ(s, "AB\xFF");
  EXPECT_THROW(lmgen::Normalizer::from_json(json{{"type", "BertNormalizer"}}, "t"), std::exception);
}

TEST(TokenizerShared, Utf8Helper) {
  size_t i = 0;
  std::string s = "\xC0\x80\xE2\x82\xAC";  // an overlong NUL, then the euro sign
  EXPECT_EQ(lmgen::utf8::decode(s, i), -1);
  EXPECT_EQ(i, 1u);
  EXPECT_EQ(lmgen::utf8::decode(s, i), -1);
  EXPECT_EQ(lmgen::utf8::decode(s, i), 0x20AC);
  EXPECT_EQ(i, s.size());
  EXPECT_FALSE(lmgen::utf8::valid(s));
  EXPECT_TRUE(lmgen::utf8::valid("\xF4\x8F\xBF\xBF"));
  EXPECT_FALSE(lmgen::utf8::valid("\xED\xA0\x80"));  // a surrogate
  // Maximal subparts: "\xE2\x82" (truncated) is one U+FFFD, the stray continuation byte another.
  EXPECT_EQ(lmgen::utf8::lossy("a\xE2\x82" "b\x80"), "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
  std::string out;
  for (uint32_t cp : {0x41u, 0xE9u, 0x2581u, 0x1F600u}) lmgen::utf8::append(out, cp);
  EXPECT_EQ(out, "A\xC3\xA9\xE2\x96\x81\xF0\x9F\x98\x80");
  EXPECT_EQ(lmgen::utf8::lead_len(0xF0), 4u);
  EXPECT_EQ(lmgen::utf8::lead_len(0x80), 1u);
}

}  // namespace
