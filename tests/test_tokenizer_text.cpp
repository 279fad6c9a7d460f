// Text-level tokenization against Hugging Face's own tokenizers library: every fixture's hf/ tokenizer and every
// full-size shared tokenizer.json encodes the reference corpus plus extra strings (one- and two-byte first words,
// runs of spaces, leading/trailing spaces, newlines, emoji, mixed scripts) to exactly HF's ids, with and without
// the special tokens. The expected ids are tests/data/hf_token_ids.json, made by tools/hf_token_ids.mjs (npm, run
// by hand); this test needs only that file and the shared material.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "tokenizer_golden.hpp"

namespace {

using lmgen::test::json;

const json& expected() {
  static const json j = json::parse(lmgen::test::read_file(std::string(LMGEN_SOURCE_DIR) + "/tests/data/hf_token_ids.json"));
  return j;
}

// The strings the ids belong to: the shared corpus, then the file's extra strings.
std::vector<std::string> strings() {
  const json& e = expected();
  json corpus = json::parse(lmgen::test::read_file(lmgen::test::shared_path(e["corpus"].get<std::string>())));
  EXPECT_EQ(corpus.size(), e["corpus_size"].get<size_t>()) << "the shared corpus changed: regenerate the ids";
  std::vector<std::string> out = corpus.get<std::vector<std::string>>();
  for (const auto& s : e["extra"]) out.push_back(s.get<std::string>());
  return out;
}

std::string printable(const std::string& s) {
  std::string out = lmgen::test::json(s).dump();
  return out.size() > 80 ? out.substr(0, 77) + "..." : out;
}

// Ids from..to (clamped), with "..." where the list goes on.
std::string window(const std::vector<int32_t>& v, size_t from, size_t to) {
  from = std::min(from, v.size());
  to = std::min(to, v.size());
  std::string s = from > 0 ? "[..." : "[";
  for (size_t i = from; i < to; ++i) s += (i > from || from > 0 ? "," : "") + std::to_string(v[i]);
  return s + (to < v.size() ? ",...]" : "]");
}

// "" if equal, else where and how they first differ (the ids around that position, and the lengths).
std::string first_difference(const std::vector<int32_t>& got, const std::vector<int32_t>& want) {
  if (got == want) return "";
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  auto at = [i](const std::vector<int32_t>& v) { return i < v.size() ? std::to_string(v[i]) : std::string("end"); };
  const size_t from = i > 4 ? i - 4 : 0;
  return "first difference at position " + std::to_string(i) + ": lmgen " + at(got) + ", HF " + at(want) +
         " (lmgen " + window(got, from, i + 6) + " of " + std::to_string(got.size()) + " ids, HF " +
         window(want, from, i + 6) + " of " + std::to_string(want.size()) + ")";
}

void check_tokenizer(const json& t, const std::vector<std::string>& texts) {
  const std::string name = t["name"];
  auto tok = lmgen::load_tokenizer(lmgen::test::shared_path(t["path"].get<std::string>()));
  const json& ids = t["ids"];
  const json& ids_sp = t["ids_with_special"];
  ASSERT_EQ(ids.size(), texts.size()) << name;
  int failures = 0;
  for (size_t i = 0; i < texts.size() && failures < 20; ++i) {
    for (bool special : {false, true}) {
      std::vector<int32_t> got;
      try {
        got = tok->encode(texts[i], {.add_special = special, .parse_special = true});
      } catch (const std::exception& e) {
        ADD_FAILURE() << name << " string " << i << " " << printable(texts[i]) << ": threw " << e.what();
        ++failures;
        continue;
      }
      const std::string diff = first_difference(got, (special ? ids_sp : ids)[i].get<std::vector<int32_t>>());
      if (diff.empty()) continue;
      ADD_FAILURE() << name << " string " << i << " " << printable(texts[i])
                    << (special ? " (with special tokens)" : "") << ": " << diff;
      ++failures;
    }
  }
}

TEST(TokenizerText, EveryTokenizerMatchesHfIds) {
  const std::vector<std::string> texts = strings();
  for (const json& t : expected()["tokenizers"]) {
    SCOPED_TRACE(t["name"].get<std::string>());
    check_tokenizer(t, texts);
  }
}

// A new fixture joins this test the day it lands: each fixtures/*/hf/tokenizer.json has HF ids in the data file, or
// is recorded there as one HF itself cannot load.
TEST(TokenizerText, EveryFixtureTokenizerIsCovered) {
  std::set<std::string> covered;
  for (const json& t : expected()["tokenizers"]) covered.insert(t["path"]);
  for (const json& t : expected()["hf_cannot_load"]) covered.insert(t["path"]);
  const std::filesystem::path fixtures = lmgen::test::shared_path("fixtures");
  int n = 0;
  for (const auto& d : std::filesystem::directory_iterator(fixtures)) {
    if (!std::filesystem::exists(d.path() / "hf" / "tokenizer.json")) continue;
    ++n;
    const std::string rel = "fixtures/" + d.path().filename().string() + "/hf/tokenizer.json";
    EXPECT_TRUE(covered.count(rel)) << rel << " has no HF ids: run tools/hf_token_ids.mjs";
  }
  EXPECT_GE(n, 9);
}

}  // namespace
