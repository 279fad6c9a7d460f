// Building the byte-level BPE tokenizer (tokenizer_bpe.hpp) from a GGUF vocabulary (llama.cpp semantics) or from
// an HF tokenizer.json + tokenizer_config.json (HF semantics).
#include "tokenizer/tokenizer_bpe.hpp"

#include "tokenizer/gguf_vocab.hpp"
#include "tokenizer/hf/bpe_model.hpp"

namespace lmgen {

using json = nlohmann::json;
using namespace bpe;  // this file builds bpe::BpeTokenizer

// ---------------------------------------------------------------------------------------------------------------
// GGUF

namespace {
// llama.cpp's end-of-generation and control tokens of a gpt2 vocabulary, and the special-token splitter's list.
void mark_gguf_specials(BpeTokenizer& t, const StrIdMap& text_to_id, int32_t eot, int32_t eom) {
  const int32_t n = t.n_vocab();
  // end-of-generation tokens recognised by their text (llama.cpp marks them as control tokens)
  for (std::string_view txt : eog_texts(EogFamily::ByteLevel)) {
    int32_t id = text_to_id.get(txt);
    if (id < 0) continue;
    t.eog_.insert(id);
    t.type_[id] = kControl;
  }
  for (std::string_view txt : {std::string_view("<|fim_pad|>"), std::string_view("<|repo_name|>"),
                                std::string_view("<|file_sep|>"), kEndOfSentenceText}) {
    int32_t id = text_to_id.get(txt);
    if (id < 0) continue;
    t.type_[id] = kControl;
    if (txt != kEndOfSentenceText || eot < 0) t.eog_.insert(id);
  }
  for (int32_t id : {t.eos_, eot, eom})
    if (id >= 0) t.eog_.insert(id);

  t.special_.assign(n, 0);
  std::vector<int32_t> specials;
  for (int32_t i = 0; i < n; ++i) {
    uint8_t ty = t.type_[i];
    t.special_[i] = ty == kControl || ty == kUnknown;
    if (ty == kControl || ty == kUserDefined || ty == kUnknown) specials.push_back(i);
  }
  std::stable_sort(specials.begin(), specials.end(),
                   [&](int32_t a, int32_t b) { return t.tokens_[a].size() > t.tokens_[b].size(); });
  for (int32_t id : specials) t.gguf_specials_.push_back({id, t.tokens_[id], t.special_[id] != 0});
}
}  // namespace

std::unique_ptr<Tokenizer> make_gguf_bpe_tokenizer(const GgufFile& gguf) {
  const std::string& path = gguf.path();
  auto t = std::make_unique<BpeTokenizer>();
  t->flavor = BpeTokenizer::Flavor::Gguf;
  t->path_ = path;
  t->tokens_ = read_gguf_tokens(gguf);
  const int32_t n = static_cast<int32_t>(t->tokens_.size());
  t->type_.assign(n, kNormal);
  if (auto tt = read_gguf_token_types(gguf, t->tokens_.size()))
    for (int32_t i = 0; i < n; ++i) t->type_[i] = static_cast<uint8_t>((*tt)[i] >= 0 && (*tt)[i] <= 6 ? (*tt)[i] : 0);
  StrIdMap text_to_id;  // last wins, as llama.cpp's token_to_id
  text_to_id.init(&t->tokens_, n);
  for (int32_t i = 0; i < n; ++i) text_to_id.put(i);

  LlamaCppPreType pre = llamacpp_pretokenizer(gguf.get_string_opt("tokenizer.ggml.pre").value_or(""), path);
  t->pretok_ = std::move(pre.pretok);
  t->ignore_merges_ = pre.ignore_merges;
  t->add_bos_ = pre.add_bos;
  t->clean_spaces_ = pre.clean_spaces;

  // merges "a b" -> rank (first occurrence wins, as llama.cpp's bpe_ranks.emplace)
  if (!gguf.has("tokenizer.ggml.merges")) throw Error(path, "tokenizer.ggml.merges missing (needed by a gpt2 tokenizer)");
  const auto& merges = gguf.get_string_array("tokenizer.ggml.merges");
  t->merges_.reserve(merges.size());
  std::string joined;
  for (size_t r = 0; r < merges.size(); ++r) {
    std::string_view m = merges[r];
    size_t sp = m.size() > 1 ? m.find(' ', 1) : std::string_view::npos;
    if (sp == std::string_view::npos) continue;  // llama.cpp keeps an ("","") pair that can never apply
    int32_t a = text_to_id.get(m.substr(0, sp)), b = text_to_id.get(m.substr(sp + 1));
    if (a < 0 || b < 0) continue;
    joined.assign(m.data(), sp).append(m.substr(sp + 1));
    int32_t c = text_to_id.get(joined);
    if (c < 0) continue;
    t->merges_.insert(a, b, static_cast<int32_t>(r), c, false);
  }

  // special ids (llama.cpp defaults for gpt2 vocabularies: bos = eos = 11)
  auto sid = [&](const char* name, int32_t def) -> int32_t {
    auto v = read_gguf_special_id(gguf, name);
    if (v && *v >= 0 && *v < n) return static_cast<int32_t>(*v);
    return def < n ? def : -1;
  };
  t->bos_ = sid("bos", 11);
  t->eos_ = sid("eos", 11);
  int32_t eot = sid("eot", -1), eom = sid("eom", -1);
  if (auto v = gguf.get_bool_opt("tokenizer.ggml.add_bos_token")) t->add_bos_ = *v;
  if (auto v = gguf.get_bool_opt("tokenizer.ggml.add_eos_token")) t->add_eos_ = *v;

  mark_gguf_specials(*t, text_to_id, eot, eom);
  t->build_byte_ids();
  t->finish_pieces();
  if (t->ignore_merges_) {
    // control tokens written in printable ASCII are their own byte-level form: index them by that text too
    std::string raw;
    for (int32_t i = 0; i < n; ++i)
      if (!t->decoded_[i] && byte_level_decode(t->tokens_[i], raw) && raw == t->tokens_[i]) t->decoded_[i] = 1;
    t->raw_to_id_.init(&t->pieces_, n);
    for (int32_t i = 0; i < n; ++i)
      if (t->decoded_[i]) t->raw_to_id_.put(i);
  }
  return t;
}

// ---------------------------------------------------------------------------------------------------------------
// HF tokenizer.json

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
