// Tokenizers from an HF tokenizer.json + tokenizer_config.json (HF semantics): this file builds the byte-level
// BPE tokenizer (tokenizer_bpe.hpp) and tells it apart from the SentencePiece-style one (spm_hf.cpp).
#include "tokenizer/tokenizer_bpe.hpp"

#include "tokenizer/hf/bpe_model.hpp"

namespace lmgen {

using json = nlohmann::json;
using namespace bpe;  // this file builds bpe::BpeTokenizer

namespace {

const json& member(const json& j, const char* key) {
  static const json null_json;
  if (!j.is_object()) return null_json;
  auto it = j.find(key);
  return it == j.end() ? null_json : *it;
}

// (Recursive: the JSON was depth-checked when it was parsed, util/json_limits.hpp.)
bool json_has_type(const json& j, const char* type, const char* list_key) {
  if (!j.is_object()) return false;
  auto it = j.find("type");
  if (it == j.end() || !it->is_string()) return false;
  if (*it == type) return true;
  if (*it == "Sequence" && j.contains(list_key) && j[list_key].is_array())
    for (const auto& s : j[list_key])
      if (json_has_type(s, type, list_key)) return true;
  return false;
}

int32_t json_id(const json& v, const std::string& path, const std::string& what) {
  if (!v.is_number_integer()) throw Error(path, what + ": token id is not an integer");
  int64_t id = v.get<int64_t>();
  if (id < 0 || id >= (1 << 24)) throw Error(path, what + ": token id " + std::to_string(id) + " out of range");
  return static_cast<int32_t>(id);
}

}  // namespace

bool hf_tokenizer_is_byte_level(const nlohmann::json& tokenizer) {
  if (!tokenizer.is_object()) return false;
  if (tokenizer.contains("pre_tokenizer") && json_has_type(tokenizer["pre_tokenizer"], "ByteLevel", "pretokenizers"))
    return true;
  return tokenizer.contains("decoder") && json_has_type(tokenizer["decoder"], "ByteLevel", "decoders");
}

namespace {
// BOS / EOS from tokenizer_config.json (HF transformers), else from the vocabulary; the end-of-generation tokens.
void set_hf_specials(BpeTokenizer& t, const json& config, const StrIdMap& vocab) {
  auto id_of = [&](const std::string& text) -> int32_t {
    int32_t id = t.added_.find(text);
    return id >= 0 ? id : vocab.get(text);
  };
  auto cfg_token = [&](const char* key) -> int32_t {
    if (!config.is_object() || !config.contains(key)) return -1;
    const json& v = config[key];
    if (v.is_string()) return id_of(v.get<std::string>());
    if (v.is_object() && v.contains("content") && v["content"].is_string()) return id_of(v["content"].get<std::string>());
    return -1;
  };
  t.bos_ = cfg_token("bos_token");
  t.eos_ = cfg_token("eos_token");
  if (t.eos_ < 0 && !config.is_object()) t.eos_ = id_of("<|endoftext|>");
  t.add_bos_ = t.bos_ >= 0 && t.post_.first_special() == t.bos_;
  if (t.eos_ >= 0) t.eog_.insert(t.eos_);
  for (const auto& at : t.added_.tokens())
    for (std::string_view txt : eog_texts(EogFamily::ByteLevel))
      if (at.content == txt) t.eog_.insert(at.id);
}
}  // namespace

std::unique_ptr<Tokenizer> make_hf_bpe_tokenizer(const nlohmann::json& tok, const nlohmann::json& config,
                                                 const std::string& path) {
  auto t = std::make_unique<BpeTokenizer>();
  t->flavor = BpeTokenizer::Flavor::Hf;
  t->path_ = path;
  if (!tok.is_object() || !tok.contains("model") || !tok["model"].is_object())
    throw Error(path, "tokenizer.json has no \"model\" object");
  const json& model = tok["model"];
  if (!model.contains("vocab") || !model["vocab"].is_object()) throw Error(path, "model.vocab missing or not an object");
  for (const char* k : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (model.contains(k) && model[k].is_string() && !model[k].get<std::string>().empty())
      throw Error(path, std::string("unsupported BPE option ") + k + " for a byte-level tokenizer");
  t->ignore_merges_ = model.value("ignore_merges", false);

  // model vocabulary (one pass over the JSON object), then added tokens
  std::vector<std::pair<const std::string*, int32_t>> entries;
  entries.reserve(model["vocab"].size());
  int32_t max_id = -1;
  for (auto it = model["vocab"].begin(); it != model["vocab"].end(); ++it) {
    const json& v = it.value();
    int64_t id64 = v.is_number_integer() ? v.get<int64_t>() : -1;
    if (id64 < 0 || id64 >= (1 << 24)) json_id(v, path, "model.vocab entry '" + it.key() + "'");  // throws
    entries.emplace_back(&it.key(), static_cast<int32_t>(id64));
    max_id = std::max(max_id, static_cast<int32_t>(id64));
  }
  t->added_ = AddedTokens(member(tok, "added_tokens"), path);
  for (const AddedToken& at : t->added_.tokens()) max_id = std::max(max_id, at.id);
  if (max_id < 0) throw Error(path, "empty vocabulary");
  // Ids far beyond the number of tokens defined would size the id -> text table from one field (a 150-byte file
  // asking for 16M entries); real vocabularies are dense, with at most some padding.
  const size_t n_defined = entries.size() + t->added_.tokens().size();
  if (static_cast<size_t>(max_id) >= 2 * n_defined + 1024)
    throw Error(path, "token id " + std::to_string(max_id) + " is far beyond the " + std::to_string(n_defined) +
                          " tokens defined (sparse ids are not supported)");
  const size_t n = static_cast<size_t>(max_id) + 1;
  t->tokens_.assign(n, std::string());
  std::vector<uint8_t> in_model(n, 0);
  for (const auto& [key, id] : entries) {
    t->tokens_[id] = *key;
    in_model[id] = 1;
  }
  // index of the model's strings (added token texts replace tokens_ entries only after the merges are read)
  StrIdMap vocab;
  vocab.init(&t->tokens_, entries.size());
  for (const auto& e : entries) vocab.put(e.second);
  entries = {};
  t->special_.assign(n, 0);
  t->type_.assign(n, kNormal);
  t->normalizer_ = Normalizer::from_json(member(tok, "normalizer"), path);
  for (const auto& at : t->added_.tokens()) t->special_[at.id] = at.special;
  t->added_.build_patterns(t->normalizer_);


  read_merges(model, path, vocab, t->merges_);
  for (const auto& at : t->added_.tokens()) t->tokens_[at.id] = at.content;
  t->pretok_ = PreTokenizer::from_json(member(tok, "pre_tokenizer"), path);
  t->post_ = PostProcessor(member(tok, "post_processor"), path, [&](const std::string& text) {
    int32_t id = t->added_.find(text);
    return id >= 0 ? id : vocab.get(text);
  });
  const json& dec = member(tok, "decoder");
  t->byte_level_decoder_ = dec.is_null() ? false : json_has_type(dec, "ByteLevel", "decoders");

  set_hf_specials(*t, config, vocab);
  if (t->post_.max_id() >= static_cast<int32_t>(t->tokens_.size()))
    throw Error(path, "post_processor token id out of range");
  t->build_byte_ids();
  t->finish_pieces();
  if (t->ignore_merges_) {  // HF looks the whole word up in the model vocabulary only
    t->raw_to_id_.init(&t->pieces_, t->tokens_.size());
    for (size_t id = 0; id < t->tokens_.size(); ++id)
      if (in_model[id] && t->decoded_[id]) t->raw_to_id_.put(static_cast<int32_t>(id));
  }
  return t;
}

}  // namespace lmgen
