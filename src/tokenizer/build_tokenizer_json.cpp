// Building the tokenizer of an HF tokenizer.json + tokenizer_config.json (HfTokenizer, hf_tokenizer.hpp): the BPE
// model's vocabulary and merges, the added tokens, the pipeline parts (hf/), BOS / EOS and the end-of-generation
// tokens.
#include "tokenizer/hf_tokenizer.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

#include "lmgen/error.hpp"
#include "tokenizer/eog_texts.hpp"
#include "tokenizer/hf/merges.hpp"
#include "tokenizer/spm_merge.hpp"
#include "tokenizer/builders.hpp"
#include "util/json_file.hpp"
#include "util/json_limits.hpp"

namespace lmgen {

using json = nlohmann::json;

namespace {

// (by reference: a copy of a deep value would recurse)
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

}  // namespace

bool hf_tokenizer_is_byte_level(const json& tokenizer) {
  return json_has_type(member(tokenizer, "pre_tokenizer"), "ByteLevel", "pretokenizers") ||
         json_has_type(member(tokenizer, "decoder"), "ByteLevel", "decoders");
}

HfTokenizer::HfTokenizer(const json& tok, const json& config, const std::string& path)
    : path_(path), byte_level_(hf_tokenizer_is_byte_level(tok)) {
  const json& model = member(tok, "model");
  if (!model.is_object()) throw Error(path_, "tokenizer.json has no \"model\" object");
  added_ = AddedTokens(member(tok, "added_tokens"), path);
  load_model(model, added_.tokens().size());
  normalizer_ = Normalizer::from_json(member(tok, "normalizer"), path);
  pre_ = PreTokenizer::from_json(member(tok, "pre_tokenizer"), path);
  added_.build_patterns(normalizer_);
  post_ = PostProcessor(member(tok, "post_processor"), path, [&](const std::string& s) { return lookup(s); });
  if (post_.max_id() >= n_vocab())
    throw Error(path_, "post-processor adds token id " + std::to_string(post_.max_id()) +
                           " beyond the vocabulary (" + std::to_string(n_vocab()) + " tokens)");
  decoder_ = Decoder(member(tok, "decoder"), path);
  space_prefix_ = !byte_level_ && (normalizer_.prepends_space() || pre_.prepends_space());

  // What token_to_piece gives: an added token as written (byte-level: its byte characters decoded where they all
  // are ones), a model token through the decoder's per-token steps, a <0xNN> token its byte.
  pieces_.resize(vocab_.size());
  for (int32_t id = 0; id < vocab_.size(); ++id) {
    const AddedToken* t = added_.by_id(id);
    std::string& p = pieces_[id];
    uint8_t b = 0;
    if (byte_level_) {
      const std::string& s = t ? t->content : vocab_.text(id);
      if (!byte_level_decode(s, p)) p = s;
    } else if (t) {
      p = t->content;
    } else if (byte_fallback_ && Vocab::parse_byte_piece(vocab_.text(id), b)) {
      p.assign(1, static_cast<char>(b));
    } else if (in_model_[id]) {
      p = decoder_.piece(vocab_.text(id));
    }
  }
  for (const AddedToken& t : added_.tokens()) vocab_.set_attr(t.id, t.special ? Vocab::kControl : Vocab::kNormal);
  set_specials(config);
}

int32_t HfTokenizer::lookup(std::string_view s) const {
  if (int32_t id = added_.find(s); id >= 0) return id;
  return vocab_.find(s);
}

// model.vocab (text -> id), the options of the BPE model, its merges; the id -> text table (added tokens fill the
// ids the model does not name).
void HfTokenizer::load_model(const json& m, size_t n_added) {
  if (m.value("type", std::string("BPE")) != "BPE") throw Error(path_, "model type is not BPE");
  const json& vocab = member(m, "vocab");
  if (!vocab.is_object()) throw Error(path_, "model.vocab missing or not an object");
  for (const char* k : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (m.contains(k) && m[k].is_string() && !m[k].get<std::string>().empty())
      throw Error(path_, std::string("BPE model option ") + k + " is not supported");
  std::vector<std::pair<const std::string*, int32_t>> entries;
  entries.reserve(vocab.size());
  int64_t max_id = -1;
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    const int64_t id = it.value().is_number_integer() ? it.value().get<int64_t>() : -1;
    if (id < 0 || id >= (int64_t{1} << 24))
      throw Error(path_, "model.vocab['" + it.key() + "'] is not a token id (an integer from 0 to 2^24)");
    entries.emplace_back(&it.key(), static_cast<int32_t>(id));
    max_id = std::max(max_id, id);
  }
  for (const AddedToken& t : added_.tokens()) max_id = std::max<int64_t>(max_id, t.id);
  if (max_id < 0) throw Error(path_, "empty vocabulary");
  // Ids far beyond the number of tokens defined would size the id -> text table from one field (a 150-byte file
  // asking for 16M entries); real vocabularies are dense, with at most some padding.
  const size_t n_defined = entries.size() + n_added;
  if (static_cast<size_t>(max_id) >= 2 * n_defined + 1024)
    throw Error(path_, "token id " + std::to_string(max_id) + " is far beyond the " + std::to_string(n_defined) +
                           " tokens defined (sparse ids are not supported)");
  vocab_.assign_empty(static_cast<size_t>(max_id) + 1, entries.size());
  in_model_.assign(vocab_.size(), 0);
  word_split_ = !byte_level_;
  for (const auto& [text, id] : entries) {
    vocab_.set_text(id, *text, /*index=*/true);
    in_model_[id] = 1;
    word_split_ = word_split_ && spm::space_only_leading(*text);
  }
  for (const AddedToken& t : added_.tokens())
    if (vocab_.text(t.id).empty()) vocab_.set_text(t.id, t.content, /*index=*/false);
  byte_fallback_ = m.value("byte_fallback", false);
  fuse_unk_ = m.value("fuse_unk", false);
  ignore_merges_ = m.value("ignore_merges", false);
  if (m.contains("unk_token") && m["unk_token"].is_string()) {
    const std::string u = m["unk_token"];
    unk_ = vocab_.find(u);
    if (unk_ < 0) throw Error(path_, "model.unk_token '" + u + "' is not in the vocabulary");
  }
  space_id_ = vocab_.find(spm::kSpace);
  word_split_ = word_split_ && space_id_ >= 0;
  for (int b = 0; b < 256; ++b)
    byte_id_[b] = byte_level_ ? vocab_.find(byte_char_utf8(static_cast<uint8_t>(b)))
                              : vocab_.byte_piece_id(static_cast<uint8_t>(b));
  read_merges(m, path_, vocab_, merges_);
  if (byte_level_ && ignore_merges_) {  // a whole word is looked up by its bytes
    raw_texts_.assign(vocab_.size(), std::string());
    raw_to_id_.init(&raw_texts_, entries.size());
    for (const auto& [text, id] : entries)
      if (byte_level_decode(*text, raw_texts_[id])) raw_to_id_.put(id);
  }
}

// BOS / EOS from tokenizer_config.json (a string or {"content": ...}; null: none), else the family's usual texts;
// the post-processor's first special token is the BOS it adds. End of generation: EOS and the end-of-turn texts.
void HfTokenizer::set_specials(const json& config) {
  auto named = [&](const char* key, std::string_view fallback) -> int32_t {
    const json& v = member(config, key);
    if (v.is_string()) return lookup(v.get<std::string>());
    if (v.is_object() && v.contains("content") && v["content"].is_string()) return lookup(v["content"].get<std::string>());
    if (config.is_object() && config.contains(key)) return -1;  // null (or unusable): none
    return fallback.empty() ? -1 : lookup(fallback);
  };
  bos_ = named("bos_token", byte_level_ ? "" : "<s>");
  eos_ = named("eos_token", byte_level_ ? "<|endoftext|>" : "</s>");
  add_bos_ = post_.first_special() >= 0;
  if (add_bos_) bos_ = post_.first_special();
  std::set<int32_t> eog;
  if (eos_ >= 0) eog.insert(eos_);
  for (std::string_view t : eog_texts(byte_level_ ? EogFamily::ByteLevel : EogFamily::SentencePiece))
    if (int32_t id = added_.find(t); id >= 0) eog.insert(id);
  eog_.assign(eog.begin(), eog.end());
}

static std::unique_ptr<Tokenizer> make_hf_tokenizer(const json& tokenizer, const json& config, const std::string& path) {
  try {
    return std::make_unique<HfTokenizer>(tokenizer, config, path);
  } catch (const json::exception& e) {
    throw Error(path, std::string("malformed tokenizer.json: ") + json_error_text(e));
  }
}

std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& tokenizer_json_path) {
  nlohmann::json tok = read_json_file(tokenizer_json_path);
  nlohmann::json config;
  auto cfg_path = std::filesystem::path(tokenizer_json_path).parent_path() / "tokenizer_config.json";
  if (std::filesystem::exists(cfg_path)) config = read_json_file(cfg_path.string());
  if (!tok.is_object() || !tok.contains("model") || !tok["model"].is_object())
    throw Error(tokenizer_json_path, "not a tokenizer.json (no \"model\" object)");
  std::string type = tok["model"].value("type", std::string("BPE"));
  if (type != "BPE") throw Error(tokenizer_json_path, "unsupported tokenizer model type '" + type + "' (supported: BPE)");
  return make_hf_tokenizer(tok, config, tokenizer_json_path);
}

}  // namespace lmgen
