// load_model: detects the format of `path` once (load/detect.cpp) and loads weights + tokenizer from it.
#include <filesystem>

#include "lmgen/error.hpp"
#include "format/gguf.hpp"
#include "lmgen/loader.hpp"
#include "chat/source.hpp"
#include "load/detect.hpp"
#include "load/loaders.hpp"
#include "tokenizer/builders.hpp"

namespace lmgen {

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
