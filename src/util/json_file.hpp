// Reading a JSON file lmgen did not write (tokenizer.json, config.json, tokenizer_config.json,
// generation_config.json, adapter_config.json): one way, with the depth limit of json_limits.hpp checked before
// anything walks the value, and the file named in every error.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace lmgen {

// Parses `text`, the contents of `source` (a file name for errors), and checks its depth. Throws Error naming
// `source`: "not valid JSON: ...", "JSON nested deeper than N levels".
nlohmann::json parse_json_text(std::string_view text, const std::string& source);

// Reads and parses the file at `path` as parse_json_text does; also Error(path, "cannot open") when it cannot be
// read.
nlohmann::json read_json_file(const std::string& path);

// read_json_file for a file that must hold one JSON object: also Error(path, "not a JSON object").
nlohmann::json read_json_object_file(const std::string& path);

}  // namespace lmgen
