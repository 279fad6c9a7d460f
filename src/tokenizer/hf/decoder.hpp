// The HF tokenizer.json `decoder`: ByteLevel (the GPT-2 byte table), Replace, ByteFallback, Fuse, Strip,
// Metaspace and Sequences of those; none joins the tokens with spaces, as HF. Internal to the library.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace lmgen {

class Decoder {
 public:
  Decoder() = default;
  Decoder(const nlohmann::json& j, const std::string& path);
  std::string decode(std::vector<std::string> tokens) const;
  // One token's text with the per-token replacements only (no strip, no byte fusing).
  std::string piece(std::string_view token) const;

 private:
  enum class Kind { ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace };
  struct Step {
    Kind kind;
    std::string a, b;  // Replace: pattern, content; Strip: content char; Metaspace: replacement
    size_t start = 0, stop = 0;
    bool flag = false;  // Metaspace: strip the replacement from the first token
  };
  void add(const nlohmann::json& j, const std::string& path);
  bool none_ = true;
  std::vector<Step> steps_;
};

}  // namespace lmgen
