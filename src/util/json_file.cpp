// read_json_file and its variants (json_file.hpp).
#include "util/json_file.hpp"

#include <fstream>
#include <sstream>

#include "lmgen/error.hpp"
#include "util/json_limits.hpp"

namespace lmgen {

nlohmann::json parse_json_text(std::string_view text, const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    throw Error(source, std::string("not valid JSON: ") + e.what());
  }
  check_json_depth(j, source);  // before anything (some builders recurse) walks it
  return j;
}

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, "cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error(path, "cannot read");
  return parse_json_text(ss.str(), path);
}

nlohmann::json read_json_object_file(const std::string& path) {
  nlohmann::json j = read_json_file(path);
  if (!j.is_object()) throw Error(path, "not a JSON object");
  return j;
}

}  // namespace lmgen
