// HF tokenizer.json SentencePiece-style BPE (Llama-2 family), with the HF tokenizers library's semantics:
//   added tokens (non-normalized ones matched on the raw text, normalized ones on the normalized text, honouring
//   lstrip / rstrip / single_word), normalizer (Prepend, Replace, Strip, NFC/NFKC/..., Lowercase, Sequence),
//   pre-tokenizer (Metaspace, Split, ...: hf/pretokenizer), BPE by merge rank (the shared engine, bpe.hpp) over
//   characters with byte fallback / unk, post-processor (hf/post_processor), and the decoder chain (hf/decoder).
//   Llama 2 and Gemma 3 tokenizer.json files take this path.
#include <algorithm>
#include <queue>
#include <unordered_map>

#include "lmgen/error.hpp"
#include "util/utf8.hpp"
#include "tokenizer/bpe.hpp"
#include "tokenizer/hf/added_tokens.hpp"
#include "tokenizer/hf/post_processor.hpp"
#include "tokenizer/hf/pretokenizer.hpp"
#include "tokenizer/hf/bpe_model.hpp"
#include "tokenizer/hf/decoder.hpp"
#include "tokenizer/eog_texts.hpp"
#include "tokenizer/spm_vocab.hpp"
#include "tokenizer/tokenizer_internal.hpp"

namespace lmgen {

namespace {

using nlohmann::json;

class HfSpmTokenizer final : public Tokenizer {
 public:
  HfSpmTokenizer(const json& tok, const json& config, const std::string& path) : path_(path) {
    load_model(tok.at("model"));
    auto field = [&](const char* k) -> const json& {  // by reference: a copy of a deep value would recurse
      static const json null_json;
      return tok.contains(k) ? tok[k] : null_json;
    };
    added_ = AddedTokens(field("added_tokens"), path);
    for (const AddedToken& t : added_.tokens())
      check_dense(t.id, n_model_ + added_.tokens().size(), "added_tokens");
    for (const AddedToken& t : added_.tokens()) {
      if (t.id >= static_cast<int32_t>(texts_.size())) texts_.resize(t.id + 1);
      if (texts_[t.id].empty()) texts_[t.id] = t.content;
    }
    in_vocab_.resize(texts_.size(), false);
    normalizer_ = lmgen::Normalizer::from_json(field("normalizer"), path);
    pre_ = PreTokenizer::from_json(field("pre_tokenizer"), path);
    added_.build_patterns(normalizer_);
    post_ = PostProcessor(field("post_processor"), path,
                          [&](const std::string& s) { return lookup(s); });
    if (post_.max_id() >= static_cast<int32_t>(texts_.size()))
      throw Error(path_, "post-processor adds token id " + std::to_string(post_.max_id()) +
                             " beyond the vocabulary (" + std::to_string(texts_.size()) + " tokens)");
    decoder_ = Decoder(field("decoder"), path);
    space_prefix_ = normalizer_.prepends_space() || pre_.prepends_space();

    auto special_id = [&](const char* key, const char* fallback) -> int32_t {
      if (config.is_object() && config.contains(key)) {
        const json& v = config[key];
        std::string s = v.is_string() ? v.get<std::string>()
                        : v.is_object() && v.contains("content") && v["content"].is_string()
                            ? v["content"].get<std::string>()
                            : std::string();
        if (!s.empty()) return lookup(s);
        if (v.is_null()) return -1;
      }
      return lookup(fallback);
    };
    bos_ = special_id("bos_token", "<s>");
    eos_ = special_id("eos_token", "</s>");
    if (post_.first_special() >= 0) bos_ = post_.first_special();
    if (eos_ >= 0) eog_.push_back(eos_);
    for (std::string_view t : eog_texts(EogFamily::SentencePiece))
      if (int32_t id = added_.find(t); id >= 0) eog_.push_back(id);
    std::sort(eog_.begin(), eog_.end());
  }

  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& opt) const override {
    std::vector<int32_t> ids;
    ids.reserve(text.size() / 2 + 4);
    std::string buf;
    std::vector<Span> words;
    std::vector<Fragment> raw_frags, norm_frags;
    // 1. Added tokens that are matched on the raw text.
    added_.split(text, /*normalized=*/false, opt.parse_special, raw_frags);
    for (const Fragment& raw : raw_frags) {
      if (raw.token >= 0) {
        ids.push_back(raw.token);
        continue;
      }
      // 2. Normalize the rest, then match the normalized added tokens.
      std::string norm(text.substr(raw.begin, raw.end - raw.begin));
      normalizer_.apply(norm);
      added_.split(norm, /*normalized=*/true, opt.parse_special, norm_frags);
      for (const Fragment& np : norm_frags) {
        if (np.token >= 0) {
          ids.push_back(np.token);
          continue;
        }
        // 3. Pre-tokenize and run the BPE model on every word.
        std::string_view piece = std::string_view(norm).substr(np.begin, np.end - np.begin);
        if (pre_.empty()) {
          bpe(piece, ids);
          continue;
        }
        buf.assign(piece);
        words.clear();
        pre_.split(buf, words, raw.begin == 0 && np.begin == 0);
        for (const Span& w : words) bpe(std::string_view(buf).substr(w.begin, w.end - w.begin), ids);
      }
    }
    if (opt.add_special) return post_.apply(ids);
    return ids;
  }

