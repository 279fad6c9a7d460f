// Runs chat-template cases stored as JSON lines (the Hugging Face references in the shared material and the
// project's own tests/data/chat-extra.jsonl): each line has template, messages, add_generation_prompt, kwargs,
// maybe tools, and either `expected` (exact text) or `error` (rendering must throw).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "chat/template.hpp"
#include "common.hpp"

namespace lmgen::test {

inline std::string fixed_clock(const std::string&) { return "26 Jul 2024"; }

// The context exactly as /work/shared/chat/hf_render.py builds it: kwargs, messages, add_generation_prompt, and
// tools when present and not null.
inline nlohmann::ordered_json chat_context(const nlohmann::ordered_json& c) {
  nlohmann::ordered_json ctx = nlohmann::ordered_json::object();
  ctx["messages"] = c.at("messages");
  ctx["add_generation_prompt"] = c.value("add_generation_prompt", true);
  if (c.contains("kwargs"))
    for (const auto& [k, v] : c["kwargs"].items()) ctx[k] = v;
  if (c.contains("tools") && !c["tools"].is_null()) ctx["tools"] = c["tools"];
  return ctx;
}

struct CaseTally {
  int passed = 0, failed = 0;
};

// Checks one case; on a mismatch reports the name, conversation and first differing byte offset.
inline void check_chat_case(const nlohmann::ordered_json& c, CaseTally& tally) {
  const std::string id = c.value("name", "?") + " / " + c.value("conversation", "?");
  chat::RenderOptions opt;
  opt.strftime_now = fixed_clock;
  std::string got, error;
  try {
    chat::ChatTemplate t(c.at("template").get<std::string>());
    got = t.render(chat_context(c), opt);
  } catch (const chat::TemplateError& e) {
    error = e.what();
  }
  bool ok;
  if (c.contains("error")) {
    ok = !error.empty();
    if (!ok) ADD_FAILURE() << id << ": expected an error (" << c["error"].get<std::string>() << "), rendered fine";
  } else {
    const std::string want = c.at("expected").get<std::string>();
    ok = error.empty() && got == want;
    if (!error.empty()) {
      ADD_FAILURE() << id << ": threw " << error;
    } else if (!ok) {
      size_t i = 0;
      while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
      ADD_FAILURE() << id << ": first difference at byte " << i << " (got " << got.size() << " bytes, want "
                    << want.size() << ")\n  got:  ..." << got.substr(i > 40 ? i - 40 : 0, 120) << "\n  want: ..."
                    << want.substr(i > 40 ? i - 40 : 0, 120);
    }
  }
  (ok ? tally.passed : tally.failed)++;
}

inline CaseTally run_chat_cases(const std::string& path) {
  CaseTally tally;
  for (const std::string& line : read_lines(path)) {
    if (line.empty()) continue;
    check_chat_case(nlohmann::ordered_json::parse(line), tally);
  }
  return tally;
}

}  // namespace lmgen::test
