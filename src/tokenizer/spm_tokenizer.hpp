// The score-ordered SentencePiece-style tokenizer with llama.cpp semantics, built from GGUF tokenizer.ggml.*
// metadata (tokenizer.ggml.model == "llama", build_gguf.cpp) or from a llama2.c tokenizer.bin (build_llama2c.cpp).
//
// Encoding (llama.cpp llm_tokenizer_spm + tokenizer_st_partition):
//   1. with parse_special, control / user-defined / unknown token texts found in the input are cut out as whole
//      tokens, longest text first (user-defined ones are cut out even without parse_special);
//   2. each remaining text fragment that starts the input or follows a special token gets a " " prefix
//      (add_space_prefix), spaces become "▁", and the fragment is merged pair by pair, highest score first;
//   3. characters that are no token fall back to <0xNN> byte tokens.
// llama2.c's encode (dummy " " prefix, best-score merges, byte fallback) is the same algorithm on plain text.
// Internal to the library.
#pragma once

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "lmgen/error.hpp"
#include "lmgen/tokenizer.hpp"
#include "tokenizer/eog_texts.hpp"
#include "tokenizer/special_split.hpp"
#include "tokenizer/spm_merge.hpp"
#include "tokenizer/vocab.hpp"

namespace lmgen {

struct SpmConfig {
  std::string source;  // file path, for messages
  int32_t bos = -1, eos = -1, unk = -1, pad = -1, eot = -1, eom = -1;
  bool add_bos = true, add_eos = false, add_space_prefix = true;
  // decode() as llama2.c / SentencePiece: the leading space of the first piece and of any piece after BOS is
  // dropped (instead of llama.cpp's llama_detokenize rules).
  bool sentencepiece_decode = false;
};

class SpmTokenizer final : public Tokenizer {
 public:
  SpmTokenizer(Vocab vocab, SpmConfig cfg) : v_(std::move(vocab)), prep_(v_), c_(std::move(cfg)) { init(); }

  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& opt) const override {
    std::vector<int32_t> out;
    out.reserve(text.size() / 2 + 4);
    bool prev_special = true;  // the first fragment gets the space prefix too
    if (opt.add_special && c_.add_bos) {
      if (c_.bos < 0) throw Error(c_.source, "tokenizer adds BOS but has no BOS token");
      out.push_back(c_.bos);
    }
    std::vector<Fragment> frags;
    split_specials(text, specials_, opt.parse_special, frags);
    for (const Fragment& f : frags) {
      if (f.token >= 0) {
        out.push_back(f.token);
        prev_special = true;
        continue;
      }
      std::string s;
      s.reserve(f.end - f.begin + 8);
      if (c_.add_space_prefix && prev_special) s += ' ';
      s.append(text.substr(f.begin, f.end - f.begin));
      spm::encode_score_merge(v_, prep_, spm::escape_spaces(s), out, c_.unk);
      prev_special = false;
    }
    if (opt.add_special && c_.add_eos) {
      if (c_.eos < 0) throw Error(c_.source, "tokenizer adds EOS but has no EOS token");
      out.push_back(c_.eos);
    }
    return out;
  }

  std::string token_to_piece(int32_t id, bool render_special) const override {
    check(id);
    uint32_t a = v_.attr(id);
    if (a & (Vocab::kUnknown | Vocab::kControl)) return render_special ? v_.text(id) : std::string();
    if (a & Vocab::kUserDefined) return v_.text(id);
    if (a & Vocab::kNormal) return spm::unescape_spaces(v_.text(id));
    if (a & Vocab::kByte) {
      uint8_t b = 0;
      if (Vocab::parse_byte_piece(v_.text(id), b)) return std::string(1, static_cast<char>(b));
      return std::string();
    }
    return std::string();  // unused / undefined
  }

  std::string stream_piece(int32_t id, int32_t prev, bool render_special) const override {
    std::string p = token_to_piece(id, render_special);
    bool first = (prev >= 0 && prev == c_.bos) || (prev == -1 && c_.add_space_prefix);
    if (first && !p.empty() && p[0] == ' ') p.erase(0, 1);
    return p;
  }

  // llama.cpp llama_detokenize(remove_special = skip_special, unparse_special = !skip_special).
  std::string decode(std::span<const int32_t> ids, bool skip_special) const override {
    if (c_.sentencepiece_decode) {
      std::string out;
      for (size_t i = 0; i < ids.size(); ++i) {
        std::string p = token_to_piece(ids[i], !skip_special);
        if ((i == 0 || ids[i - 1] == c_.bos) && !p.empty() && p[0] == ' ') p.erase(0, 1);
        out += p;
      }
      return out;
    }
    size_t b = 0, e = ids.size();
    bool remove_space = c_.add_space_prefix;
    if (skip_special && c_.add_bos && e > b && ids[b] == c_.bos) {
      remove_space = false;
      ++b;
    }
    if (skip_special && c_.add_eos && e > b && ids[e - 1] == c_.eos) --e;
    std::string out;
    for (size_t i = b; i < e; ++i) {
      std::string p = token_to_piece(ids[i], !skip_special);
      if (remove_space && !p.empty() && p[0] == ' ') p.erase(0, 1);
      remove_space = false;
      out += p;
    }
    return out;
  }

  int32_t n_vocab() const override { return v_.size(); }
  int32_t bos_id() const override { return c_.bos; }
  int32_t eos_id() const override { return c_.eos; }
  bool add_bos() const override { return c_.add_bos; }
  bool is_eog(int32_t id) const override { return std::binary_search(eog_.begin(), eog_.end(), id); }
  bool is_special(int32_t id) const override { return v_.is_special(id); }
  std::string token_text(int32_t id) const override {
    check(id);
    return v_.text(id);
  }

 private:
  void check(int32_t id) const {
    if (!v_.valid(id))
      throw Error(c_.source, "token id " + std::to_string(id) + " out of range (vocabulary has " +
                                 std::to_string(v_.size()) + " tokens)");
  }

  void init() {
    specials_ = special_texts(v_);
    // End-of-generation tokens: EOS, EOT, EOM, and the texts llama.cpp recognises as end-of-turn markers.
    std::set<int32_t> eog;
    for (std::string_view t : eog_texts(EogFamily::SentencePiece)) {
      int32_t id = v_.find(t);
      if (id >= 0) eog.insert(id);
    }
    for (int32_t id : {c_.eos, c_.eot, c_.eom})
      if (id >= 0) eog.insert(id);
    eog_.assign(eog.begin(), eog.end());
  }

  Vocab v_;
  spm::ScoreMergePrep prep_;  // of v_
  SpmConfig c_;
  std::vector<SpecialText> specials_;  // control / user-defined / unknown, longest text first (views of v_)
  std::vector<int32_t> eog_;      // sorted
};

}  // namespace lmgen