  std::string token_to_piece(int32_t id, bool render_special) const override {
    check(id);
    if (const AddedToken* t = added_.by_id(id)) {
      if (t->special && !render_special) return std::string();
      return t->content;
    }
    const std::string& s = texts_[id];
    uint8_t b = 0;
    if (byte_fallback_ && spm::Vocab::parse_byte_piece(s, b)) return std::string(1, static_cast<char>(b));
    return decoder_.piece(s);
  }

  std::string stream_piece(int32_t id, int32_t prev, bool render_special) const override {
    std::string p = token_to_piece(id, render_special);
    bool first = (prev >= 0 && prev == bos_) || (prev == -1 && space_prefix_);
    if (first && !p.empty() && p[0] == ' ') p.erase(0, 1);
    return p;
  }

  std::string decode(std::span<const int32_t> ids, bool skip_special) const override {
    std::vector<std::string> toks;
    toks.reserve(ids.size());
    for (int32_t id : ids) {
      if (id < 0 || id >= static_cast<int32_t>(texts_.size())) continue;  // unknown ids are dropped, as HF
      if (const AddedToken* t = added_.by_id(id)) {
        if (skip_special && t->special) continue;
        toks.push_back(t->content);
      } else if (!texts_[id].empty() || in_vocab_[id]) {
        toks.push_back(texts_[id]);
      }
    }
    return decoder_.decode(std::move(toks));
  }

  int32_t n_vocab() const override { return static_cast<int32_t>(texts_.size()); }
  int32_t bos_id() const override { return bos_; }
  int32_t eos_id() const override { return eos_; }
  bool add_bos() const override { return post_.first_special() >= 0; }
  bool is_eog(int32_t id) const override { return std::binary_search(eog_.begin(), eog_.end(), id); }
  bool is_special(int32_t id) const override {
    const AddedToken* t = added_.by_id(id);
    return t && t->special;
  }
  std::string token_text(int32_t id) const override {
    check(id);
    return texts_[id];
  }

 private:
  void check(int32_t id) const {
    if (id < 0 || id >= static_cast<int32_t>(texts_.size()))
      throw Error(path_, "token id " + std::to_string(id) + " out of range (vocabulary has " +
                             std::to_string(texts_.size()) + " tokens)");
  }

  // Ids far beyond the number of tokens would make the id -> text table huge (and are not a real vocabulary).
  void check_dense(int64_t id, size_t n_tokens, const char* what) const {
    if (id >= 2 * static_cast<int64_t>(n_tokens) + 1024)
      throw Error(path_, std::string(what) + ": token id " + std::to_string(id) + " is far beyond the " +
                             std::to_string(n_tokens) + " tokens defined (sparse ids are not supported)");
  }

  int32_t lookup(const std::string& s) const {
    if (int32_t id = added_.find(s); id >= 0) return id;
    return vocab_.get(s);
  }

  void load_model(const json& m) {
    if (!m.is_object()) throw Error(path_, "\"model\" is not an object");
    if (m.value("type", std::string("BPE")) != "BPE") throw Error(path_, "model type is not BPE");
    if (!m.contains("vocab") || !m["vocab"].is_object()) throw Error(path_, "model.vocab missing or not an object");
    for (const char* k : {"continuing_subword_prefix", "end_of_word_suffix"})
      if (m.contains(k) && !m[k].is_null() && !m[k].get<std::string>().empty())
        throw Error(path_, std::string("BPE model option ") + k + " is not supported");
    const json& vocab = m["vocab"];
    std::vector<std::pair<const std::string*, int32_t>> entries;
    entries.reserve(vocab.size());
    int64_t max_id = -1;
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
      if (!it.value().is_number_integer()) throw Error(path_, "model.vocab['" + it.key() + "'] is not an integer id");
      int64_t id = it.value().get<int64_t>();
      if (id < 0 || id >= (int64_t{1} << 24))
        throw Error(path_, "model.vocab['" + it.key() + "'] = " + std::to_string(id) + " is out of range");
      entries.emplace_back(&it.key(), static_cast<int32_t>(id));
      max_id = std::max(max_id, id);
    }
    n_model_ = entries.size();
    check_dense(max_id, vocab.size(), "model.vocab");
    texts_.assign(static_cast<size_t>(max_id + 1), std::string());
    in_vocab_.assign(static_cast<size_t>(max_id + 1), false);
    vocab_.init(&texts_, entries.size());
    word_split_ = true;
    for (const auto& [text, id] : entries) {
      texts_[id] = *text;
      in_vocab_[id] = true;
      vocab_.put(id);
      word_split_ = word_split_ && spm::space_only_leading(*text);
    }
    space_id_ = vocab_.get(spm::kSpace);
    byte_fallback_ = m.value("byte_fallback", false);
    fuse_unk_ = m.value("fuse_unk", false);
    ignore_merges_ = m.value("ignore_merges", false);
    if (m.contains("unk_token") && m["unk_token"].is_string()) {
      std::string u = m["unk_token"];
      unk_ = vocab_.get(u);
      if (unk_ < 0) throw Error(path_, "model.unk_token '" + u + "' is not in the vocabulary");
    }
    for (int b = 0; b < 256; ++b) {
      static const char* hex = "0123456789ABCDEF";
      byte_id_[b] = vocab_.get(std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">");
    }
    read_merges(m, path_, vocab_, merges_);
  }

