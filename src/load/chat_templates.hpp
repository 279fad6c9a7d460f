// Where a model's chat template comes from, and the special-token strings a template may use.
//
//   GGUF:            tokenizer.chat_template (the default) and tokenizer.chat_template.NAME (named variants, e.g.
//                    "tool_use"); bos_token / eos_token are the vocabulary's text of its BOS / EOS ids (llama.cpp
//                    passes the same).
//   Hugging Face:    tokenizer_config.json "chat_template" (a string, or a list of {"name", "template"} where
//                    "default" is the default), else chat_template.jinja beside it; the special tokens are
//                    tokenizer_config.json's "*_token" entries that are strings or {"content": ...} objects (HF's
//                    special_tokens_map: tokens set to null are left undefined).
//   llama2.c:        none.
#pragma once

#include <map>
#include <string>

namespace lmgen {

class GgufFile;
class Tokenizer;

struct ChatMetadata {
  std::map<std::string, std::string> templates;       // name -> Jinja source; the default is "default"
  std::map<std::string, std::string> special_tokens;  // "bos_token" -> "<s>", ...
};

ChatMetadata chat_metadata_from_gguf(const GgufFile& g, const Tokenizer* tok);
// dir: an HF model directory (or the directory of a tokenizer.json). Missing files mean no template.
ChatMetadata chat_metadata_from_hf_dir(const std::string& dir);

}  // namespace lmgen
