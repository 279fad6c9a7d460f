// Encoding and decoding of the HF tokenizer.json pipeline (hf_tokenizer.hpp; built in build_tokenizer_json.cpp).
#include "tokenizer/hf_tokenizer.hpp"

#include <algorithm>

#include "lmgen/error.hpp"
#include "tokenizer/spm_merge.hpp"
#include "util/utf8.hpp"

namespace lmgen {

void HfTokenizer::check(int32_t id) const {
  if (id < 0 || id >= n_vocab())
    throw Error(path_, "token id " + std::to_string(id) + " out of range (vocabulary has " +
                           std::to_string(n_vocab()) + " tokens)");
}

bool HfTokenizer::is_eog(int32_t id) const { return std::binary_search(eog_.begin(), eog_.end(), id); }

std::vector<int32_t> HfTokenizer::encode(std::string_view text, const EncodeOptions& opt) const {
  if (text.size() >= (1ull << 31)) throw Error(path_, "text to encode is too long (2 GiB or more)");
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  std::vector<Fragment> raw_frags, norm_frags;
  // 1. Added tokens matched on the raw text.
  added_.split(text, /*normalized=*/false, opt.parse_special, raw_frags);
  for (const Fragment& raw : raw_frags) {
    if (raw.token >= 0) {
      out.push_back(raw.token);
      continue;
    }
    std::string_view piece = text.substr(raw.begin, raw.end - raw.begin);
    if (normalizer_.identity() && !added_.has_patterns(/*normalized=*/true)) {
      encode_words(piece, raw.begin == 0, out);
      continue;
    }
    // 2. Normalize the rest, then match the normalized added tokens.
    std::string norm(piece);
    normalizer_.apply(norm);
    added_.split(norm, /*normalized=*/true, opt.parse_special, norm_frags);
    for (const Fragment& np : norm_frags) {
      if (np.token >= 0) out.push_back(np.token);
      else encode_words(std::string_view(norm).substr(np.begin, np.end - np.begin), raw.begin == 0 && np.begin == 0, out);
    }
  }
  // 5. Special tokens of the post-processor.
  if (opt.add_special && !post_.empty()) return post_.apply(out);
  return out;
}

// 3. Pre-tokenize, and 4. BPE on every word.
void HfTokenizer::encode_words(std::string_view text, bool at_start, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  if (pre_.empty()) return bpe(text, out);
  std::string buf(text);
  std::vector<Span> words;
  pre_.split(buf, words, at_start);
  for (const Span& w : words) bpe(std::string_view(buf).substr(w.begin, w.end - w.begin), out);
}

// One word. With ignore_merges, a word that is itself a model token is that token. In a SentencePiece-style
// vocabulary where "▁" only leads tokens, a "▁" after another character starts a chunk no merge crosses: each
// chunk is merged (and cached) on its own.
void HfTokenizer::bpe(std::string_view w, std::vector<int32_t>& out) const {
  if (w.empty()) return;
  if (byte_level_ && w.size() == 1) {
    if (int32_t id = byte_id_[static_cast<unsigned char>(w[0])]; id >= 0) out.push_back(id);
    return;
  }
  if (ignore_merges_) {
    if (int32_t id = byte_level_ ? raw_to_id_.get(w) : vocab_.find(w); id >= 0) {
      out.push_back(id);
      return;
    }
  }
  if (!word_split_) return bpe_chunk(w, out);
  const std::string_view sp = spm::kSpace;
  size_t a = 0;
  for (size_t i = 1; i < w.size(); ++i) {
    // A chunk starts at a "▁" that does not follow another "▁" (a first word of one or two bytes puts the "▁" at
    // i < 3: there is no "▁" before it to compare with).
    if (!w.substr(i).starts_with(sp) || (i >= sp.size() && w.substr(i - sp.size()).starts_with(sp))) continue;
    bpe_chunk(w.substr(a, i - a), out);
    a = i;
  }
  bpe_chunk(w.substr(a), out);
}

void HfTokenizer::bpe_chunk(std::string_view w, std::vector<int32_t>& out) const {
  if (cache_.get(w, out)) return;
  std::vector<int32_t> syms;
  syms.reserve(w.size());
  if (byte_level_) {
    for (unsigned char c : w)
      if (byte_id_[c] >= 0) syms.push_back(byte_id_[c]);
  } else {
    char_symbols(w, syms);
  }
  bpe::merge(syms, merges_);
  out.insert(out.end(), syms.begin(), syms.end());
  cache_.put(w, std::move(syms));
}

// The starting symbols of a SentencePiece-style word: each character's token, else its bytes' <0xNN> tokens (with
// byte_fallback), else unk (consecutive unknown characters fused into one with fuse_unk; dropped without unk).
void HfTokenizer::char_symbols(std::string_view w, std::vector<int32_t>& syms) const {
  int32_t pending_unk = 0;
  for (size_t i = 0; i < w.size();) {
    size_t n = std::min(utf8::lead_len(static_cast<unsigned char>(w[i])), w.size() - i);
    std::string_view ch = w.substr(i, n);
    i += n;
    if (int32_t id = vocab_.find(ch); id >= 0) {
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
    if (unk_ < 0) continue;
    if (pending_unk && !fuse_unk_) syms.push_back(unk_);
    pending_unk = 1;
  }
  if (pending_unk) syms.push_back(unk_);
}

std::string HfTokenizer::stream_piece(int32_t id, int32_t prev, bool render_special) const {
  std::string p = token_to_piece(id, render_special);
  // SentencePiece-style text: the space the tokenizer put before the first word is not part of the output.
  const bool first = !byte_level_ && ((prev >= 0 && prev == bos_) || (prev == -1 && space_prefix_));
  if (first && !p.empty() && p[0] == ' ') p.erase(0, 1);
  return p;
}

std::string HfTokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  std::vector<std::string> toks;
  toks.reserve(ids.size());
  for (int32_t id : ids) {
    if (id < 0 || id >= n_vocab()) continue;  // unknown ids are dropped, as HF does
    if (skip_special && vocab_.is_special(id)) continue;
    if (const AddedToken* t = added_.by_id(id)) toks.push_back(t->content);
    else if (in_model_[id]) toks.push_back(vocab_.text(id));
  }
  return decoder_.decode(std::move(toks));
}

}  // namespace lmgen
