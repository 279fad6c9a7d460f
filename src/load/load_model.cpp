// load_model: detects the format of `path` once (load/detect.cpp) and loads weights + tokenizer from it.
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "lmgen/error.hpp"
#include "format/gguf.hpp"
#include "lmgen/loader.hpp"
#include "chat/source.hpp"
#include "load/detect.hpp"
#include "load/loaders.hpp"
#include "lora/lora.hpp"
#include "tokenizer/builders.hpp"
#include "util/json_limits.hpp"

namespace lmgen {

namespace {

// generation_config.json's "eos_token_id" (an int or a list of ints); nothing when the file or the key is absent.
std::vector<int32_t> generation_eos_ids(const std::string& dir, int64_t n_vocab) {
  const std::filesystem::path p = std::filesystem::path(dir) / "generation_config.json";
  std::vector<int32_t> out;
  if (!std::filesystem::exists(p)) return out;
  std::ifstream f(p, std::ios::binary);
  const nlohmann::json j = nlohmann::json::parse(f, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw Error(p.string(), "not a JSON object");
  check_json_depth(j, p.string());
  const auto v = j.find("eos_token_id");
  if (v == j.end() || v->is_null()) return out;
  auto add = [&](const nlohmann::json& e) {
    if (!e.is_number_integer() || e.get<int64_t>() < 0 || e.get<int64_t>() >= n_vocab)
      throw Error(p.string(), "eos_token_id must be token ids of the vocabulary, found " + e.dump());
    out.push_back(e.get<int32_t>());
  };
  if (v->is_array()) for (const auto& e : *v) add(e); else add(*v);
  return out;
}

}  // namespace

LoadedModel load_model(const std::string& path, const LoadOptions& opt) {
  namespace fs = std::filesystem;
  const DetectedModel d = detect_model(path, opt.access);
  LoadedModel out;
  std::shared_ptr<ModelData> md;
  std::unique_ptr<Tokenizer> tok;
  ChatMetadata chat;

  if (d.format == ModelFormat::HfDir) {
    md = std::make_shared<ModelData>(load_hf_model(path, opt.access));
    if (opt.load_tokenizer)
      tok = load_tokenizer(opt.tokenizer_path.empty() ? path : opt.tokenizer_path,
                           static_cast<int32_t>(md->config.n_vocab));
    chat = chat_metadata_from_hf_dir(path);
    out.eog_ids = generation_eos_ids(path, md->config.n_vocab);
  } else if (d.format == ModelFormat::Gguf) {
    const GgufFile g(d.file);  // parsed once, for the weights and the vocabulary
    md = std::make_shared<ModelData>(load_gguf_model(g));
    if (opt.load_tokenizer) {
      if (opt.tokenizer_path.empty()) {
        tok = load_gguf_tokenizer(g);
      } else {
        tok = load_tokenizer(opt.tokenizer_path, static_cast<int32_t>(md->config.n_vocab));
      }
    }
    chat = chat_metadata_from_gguf(g, tok.get());
  } else {
    md = std::make_shared<ModelData>(load_llama2c_model(d.file));
    if (opt.load_tokenizer) {
      std::string tp = opt.tokenizer_path;
      if (tp.empty()) {
        fs::path guess = fs::path(path).parent_path() / "tokenizer.bin";
        if (!fs::exists(guess))
          throw UsageError(path + ": a llama2.c checkpoint needs its tokenizer: pass --tokenizer PATH (tokenizer.bin)");
        tp = guess.string();
      }
      tok = load_tokenizer(tp, static_cast<int32_t>(md->config.n_vocab));
    }
  }

  out.lora_notes = apply_lora_adapters(*md, opt.lora);
  if (tok && tok->n_vocab() > md->config.n_vocab)
    throw Error(path, "tokenizer has " + std::to_string(tok->n_vocab()) + " tokens but the model's vocabulary is " +
                          std::to_string(md->config.n_vocab));
  out.model = std::move(md);
  out.tokenizer = std::move(tok);
  out.chat_templates = std::move(chat.templates);
  out.special_tokens = std::move(chat.special_tokens);
  return out;
}

}  // namespace lmgen
