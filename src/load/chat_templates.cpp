// Reading chat templates and special-token strings from model files (see chat_templates.hpp).
#include "load/chat_templates.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "format/gguf.hpp"
#include "lmgen/error.hpp"
#include "lmgen/tokenizer.hpp"
#include "util/json_file.hpp"
#include "util/read_file.hpp"

namespace lmgen {

namespace {

constexpr std::string_view kGgufKey = "tokenizer.chat_template";

void read_hf_templates(const nlohmann::json& v, const std::string& path, ChatMetadata& out) {
  if (v.is_string()) {
    out.templates["default"] = v.get<std::string>();
  } else if (v.is_array()) {
    for (const auto& e : v) {
      if (!e.is_object() || !e.contains("name") || !e.contains("template") || !e["name"].is_string() ||
          !e["template"].is_string())
        throw Error(path, "chat_template: a list entry must be {\"name\": string, \"template\": string}");
      out.templates[e["name"].get<std::string>()] = e["template"].get<std::string>();
    }
  } else if (!v.is_null()) {
    throw Error(path, std::string("chat_template must be a string or a list, found a JSON ") + v.type_name());
  }
}

}  // namespace

ChatMetadata chat_metadata_from_gguf(const GgufFile& g, const Tokenizer* tok) {
  ChatMetadata out;
  for (const auto& [key, value] : g.metadata()) {
    (void)value;
    if (key == kGgufKey) {
      out.templates["default"] = g.get_string(key);
    } else if (key.size() > kGgufKey.size() + 1 && key.starts_with(kGgufKey) && key[kGgufKey.size()] == '.') {
      out.templates[key.substr(kGgufKey.size() + 1)] = g.get_string(key);
    }
  }
  if (tok) {
    if (tok->bos_id() >= 0) out.special_tokens["bos_token"] = tok->token_text(tok->bos_id());
    if (tok->eos_id() >= 0) out.special_tokens["eos_token"] = tok->token_text(tok->eos_id());
  }
  return out;
}

ChatMetadata chat_metadata_from_hf_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  ChatMetadata out;
  std::error_code ec;
  const fs::path cfg = fs::path(dir) / "tokenizer_config.json";
  if (fs::exists(cfg, ec)) {
    const std::string path = cfg.string();
    const nlohmann::json j = read_json_object_file(path);
    if (j.contains("chat_template")) read_hf_templates(j["chat_template"], path, out);
    for (const auto& [k, v] : j.items()) {
      if (!k.ends_with("_token")) continue;
      if (v.is_string()) out.special_tokens[k] = v.get<std::string>();
      else if (v.is_object() && v.contains("content") && v["content"].is_string())
        out.special_tokens[k] = v["content"].get<std::string>();
    }
  }
  const fs::path jinja = fs::path(dir) / "chat_template.jinja";
  if (!out.templates.count("default") && fs::exists(jinja, ec)) out.templates["default"] = read_whole_file(jinja.string());
  return out;
}

}  // namespace lmgen
