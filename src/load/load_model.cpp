// load_model: detects the format of `path` once (load/detect.cpp, one mapping), finds the tokenizer (the one lookup
// policy: LoadOptions::tokenizer_path, the model's own, or a llama2.c checkpoint's file beside it) and loads
// weights, tokenizer, chat templates and LoRA adapters.
#include <filesystem>
#include <optional>

#include <nlohmann/json.hpp>

#include "lmgen/error.hpp"
#include "format/gguf.hpp"
#include "lmgen/loader.hpp"
#include "load/chat_templates.hpp"
#include "load/detect.hpp"
#include "load/loaders.hpp"
#include "load/lora/lora.hpp"
#include "tokenizer/builders.hpp"
#include "util/json_file.hpp"

namespace lmgen {

namespace {

namespace fs = std::filesystem;

// generation_config.json's "eos_token_id" (an int or a list of ints); nothing when the file or the key is absent.
std::vector<int32_t> generation_eos_ids(const std::string& dir, int64_t n_vocab) {
  const fs::path p = fs::path(dir) / "generation_config.json";
  std::vector<int32_t> out;
  if (std::error_code ec; !fs::exists(p, ec)) return out;
  const nlohmann::json j = read_json_object_file(p.string());
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

// A llama2.c checkpoint's tokenizer: tokenizer.bin beside it, else the only tok*.bin there.
std::string tokenizer_beside(const std::string& model_path) {
  const fs::path dir = fs::path(model_path).parent_path().empty() ? fs::path(".") : fs::path(model_path).parent_path();
  std::error_code ec;
  if (fs::is_regular_file(dir / "tokenizer.bin", ec)) return (dir / "tokenizer.bin").string();
  std::vector<fs::path> toks;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("tok", 0) == 0 && e.path().extension() == ".bin" && e.is_regular_file(ec)) toks.push_back(e.path());
  }
  if (toks.size() != 1)
    throw MissingTokenizer(model_path, "a llama2.c checkpoint has no tokenizer inside, and " +
                                           (toks.empty() ? std::string("no tokenizer.bin or tok*.bin is beside it")
                                                         : std::to_string(toks.size()) + " tok*.bin files are beside it"));
  return toks.front().string();
}

// The model's weights (unless !opt.load_weights), tokenizer and chat metadata from the one detected source; sets
// out's tokenizer fields.
struct Parts {
  std::shared_ptr<ModelData> md;
  std::unique_ptr<Tokenizer> tok;
  ChatMetadata chat;
};

Parts load_parts(const std::string& path, const DetectedModel& d, const LoadOptions& opt, LoadedModel& out) {
  Parts p;
  const bool given = !opt.tokenizer_path.empty();
  auto n_vocab = [&] { return p.md ? static_cast<int32_t>(p.md->config.n_vocab) : 0; };
  if (d.format == ModelFormat::HfDir) {
    if (opt.load_weights) p.md = std::make_shared<ModelData>(load_hf_model(path, opt.access));
    out.tokenizer_path = given ? opt.tokenizer_path : (fs::path(path) / "tokenizer.json").string();
    if (opt.load_tokenizer) p.tok = load_tokenizer(given ? opt.tokenizer_path : path, n_vocab());
    p.chat = chat_metadata_from_hf_dir(path);
    if (p.md) out.eog_ids = generation_eos_ids(path, p.md->config.n_vocab);
  } else if (d.format == ModelFormat::Gguf) {
    const GgufFile g(d.file);  // parsed once, for the weights and the vocabulary
    if (opt.load_weights) p.md = std::make_shared<ModelData>(load_gguf_model(g));
    out.tokenizer_path = given ? opt.tokenizer_path : path;
    if (opt.load_tokenizer) p.tok = given ? load_tokenizer(opt.tokenizer_path, n_vocab()) : load_gguf_tokenizer(g);
    p.chat = chat_metadata_from_gguf(g, p.tok.get());
  } else {
    p.md = std::make_shared<ModelData>(load_llama2c_model(d.file));  // its header has the tokenizer's n_vocab
    if (opt.load_tokenizer) {
      out.tokenizer_found_beside = !given;
      out.tokenizer_path = given ? opt.tokenizer_path : tokenizer_beside(path);
      p.tok = load_tokenizer(out.tokenizer_path, n_vocab());
    }
    if (!opt.load_weights) p.md.reset();
  }
  if (!opt.load_tokenizer) out.tokenizer_path.clear();
  return p;
}

}  // namespace

LoadedModel load_model(const std::string& path, const LoadOptions& opt) {
  LoadedModel out;
  std::optional<DetectedModel> d = try_detect_model(path, opt.access);
  if (!d && !opt.load_weights && opt.load_tokenizer && opt.tokenizer_path.empty()) {
    // No weights wanted: `path` may also be a tokenizer itself (tokenizer.json, a directory holding one).
    out.tokenizer = load_tokenizer(path);
    out.tokenizer_path = path;
    return out;
  }
  if (!d) d = detect_model(path, opt.access);  // throws the error that says what the path is not
  Parts p = load_parts(path, *d, opt, out);
  if (p.md) {
    out.lora_notes = apply_lora_adapters(*p.md, opt.lora);
    if (p.tok && p.tok->n_vocab() > p.md->config.n_vocab)
      throw Error(path, "tokenizer has " + std::to_string(p.tok->n_vocab()) + " tokens but the model's vocabulary is " +
                            std::to_string(p.md->config.n_vocab));
  }
  out.model = std::move(p.md);
  out.tokenizer = std::move(p.tok);
  out.chat_templates = std::move(p.chat.templates);
  out.special_tokens = std::move(p.chat.special_tokens);
  return out;
}

}  // namespace lmgen
