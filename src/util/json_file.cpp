// read_json_file and its variants (json_file.hpp).
#include "util/json_file.hpp"

#include "lmgen/error.hpp"
#include "util/json_limits.hpp"
#include "util/read_file.hpp"

namespace lmgen {

nlohmann::json parse_json_text(std::string_view text, const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    throw Error(source, "not valid JSON: " + json_error_text(e));
  }
  check_json_depth(j, source);  // before anything (some builders recurse) walks it
  return j;
}

nlohmann::json read_json_file(const std::string& path) {
  return parse_json_text(read_whole_file(path), path);
}

nlohmann::json read_json_object_file(const std::string& path) {
  nlohmann::json j = read_json_file(path);
  if (!j.is_object()) throw Error(path, "not a JSON object");
  return j;
}

}  // namespace lmgen