  // BPE on one word. With a vocabulary where "▁" only leads tokens, a "▁" after another character starts a
  // chunk that no merge crosses: each chunk is merged (and cached) on its own.
  void bpe(std::string_view w, std::vector<int32_t>& out) const {
    if (w.empty()) return;
    if (ignore_merges_) {
      if (int32_t id = vocab_.get(w); id >= 0) {
        out.push_back(id);
        return;
      }
    }
    if (!word_split_ || space_id_ < 0) return bpe_chunk(w, out);
    const std::string_view sp = spm::kSpace;
    size_t a = 0;
    for (size_t i = 1; i < w.size(); ++i) {
      if (w.compare(i, sp.size(), sp) != 0 || w.compare(i - sp.size(), sp.size(), sp) == 0) continue;
      bpe_chunk(w.substr(a, i - a), out);
      a = i;
    }
    bpe_chunk(w.substr(a), out);
  }

  // Characters (vocabulary tokens, else byte fallback, else unk), then the shared rank-ordered merge engine.
  void bpe_chunk(std::string_view w, std::vector<int32_t>& out) const {
    if (cache_.get(w, out)) return;
    std::vector<int32_t> syms;
    syms.reserve(w.size());
    int32_t pending_unk = 0;  // number of fused unknown characters waiting
    for (size_t i = 0; i < w.size();) {
      size_t n = std::min(utf8::lead_len(static_cast<unsigned char>(w[i])), w.size() - i);
      std::string_view ch = w.substr(i, n);
      i += n;
      if (int32_t id = vocab_.get(ch); id >= 0) {
        if (pending_unk) syms.push_back(unk_), pending_unk = 0;
        syms.push_back(id);
        continue;
      }
      if (byte_fallback_) {
        bool all = true;
        for (unsigned char c : ch) all = all && byte_id_[c] >= 0;
        if (all) {
          // (as HF, a pending unk is not flushed here but after these bytes)
          for (unsigned char c : ch) syms.push_back(byte_id_[c]);
          continue;
        }
      }
      if (unk_ < 0) continue;  // no unk token: the character is dropped, as HF does
      if (pending_unk && !fuse_unk_) syms.push_back(unk_);
      pending_unk = 1;
    }
    if (pending_unk) syms.push_back(unk_);
    bpe::merge(syms, merges_);
    out.insert(out.end(), syms.begin(), syms.end());
    cache_.put(w, syms.data(), syms.size());
  }

  std::string path_;
  std::vector<std::string> texts_;  // id -> model or added token text ("" for ids nobody names)
  bpe::StrIdMap vocab_;             // model token text -> id (keys are texts_ entries)
  size_t n_model_ = 0;              // number of model.vocab entries
  std::vector<bool> in_vocab_;
  bpe::MergeTable merges_;
  bpe::WordCache cache_;
  int32_t byte_id_[256] = {};
  int32_t unk_ = -1;
  int32_t space_id_ = -1;    // id of "▁"
  bool word_split_ = false;  // every vocabulary token satisfies spm::space_only_leading
  bool byte_fallback_ = false, fuse_unk_ = false, ignore_merges_ = false;
  AddedTokens added_;
  lmgen::Normalizer normalizer_;
  PreTokenizer pre_;
  PostProcessor post_;
  Decoder decoder_;
  bool space_prefix_ = false;
  int32_t bos_ = -1, eos_ = -1;
  std::vector<int32_t> eog_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_hf_spm_tokenizer(const nlohmann::json& tokenizer, const nlohmann::json& config,
                                                 const std::string& path) {
  try {
    return std::make_unique<HfSpmTokenizer>(tokenizer, config, path);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path, std::string("malformed tokenizer.json: ") + e.what());
  }
}

}  // namespace lmgen
