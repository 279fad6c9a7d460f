// Byte-level BPE tokenizer of a GGUF vocabulary (GPT-2 family), with llama.cpp's semantics.
//
// Encoding works on raw bytes throughout: a pre-token's bytes b0..bn start as the ids of the single-character
// tokens byte_to_char(bi), and merges are looked up as (left id, right id) -> (rank, merged id). The lowest rank
// merges first, the leftmost pair among equal ranks (the order of both llama.cpp and HF). Results of words up to
// 256 bytes are cached per tokenizer.
#include "tokenizer/gguf_bpe_tokenizer.hpp"


namespace lmgen {

using namespace bpe;  // the merge engine

void GgufBpeTokenizer::build_byte_ids() {
  byte_id_.fill(-1);
  StrIdMap exact;
  size_t n_short = 0;
  for (const std::string& t : vocab_.texts()) n_short += t.size() <= 2;
  exact.init(&vocab_.texts(), n_short);
  for (int32_t id = n_vocab(); id-- > 0;)  // the lowest id wins (in vocab_.find() the highest does)
    if (vocab_.text(id).size() <= 2 && !vocab_.text(id).empty()) exact.put(id);
  for (int b = 0; b < 256; ++b) byte_id_[b] = exact.get(byte_char_utf8(static_cast<uint8_t>(b)));
}

// ---------------------------------------------------------------------------------------------------------------
// BPE

void GgufBpeTokenizer::bpe_word(std::string_view w, std::vector<int32_t>& out) const {
  if (w.size() == 1) {
    int32_t id = byte_id_[static_cast<unsigned char>(w[0])];
    if (id >= 0) out.push_back(id);
    return;
  }
  if (ignore_merges_) {
    int32_t id = raw_to_id_.get(w);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  if (cache_.get(w, out)) return;
  std::vector<int32_t> syms;
  syms.reserve(w.size());
  for (unsigned char c : w)
    if (byte_id_[c] >= 0) syms.push_back(byte_id_[c]);
  merge(syms, merges_);
  out.insert(out.end(), syms.begin(), syms.end());
  cache_.put(w, std::move(syms));
}

void GgufBpeTokenizer::encode_text(std::string_view text, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  if (text.size() >= (1ull << 31)) throw Error(path_, "text to encode is too long (2 GiB or more)");
  std::string buf(text);
  std::vector<Span> words;
  if (pretok_.empty()) words.push_back({0, static_cast<uint32_t>(buf.size())});
  else pretok_.split(buf, words);
  for (const Span& s : words) bpe_word(std::string_view(buf.data() + s.begin, s.end - s.begin), out);
}

// ---------------------------------------------------------------------------------------------------------------
// encode / decode

std::vector<int32_t> GgufBpeTokenizer::encode(std::string_view text, const EncodeOptions& opt) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  std::vector<Fragment> frags;
  if (opt.add_special && add_bos_ && bos_ >= 0) out.push_back(bos_);
  split_specials(text, gguf_specials_, opt.parse_special, frags);
  for (const Fragment& f : frags) {
    if (f.token >= 0) out.push_back(f.token);
    else encode_text(text.substr(f.begin, f.end - f.begin), out);
  }
  if (opt.add_special && add_eos_ && eos_ >= 0) out.push_back(eos_);
  return out;
}

std::string GgufBpeTokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  std::string out;
  // llama.cpp detokenize(remove_special = skip_special, unparse_special = !skip_special)
  size_t b = 0, e = ids.size();
  if (skip_special && add_bos_ && e > b && ids[b] == bos_) ++b;
  if (skip_special && add_eos_ && e > b && ids[e - 1] == eos_) --e;
  for (size_t k = b; k < e; ++k) out += token_to_piece(ids[k], !skip_special);
  if (!clean_spaces_ || out.empty()) return out;
  auto pass = [&](auto&& keep_prev_space) {
    std::string r;
    r.reserve(out.size());
    r.push_back(out[0]);
    for (size_t i = 1; i < out.size(); ++i) {
      char x = out[i];
      if (out[i - 1] == ' ' && !keep_prev_space(i)) r.pop_back();
      r.push_back(x);
    }
    out.swap(r);
  };
  // " ?", " !", " .", " ,"
  pass([&](size_t i) { char x = out[i]; return !(x == '?' || x == '!' || x == '.' || x == ','); });
  {  // " ' " -> "'"
    std::string r;
    r.push_back(out[0]);
    for (size_t i = 1; i < out.size(); ++i) {
      char x = out[i];
      if (x == '\'' && i + 1 < out.size() && out[i - 1] == ' ' && out[i + 1] == ' ') {
        r.pop_back();
        r.push_back(x);
        ++i;
        continue;
      }
      r.push_back(x);
    }
    out.swap(r);
  }
  // " 's", " 'm", " 're", " 've"
  pass([&](size_t i) {
    if (out[i] != '\'' || i + 1 >= out.size()) return true;
    char x1 = out[i + 1];
    if (x1 == 's' || x1 == 'm') return false;
    if (i + 2 < out.size()) {
      char x2 = out[i + 2];
      if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) return false;
    }
    return true;
  });
  return out;
}

void GgufBpeTokenizer::finish_pieces() {
  pieces_.resize(vocab_.size());
  decoded_.assign(vocab_.size(), 0);
  for (int32_t id = 0; id < vocab_.size(); ++id) {
    // llama.cpp: normal tokens are byte-decoded, control/user-defined/unknown shown as written, others empty.
    bool raw = false;
    const uint32_t a = vocab_.attr(id);
    if (a & (Vocab::kControl | Vocab::kUserDefined | Vocab::kUnknown)) raw = true;
    else if (!(a & Vocab::kNormal)) {
      pieces_[id].clear();
      continue;
    }
    if (!raw && byte_level_decode(vocab_.text(id), pieces_[id])) decoded_[id] = 1;
    else pieces_[id] = vocab_.text(id);
  }
}

}  // namespace lmgen
