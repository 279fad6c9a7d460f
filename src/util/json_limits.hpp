// Limits for untrusted JSON (tokenizer.json, tokenizer_config.json, config.json, safetensors headers and indexes),
// and the words an error about such JSON is told in.
//
// nlohmann::json parses and destroys values iteratively, but dump(), copies and lmgen's own builders for nested
// tokenizer components (Sequence normalizers, pre-tokenizers, decoders, post-processors) recurse: a file nested a
// few hundred thousand levels deep overflows the stack. Real files are nested fewer than 10 levels; call
// check_json_depth right after parsing, before anything walks or prints the value.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace lmgen {

constexpr int kMaxJsonDepth = 64;

// Throws Error("PATH: JSON nested deeper than N levels") if any value of `j` is nested deeper than `max_depth`
// (the top-level value is depth 0). Iterative: safe on any input.
void check_json_depth(const nlohmann::json& j, const std::string& path, int max_depth = kMaxJsonDepth);
void check_json_depth(const nlohmann::ordered_json& j, const std::string& path, int max_depth = kMaxJsonDepth);

// What a nlohmann::json exception says, without the library's "[json.exception.parse_error.101] parse error at "
// prefix: "line 1, column 1: syntax error while parsing value - invalid literal; last read: 'h'". For messages
// that say which input was not valid JSON (the library's own text is not a message for lmgen's users).
std::string json_error_text(const nlohmann::json::exception& e);

}  // namespace lmgen
