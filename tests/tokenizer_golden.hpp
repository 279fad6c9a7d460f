// Shared by the tokenizer tests: the golden-file check (shared/reference/tokenizer/*.jsonl) and error matching.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common.hpp"
#include "lmgen/error.hpp"
#include "lmgen/tokenizer.hpp"

namespace lmgen::test {

using nlohmann::json;

inline std::vector<json> read_jsonl(const std::string& path) {
  std::vector<json> out;
  for (const std::string& line : read_lines(path))
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

inline std::string show(const std::vector<int32_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(v[i]);
  }
  return s + "]";
}

// Every line: ids (add_special=false) and ids_with_special (add_special=true), parse_special in both.
// Returns the number of lines that matched both.
inline int check_golden(const Tokenizer& tok, const std::string& jsonl, bool check_decoded_exactly) {
  auto lines = read_jsonl(shared_path(jsonl));
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


inline void expect_error_mentioning(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one mentioning " << needle;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not an lmgen::Error: " << e.what();
  }
}


}  // namespace lmgen::test
