// Byte-level BPE tokenizer (GPT-2 family): GGUF (llama.cpp semantics) and HF tokenizer.json (HF semantics).
//
// Encoding works on raw bytes throughout: a pre-token's bytes b0..bn start as the ids of the single-character
// tokens byte_to_char(bi), and merges are looked up as (left id, right id) -> (rank, merged id). The lowest rank
// merges first, the leftmost pair among equal ranks (the order of both llama.cpp and HF). Results of words up to
// 256 bytes are cached per tokenizer.
#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <mutex>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "lmgen/error.hpp"
#include "normalizer.hpp"
#include "pretokenizer.hpp"
#include "tokenizer_internal.hpp"

namespace lmgen {

namespace {

using json = nlohmann::json;

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

uint64_t hash_bytes(std::string_view s) {
  uint64_t h = 0x243F6A8885A308D3ull ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
  }
  uint64_t w = 0;
  std::memcpy(&w, s.data() + i, s.size() - i);
  h = (h ^ w) * 0x9E3779B97F4A7C15ull;
  return h ^ (h >> 32);
}

// Open-addressing index string -> id over a string table (key of id i is (*keys)[i]). A slot keeps the key's
// length, 24 hash bits and first 8 bytes, so keys of up to 8 bytes are compared without touching the table.
class StrIdMap {
 public:
  void init(const std::vector<std::string>* keys, size_t n) {
    keys_ = keys;
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
    size_ = 0;
  }
  // Adds id under the key (*keys)[id]; an existing key is re-pointed only if `overwrite`.
  void put(int32_t id, bool overwrite = true) {
    if ((size_ + 1) * 2 > slots_.size()) {  // keep the load factor at most 1/2
      std::vector<Slot> old;
      old.swap(slots_);
      init(keys_, std::max<size_t>(16, old.size()));
      for (const Slot& s : old)
        if (s.id >= 0) put(s.id);
    }
    std::string_view k = (*keys_)[id];
    Probe p(k);
    for (size_t i = p.h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.id < 0) {
        s = Slot{p.tag, id, p.prefix};
        ++size_;
        return;
      }
      if (same(s, p, k)) {
        if (overwrite) s.id = id;
        return;
      }
    }
  }
  int32_t get(std::string_view k) const {
    if (slots_.empty()) return -1;
    Probe p(k);
    for (size_t i = p.h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id < 0) return -1;
      if (same(s, p, k)) return s.id;
    }
  }

 private:
  struct Slot {
    uint32_t tag = 0;  // hash bits 8..31 | min(length, 255)
    int32_t id = -1;
    uint64_t prefix = 0;
  };
  struct Probe {
    uint64_t h, prefix = 0;
    uint32_t tag;
    explicit Probe(std::string_view k) : h(hash_bytes(k)) {
      tag = (static_cast<uint32_t>(h >> 32) & ~0xFFu) | static_cast<uint32_t>(std::min<size_t>(k.size(), 255));
      std::memcpy(&prefix, k.data(), std::min<size_t>(k.size(), 8));
    }
  };
  bool same(const Slot& s, const Probe& p, std::string_view k) const {
    if (s.tag != p.tag || s.prefix != p.prefix) return false;
    return k.size() <= 8 || (*keys_)[s.id] == k;
  }
  const std::vector<std::string>* keys_ = nullptr;
  std::vector<Slot> slots_;
  size_t mask_ = 0, size_ = 0;
};

// Open-addressing map (left id, right id) -> (rank, merged id).
class MergeTable {
 public:
  void reserve(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
  }
  // Inserts; `overwrite` chooses whether a later duplicate replaces an earlier one.
  void insert(int32_t a, int32_t b, int32_t rank, int32_t merged, bool overwrite) {
    uint64_t key = pack(a, b);
    for (size_t i = hash(key);; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.key == kEmpty) {
        s = Slot{key, rank, merged};
        return;
      }
      if (s.key == key) {
        if (overwrite) s.rank = rank, s.merged = merged;
        return;
      }
    }
  }
  // Rank of (a,b) or INT_MAX; merged id in *merged.
  int32_t find(int32_t a, int32_t b, int32_t* merged) const {
    if (slots_.empty()) return INT_MAX;
    uint64_t key = pack(a, b);
    for (size_t i = hash(key);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) {
        *merged = s.merged;
        return s.rank;
      }
      if (s.key == kEmpty) return INT_MAX;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  struct Slot {
    uint64_t key = kEmpty;
    int32_t rank = 0, merged = 0;
  };
  static uint64_t pack(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  size_t hash(uint64_t k) const { return static_cast<size_t>((k * 0x9E3779B97F4A7C15ull) >> 17) & mask_; }
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

// Byte trie over special/added token texts: longest match starting at a position.
class TokenTrie {
 public:
  void add(std::string_view text, int32_t index) {
    if (text.empty()) return;
    if (nodes_.empty()) nodes_.emplace_back();
    first_[static_cast<unsigned char>(text[0])] = true;
    size_t n = 0;
    for (unsigned char c : text) {
      auto it = nodes_[n].next.find(c);
      if (it == nodes_[n].next.end()) {
        nodes_.emplace_back();
        nodes_[n].next[c] = nodes_.size() - 1;
        n = nodes_.size() - 1;
      } else {
        n = it->second;
      }
    }
    if (nodes_[n].index < 0) nodes_[n].index = index;
  }
  bool empty() const { return nodes_.empty(); }
  // Longest token starting at s[pos]: returns its length (0 if none) and index.
  size_t longest(std::string_view s, size_t pos, int32_t& index) const {
    if (nodes_.empty() || !first_[static_cast<unsigned char>(s[pos])]) return 0;
    size_t n = 0, best = 0;
    for (size_t k = pos; k < s.size(); ++k) {
      auto it = nodes_[n].next.find(static_cast<unsigned char>(s[k]));
      if (it == nodes_[n].next.end()) break;
      n = it->second;
      if (nodes_[n].index >= 0) best = k + 1 - pos, index = nodes_[n].index;
    }
    return best;
  }

 private:
  struct Node {
    std::unordered_map<unsigned char, size_t> next;
    int32_t index = -1;
  };
  std::vector<Node> nodes_;
  std::array<bool, 256> first_{};
};

// HF added token.
struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false, normalized = false, lstrip = false, rstrip = false, single_word = false;
};

// A piece of input: either a token id or a byte range of a text buffer.
struct Fragment {
  int32_t token;  // -1 for text
  size_t begin, end;
};

// GGUF token types (llama.cpp LLAMA_TOKEN_TYPE_*).
enum TokenType : uint8_t { kUndefined = 0, kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

const char* const kEogTexts[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                                 "<|eom_id|>", "<EOT>", "_<EOT>", "<|end_of_text|>"};


class BpeTokenizer final : public Tokenizer {
 public:
  enum class Flavor { Gguf, Hf };

  // ---- Tokenizer interface
  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& opt) const override;
  std::string token_to_piece(int32_t id, bool render_special) const override {
    if (id < 0 || id >= n_vocab()) return "";
    if (special_[id] && !render_special) return "";
    return pieces_[id];
  }
  std::string decode(std::span<const int32_t> ids, bool skip_special) const override;
  int32_t n_vocab() const override { return static_cast<int32_t>(tokens_.size()); }
  int32_t bos_id() const override { return bos_; }
  int32_t eos_id() const override { return eos_; }
  bool add_bos() const override { return add_bos_; }
  bool is_eog(int32_t id) const override { return eog_.count(id) != 0; }
  bool is_special(int32_t id) const override { return id >= 0 && id < n_vocab() && special_[id]; }
  std::string token_text(int32_t id) const override {
    return id >= 0 && id < n_vocab() ? tokens_[id] : std::string();
  }

  // ---- construction (filled by the factories)
  Flavor flavor = Flavor::Hf;
  std::string path_;
  std::vector<std::string> tokens_;  // vocabulary strings
  std::vector<std::string> pieces_;  // bytes each token stands for
  std::vector<uint8_t> decoded_;     // pieces_[id] is the byte-level decoding of tokens_[id]
  std::vector<uint8_t> special_;     // rendered only with render_special
  std::vector<uint8_t> type_;        // GGUF token types
  std::array<int32_t, 256> byte_id_{};
  MergeTable merges_;
  StrIdMap raw_to_id_;  // raw bytes (views of pieces_) -> id, for ignore_merges
  bool ignore_merges_ = false;
  PreTokenizer pretok_;
  int32_t bos_ = -1, eos_ = -1;
  bool add_bos_ = false, add_eos_ = false;
  std::unordered_set<int32_t> eog_;
  // GGUF
  std::vector<int32_t> gguf_specials_;  // sorted longest text first
  bool clean_spaces_ = false;
  // HF
  std::vector<AddedToken> added_;
  TokenTrie trie_raw_, trie_norm_;  // indices into added_
  Normalizer normalizer_;
  std::vector<int32_t> post_prefix_, post_suffix_;  // TemplateProcessing "single" around $A
  bool byte_level_decoder_ = true;

  void finish_pieces();
  void build_byte_ids();

 private:
  void encode_text(std::string_view text, std::vector<int32_t>& out) const;
  void bpe_word(std::string_view w, std::vector<int32_t>& out) const;
  void bpe_merge(std::vector<int32_t>& syms) const;
  void bpe_merge_heap(std::vector<int32_t>& syms) const;
  void split_gguf_specials(std::string_view text, bool parse_special, std::vector<Fragment>& frags) const;
  void split_added(std::string_view text, const TokenTrie& trie, bool parse_special, std::vector<Fragment>& frags) const;

  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> cache_;
};

void BpeTokenizer::build_byte_ids() {
  byte_id_.fill(-1);
  StrIdMap exact;
  size_t n_short = 0;
  for (const std::string& t : tokens_) n_short += t.size() <= 2;
  exact.init(&tokens_, n_short);
  for (int32_t id = n_vocab(); id-- > 0;)  // the lowest id wins
    if (tokens_[id].size() <= 2 && !tokens_[id].empty()) exact.put(id);
  for (int b = 0; b < 256; ++b) byte_id_[b] = exact.get(byte_char_utf8(static_cast<uint8_t>(b)));
}

// ---------------------------------------------------------------------------------------------------------------
// BPE

void BpeTokenizer::bpe_merge(std::vector<int32_t>& s) const {
  size_t n = s.size();
  if (n < 2) return;
  if (n > 128) return bpe_merge_heap(s);
  int32_t rank[128], merged[128];
  for (size_t i = 0; i + 1 < n; ++i) rank[i] = merges_.find(s[i], s[i + 1], &merged[i]);
  while (n > 1) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < n; ++i)
      if (rank[i] < rank[best]) best = i;
    if (rank[best] == INT_MAX) break;
    s[best] = merged[best];
    for (size_t i = best + 1; i + 1 < n; ++i) s[i] = s[i + 1], rank[i] = rank[i + 1], merged[i] = merged[i + 1];
    --n;
    if (best > 0) rank[best - 1] = merges_.find(s[best - 1], s[best], &merged[best - 1]);
    if (best + 1 < n) rank[best] = merges_.find(s[best], s[best + 1], &merged[best]);
  }
  s.resize(n);
}

void BpeTokenizer::bpe_merge_heap(std::vector<int32_t>& s) const {
  const int n = static_cast<int>(s.size());
  std::vector<int> prev(n), next(n);
  for (int i = 0; i < n; ++i) prev[i] = i - 1, next[i] = i + 1 < n ? i + 1 : -1;
  struct Cand {
    int32_t rank;
    int pos;
    int32_t a, b, merged;
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> q;
  auto push = [&](int i) {
    if (i < 0 || next[i] < 0) return;
    int32_t m = 0;
    int32_t r = merges_.find(s[i], s[next[i]], &m);
    if (r != INT_MAX) q.push(Cand{r, i, s[i], s[next[i]], m});
  };
  for (int i = 0; i + 1 < n; ++i) push(i);
  std::vector<uint8_t> dead(n, 0);
  while (!q.empty()) {
    Cand c = q.top();
    q.pop();
    if (dead[c.pos] || s[c.pos] != c.a || next[c.pos] < 0 || s[next[c.pos]] != c.b) continue;
    int r = next[c.pos];
    s[c.pos] = c.merged;
    dead[r] = 1;
    next[c.pos] = next[r];
    if (next[r] >= 0) prev[next[r]] = c.pos;
    push(prev[c.pos]);
    push(c.pos);
  }
  size_t k = 0;
  for (int i = 0; i < n; ++i)
    if (!dead[i]) s[k++] = s[i];
  s.resize(k);
}

void BpeTokenizer::bpe_word(std::string_view w, std::vector<int32_t>& out) const {
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
  const bool cacheable = w.size() <= 256;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = cache_.find(w);
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> syms;
  syms.reserve(w.size());
  for (unsigned char c : w)
    if (byte_id_[c] >= 0) syms.push_back(byte_id_[c]);
  bpe_merge(syms);
  out.insert(out.end(), syms.begin(), syms.end());
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (cache_.size() < 200000) cache_.emplace(std::string(w), std::move(syms));
  }
}

void BpeTokenizer::encode_text(std::string_view text, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  if (text.size() >= (1ull << 31)) throw Error(path_, "text to encode is too long (2 GiB or more)");
  std::string buf(text);
  std::vector<Span> words;
  if (pretok_.empty()) words.push_back({0, static_cast<uint32_t>(buf.size())});
  else pretok_.split(buf, words);
  for (const Span& s : words) bpe_word(std::string_view(buf.data() + s.begin, s.end - s.begin), out);
}

// ---------------------------------------------------------------------------------------------------------------
// Special / added tokens in the input

// llama.cpp: every special token text, longest first, is cut out of every remaining text fragment.
void BpeTokenizer::split_gguf_specials(std::string_view text, bool parse_special, std::vector<Fragment>& frags) const {
  frags.assign(1, Fragment{-1, 0, text.size()});
  std::vector<Fragment> next;
  for (int32_t id : gguf_specials_) {
    if (!parse_special && (type_[id] == kControl || type_[id] == kUnknown)) continue;
    const std::string& t = tokens_[id];
    next.clear();
    bool changed = false;
    for (const Fragment& f : frags) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      size_t pos = f.begin;
      while (pos < f.end) {
        size_t hit = text.substr(0, f.end).find(t, pos);
        if (hit == std::string_view::npos) break;
        if (hit > pos) next.push_back(Fragment{-1, pos, hit});
        next.push_back(Fragment{id, hit, hit + t.size()});
        pos = hit + t.size();
        changed = true;
      }
      if (pos < f.end) next.push_back(Fragment{-1, pos, f.end});
    }
    if (changed) frags.swap(next);
  }
}

namespace {
// Rust char::is_alphanumeric / is_whitespace on the code point ending or starting a string.
bool last_char_alnum(std::string_view s) {
  if (s.empty()) return false;
  size_t i = s.size() - 1;
  while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
  size_t j = i;
  int32_t cp = decode_utf8(s, j);
  if (cp < 0) return false;
  static const Regex re("^[\\p{Alphabetic}\\p{N}]", "alnum");
  std::string tmp;
  append_utf8(tmp, static_cast<uint32_t>(cp));
  bool m = false;
  re.for_each_match(tmp, [&](size_t, size_t) { m = true; });
  return m;
}
bool first_char_alnum(std::string_view s) {
  if (s.empty()) return false;
  size_t i = 0;
  int32_t cp = decode_utf8(s, i);
  if (cp < 0) return false;
  return last_char_alnum(s.substr(0, i));
}
// Number of bytes of Unicode whitespace at the end / start of s.
size_t trailing_ws(std::string_view s) {
  static const Regex re("\\s+$", "ws", Regex::kDollarEndOnly);
  size_t n = 0;
  re.for_each_match(s, [&](size_t b, size_t e) { n = e - b; });
  return n;
}
size_t leading_ws(std::string_view s) {
  static const Regex re("^\\s+", "ws");
  size_t n = 0;
  re.for_each_match(s, [&](size_t b, size_t e) {
    if (b == 0) n = e;
  });
  return n;
}
}  // namespace

// HF AddedVocabulary: leftmost-longest matches of added token texts, with single_word / lstrip / rstrip.
void BpeTokenizer::split_added(std::string_view text, const TokenTrie& trie, bool parse_special,
                               std::vector<Fragment>& frags) const {
  frags.clear();
  size_t start = 0;  // end of the previous match
  size_t pos = 0;
  while (pos < text.size() && !trie.empty()) {
    int32_t idx = -1;
    size_t len = trie.longest(text, pos, idx);
    if (len == 0) {
      ++pos;
      continue;
    }
    const AddedToken& at = added_[idx];
    size_t mb = pos, me = pos + len;
    pos = me;
    if (!parse_special && at.special) continue;
    if (at.single_word) {
      bool start_ok = mb == 0 || !last_char_alnum(text.substr(0, mb));
      bool stop_ok = me == text.size() || !first_char_alnum(text.substr(me));
      if (!start_ok || !stop_ok) continue;
    }
    if (at.lstrip) mb = std::max(mb - trailing_ws(text.substr(0, mb)), start);
    if (at.rstrip) me += leading_ws(text.substr(me));
    if (start < mb) frags.push_back(Fragment{-1, start, mb});
    frags.push_back(Fragment{at.id, mb, me});
    start = me;
    pos = me;
  }
  if (start < text.size()) frags.push_back(Fragment{-1, start, text.size()});
}

// ---------------------------------------------------------------------------------------------------------------
// encode / decode

std::vector<int32_t> BpeTokenizer::encode(std::string_view text, const EncodeOptions& opt) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  std::vector<Fragment> frags;
  if (flavor == Flavor::Gguf) {
    if (opt.add_special && add_bos_ && bos_ >= 0) out.push_back(bos_);
    split_gguf_specials(text, opt.parse_special, frags);
    for (const Fragment& f : frags) {
      if (f.token >= 0) out.push_back(f.token);
      else encode_text(text.substr(f.begin, f.end - f.begin), out);
    }
    if (opt.add_special && add_eos_ && eos_ >= 0) out.push_back(eos_);
    return out;
  }
  if (opt.add_special) out.insert(out.end(), post_prefix_.begin(), post_prefix_.end());
  split_added(text, trie_raw_, opt.parse_special, frags);
  std::vector<Fragment> sub;
  for (const Fragment& f : frags) {
    if (f.token >= 0) {
      out.push_back(f.token);
      continue;
    }
    std::string_view piece = text.substr(f.begin, f.end - f.begin);
    if (normalizer_.identity() && trie_norm_.empty()) {
      encode_text(piece, out);
      continue;
    }
    std::string norm(piece);
    normalizer_.apply(norm);
    split_added(norm, trie_norm_, opt.parse_special, sub);
    for (const Fragment& g : sub) {
      if (g.token >= 0) out.push_back(g.token);
      else encode_text(std::string_view(norm).substr(g.begin, g.end - g.begin), out);
    }
  }
  if (opt.add_special) out.insert(out.end(), post_suffix_.begin(), post_suffix_.end());
  return out;
}

std::string BpeTokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  std::string out;
  if (flavor == Flavor::Hf) {
    std::vector<std::string_view> toks;
    for (int32_t id : ids) {
      if (id < 0 || id >= n_vocab()) continue;
      if (skip_special && special_[id]) continue;
      if (byte_level_decoder_) out += pieces_[id];
      else toks.push_back(tokens_[id]);
    }
    if (!byte_level_decoder_) {
      for (size_t k = 0; k < toks.size(); ++k) {
        if (k) out.push_back(' ');
        out.append(toks[k]);
      }
      return out;
    }
    return utf8_lossy(out);
  }
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

void BpeTokenizer::finish_pieces() {
  pieces_.resize(tokens_.size());
  decoded_.assign(tokens_.size(), 0);
  for (size_t id = 0; id < tokens_.size(); ++id) {
    bool raw = false;
    if (flavor == Flavor::Gguf) {
      // llama.cpp: normal tokens are byte-decoded, control/user-defined/unknown shown as written, others empty.
      uint8_t t = type_[id];
      if (t == kControl || t == kUserDefined || t == kUnknown) raw = true;
      else if (t != kNormal) {
        pieces_[id].clear();
        continue;
      }
    }
    if (!raw && byte_level_decode(tokens_[id], pieces_[id])) decoded_[id] = 1;
    else pieces_[id] = tokens_[id];
  }
}

// ---------------------------------------------------------------------------------------------------------------
// GGUF

}  // namespace

std::unique_ptr<Tokenizer> make_gguf_bpe_tokenizer(const GgufFile& gguf) {
  const std::string& path = gguf.path();
  auto t = std::make_unique<BpeTokenizer>();
  t->flavor = BpeTokenizer::Flavor::Gguf;
  t->path_ = path;
  const auto& toks = gguf.get_string_array("tokenizer.ggml.tokens");
  if (toks.empty()) throw Error(path, "tokenizer.ggml.tokens is empty");
  if (toks.size() > (1u << 24)) throw Error(path, "tokenizer.ggml.tokens: too many tokens");
  const int32_t n = static_cast<int32_t>(toks.size());
  t->tokens_.reserve(n);
  for (int32_t i = 0; i < n; ++i) {
    std::string w(toks[i]);
    if (w.empty()) w = "[EMPTY_" + std::to_string(i) + "]";
    t->tokens_.push_back(std::move(w));
  }
  t->type_.assign(n, kNormal);
  if (gguf.has("tokenizer.ggml.token_type")) {
    std::vector<int32_t> tt = gguf.get_i32_array("tokenizer.ggml.token_type");
    if (tt.size() != toks.size())
      throw Error(path, "tokenizer.ggml.token_type has " + std::to_string(tt.size()) + " entries for " +
                            std::to_string(n) + " tokens");
    for (int32_t i = 0; i < n; ++i) t->type_[i] = static_cast<uint8_t>(tt[i] >= 0 && tt[i] <= 6 ? tt[i] : 0);
  }
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
  auto sid = [&](const char* key, int32_t def) -> int32_t {
    auto v = gguf.get_int_opt(key);
    if (v && *v >= 0 && *v < n) return static_cast<int32_t>(*v);
    return def < n ? def : -1;
  };
  t->bos_ = sid("tokenizer.ggml.bos_token_id", 11);
  t->eos_ = sid("tokenizer.ggml.eos_token_id", 11);
  int32_t eot = sid("tokenizer.ggml.eot_token_id", -1), eom = sid("tokenizer.ggml.eom_token_id", -1);
  if (auto v = gguf.get_bool_opt("tokenizer.ggml.add_bos_token")) t->add_bos_ = *v;
  if (auto v = gguf.get_bool_opt("tokenizer.ggml.add_eos_token")) t->add_eos_ = *v;

  // end-of-generation tokens recognised by their text (llama.cpp marks them as control tokens)
  for (const char* txt : kEogTexts) {
    int32_t id = text_to_id.get(txt);
    if (id < 0) continue;
    t->eog_.insert(id);
    t->type_[id] = kControl;
  }
  for (const char* txt : {"<|fim_pad|>", "<|repo_name|>", "<|file_sep|>", "<｜end▁of▁sentence｜>"}) {
    int32_t id = text_to_id.get(txt);
    if (id < 0) continue;
    t->type_[id] = kControl;
    if (std::strcmp(txt, "<｜end▁of▁sentence｜>") != 0 || eot < 0) t->eog_.insert(id);
  }
  for (int32_t id : {t->eos_, eot, eom})
    if (id >= 0) t->eog_.insert(id);

  t->special_.assign(n, 0);
  for (int32_t i = 0; i < n; ++i) {
    uint8_t ty = t->type_[i];
    t->special_[i] = ty == kControl || ty == kUnknown;
    if (ty == kControl || ty == kUserDefined || ty == kUnknown) t->gguf_specials_.push_back(i);
  }
  std::stable_sort(t->gguf_specials_.begin(), t->gguf_specials_.end(),
                   [&](int32_t a, int32_t b) { return t->tokens_[a].size() > t->tokens_[b].size(); });
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

std::string json_str(const json& j, const char* key, const std::string& path, const std::string& what) {
  if (!j.contains(key) || !j[key].is_string()) throw Error(path, what + ": missing string \"" + key + "\"");
  return j[key].get<std::string>();
}

constexpr int kMaxNesting = 32;  // Sequence depth accepted in tokenizer.json components

const json& member(const json& j, const char* key) {
  static const json null_json;
  if (!j.is_object()) return null_json;
  auto it = j.find(key);
  return it == j.end() ? null_json : *it;
}

void add_hf_pretokenizer(PreTokenizer& p, const json& j, const std::string& path, int depth = 0) {
  if (j.is_null()) return;
  if (depth > kMaxNesting) throw Error(path, "pre_tokenizer Sequences nested too deeply");
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
    throw Error(path, "pre_tokenizer: expected an object with a \"type\"");
  std::string type = j["type"].get<std::string>();
  auto iso = [&](const std::string& re, SplitBehavior b, bool invert) {
    p.add_split(std::make_shared<Regex>(re, path, Regex::kMultiline), b, invert);
  };
  if (type == "Sequence") {
    if (!j.contains("pretokenizers") || !j["pretokenizers"].is_array())
      throw Error(path, "pre_tokenizer Sequence without \"pretokenizers\" array");
    for (const auto& s : j["pretokenizers"]) add_hf_pretokenizer(p, s, path, depth + 1);
  } else if (type == "ByteLevel") {
    if (j.value("add_prefix_space", false)) p.add_prefix_space();
    if (j.value("use_regex", true)) iso(kGpt2SplitRegex, SplitBehavior::Isolated, false);
  } else if (type == "Split") {
    if (!j.contains("pattern") || !j["pattern"].is_object()) throw Error(path, "Split pre-tokenizer without pattern");
    const json& pat = j["pattern"];
    std::string bname = j.value("behavior", std::string("Isolated"));
    SplitBehavior b;
    if (bname == "Isolated") b = SplitBehavior::Isolated;
    else if (bname == "Removed") b = SplitBehavior::Removed;
    else if (bname == "MergedWithPrevious") b = SplitBehavior::MergedWithPrevious;
    else if (bname == "MergedWithNext") b = SplitBehavior::MergedWithNext;
    else if (bname == "Contiguous") b = SplitBehavior::Contiguous;
    else throw Error(path, "Split pre-tokenizer: unknown behavior '" + bname + "'");
    bool invert = j.value("invert", false);
    if (pat.contains("Regex") && pat["Regex"].is_string())
      p.add_split(std::make_shared<Regex>(pat["Regex"].get<std::string>(), path, Regex::kMultiline), b, invert);
    else if (pat.contains("String") && pat["String"].is_string())
      p.add_split(std::make_shared<Regex>(pat["String"].get<std::string>(), path, Regex::kLiteral), b, invert);
    else
      throw Error(path, "Split pre-tokenizer: pattern must be {\"Regex\": ...} or {\"String\": ...}");
  } else if (type == "Digits") {
    iso(j.value("individual_digits", false) ? "\\p{N}" : "\\p{N}+", SplitBehavior::Isolated, false);
  } else if (type == "Whitespace") {
    iso("\\w+|[^\\w\\s]+", SplitBehavior::Removed, true);
  } else if (type == "WhitespaceSplit") {
    iso("\\s+", SplitBehavior::Removed, false);
  } else if (type == "Punctuation") {
    iso("[\\p{P}!-/:-@\\[-`{-~]", SplitBehavior::Isolated, false);
  } else {
    throw Error(path, "unsupported pre_tokenizer type '" + type + "' for a byte-level BPE tokenizer");
  }
}

bool json_has_type(const json& j, const char* type, const char* list_key, int depth = 0) {
  if (!j.is_object() || depth > kMaxNesting) return false;
  auto it = j.find("type");
  if (it == j.end() || !it->is_string()) return false;
  if (*it == type) return true;
  if (*it == "Sequence" && j.contains(list_key) && j[list_key].is_array())
    for (const auto& s : j[list_key])
      if (json_has_type(s, type, list_key, depth + 1)) return true;
  return false;
}

int32_t json_id(const json& v, const std::string& path, const std::string& what) {
  if (!v.is_number_integer()) throw Error(path, what + ": token id is not an integer");
  int64_t id = v.get<int64_t>();
  if (id < 0 || id >= (1 << 24)) throw Error(path, what + ": token id " + std::to_string(id) + " out of range");
  return static_cast<int32_t>(id);
}

// TemplateProcessing / Roberta / Bert / ByteLevel / Sequence post-processors for a single sequence.
void add_post_processor(BpeTokenizer& t, const json& j, const std::string& path, int depth = 0) {
  if (j.is_null()) return;
  if (depth > kMaxNesting) throw Error(path, "post_processor Sequences nested too deeply");
  if (!j.is_object() || !j.contains("type")) throw Error(path, "post_processor: expected an object with a \"type\"");
  std::string type = j["type"].is_string() ? j["type"].get<std::string>() : "";
  if (type == "ByteLevel") return;
  if (type == "Sequence") {
    if (!j.contains("processors") || !j["processors"].is_array()) throw Error(path, "post_processor Sequence without processors");
    for (const auto& s : j["processors"]) add_post_processor(t, s, path, depth + 1);
    return;
  }
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    auto tok = [&](const char* key) {
      if (!j.contains(key) || !j[key].is_array() || j[key].size() != 2) throw Error(path, std::string("post_processor: bad ") + key);
      return json_id(j[key][1], path, "post_processor");
    };
    t.post_prefix_.push_back(tok("cls"));
    t.post_suffix_.insert(t.post_suffix_.begin(), tok("sep"));
    return;
  }
  if (type != "TemplateProcessing") throw Error(path, "unsupported post_processor type '" + type + "'");
  if (!j.contains("single") || !j["single"].is_array()) throw Error(path, "TemplateProcessing without \"single\"");
  const json& specials = j.contains("special_tokens") ? j["special_tokens"] : json::object();
  bool after = false;
  for (const auto& item : j["single"]) {
    if (item.contains("Sequence")) {
      after = true;
      continue;
    }
    if (!item.contains("SpecialToken") || !item["SpecialToken"].contains("id"))
      throw Error(path, "TemplateProcessing: bad item " + item.dump());
    std::string name = item["SpecialToken"]["id"].get<std::string>();
    if (!specials.contains(name) || !specials[name].contains("ids") || !specials[name]["ids"].is_array())
      throw Error(path, "TemplateProcessing: special token '" + name + "' not described");
    for (const auto& v : specials[name]["ids"]) {
      int32_t id = json_id(v, path, "TemplateProcessing");
      (after ? t.post_suffix_ : t.post_prefix_).push_back(id);
    }
  }
}

}  // namespace

bool hf_tokenizer_is_byte_level(const nlohmann::json& tokenizer) {
  if (!tokenizer.is_object()) return false;
  if (tokenizer.contains("pre_tokenizer") && json_has_type(tokenizer["pre_tokenizer"], "ByteLevel", "pretokenizers"))
    return true;
  return tokenizer.contains("decoder") && json_has_type(tokenizer["decoder"], "ByteLevel", "decoders");
}

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
  if (tok.contains("added_tokens") && !tok["added_tokens"].is_null()) {
    if (!tok["added_tokens"].is_array()) throw Error(path, "added_tokens is not an array");
    for (const auto& a : tok["added_tokens"]) {
      if (!a.is_object() || !a.contains("id")) throw Error(path, "added_tokens: entry without id");
      AddedToken at;
      at.id = json_id(a["id"], path, "added_tokens");
      at.content = json_str(a, "content", path, "added_tokens");
      at.special = a.value("special", false);
      at.normalized = a.value("normalized", !at.special);
      at.lstrip = a.value("lstrip", false);
      at.rstrip = a.value("rstrip", false);
      at.single_word = a.value("single_word", false);
      max_id = std::max(max_id, at.id);
      t->added_.push_back(std::move(at));
    }
  }
  if (max_id < 0) throw Error(path, "empty vocabulary");
  // Ids far beyond the number of tokens defined would size the id -> text table from one field (a 150-byte file
  // asking for 16M entries); real vocabularies are dense, with at most some padding.
  const size_t n_defined = entries.size() + t->added_.size();
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
  for (const auto& at : t->added_) t->special_[at.id] = at.special;
  for (size_t k = 0; k < t->added_.size(); ++k) {
    const AddedToken& at = t->added_[k];
    if (!at.normalized) {
      t->trie_raw_.add(at.content, static_cast<int32_t>(k));
    } else {
      std::string c = at.content;
      t->normalizer_.apply(c);
      t->trie_norm_.add(c, static_cast<int32_t>(k));
    }
  }

  // merges: "a b" strings or ["a", "b"] pairs; later duplicates replace earlier ones (HF builds a map)
  if (model.contains("merges") && !model["merges"].is_null()) {
    const json& ms = model["merges"];
    if (!ms.is_array()) throw Error(path, "model.merges is not an array");
    t->merges_.reserve(ms.size());
    std::string_view a, b;
    std::string joined;
    size_t r = 0;
    for (const json& m : ms) {
      if (m.is_string()) {
        std::string_view s = m.get_ref<const std::string&>();
        size_t sp = s.find(' ');
        if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
          throw Error(path, "merge " + std::to_string(r) + " '" + std::string(s) + "' is not two space-separated tokens");
        a = s.substr(0, sp);
        b = s.substr(sp + 1);
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        a = m[0].get_ref<const std::string&>();
        b = m[1].get_ref<const std::string&>();
      } else {
        throw Error(path, "merge " + std::to_string(r) + " is neither \"a b\" nor [\"a\", \"b\"]");
      }
      joined.assign(a).append(b);
      int32_t ia = vocab.get(a), ib = vocab.get(b), ic = vocab.get(joined);
      if (ia < 0 || ib < 0 || ic < 0)
        throw Error(path, "merge " + std::to_string(r) + " (" + std::string(a) + " " + std::string(b) +
                              ") names a token not in the vocabulary");
      t->merges_.insert(ia, ib, static_cast<int32_t>(r), ic, true);
      ++r;
    }
  }
  for (const auto& at : t->added_) t->tokens_[at.id] = at.content;
  add_hf_pretokenizer(t->pretok_, member(tok, "pre_tokenizer"), path);
  add_post_processor(*t, member(tok, "post_processor"), path);
  const json& dec = member(tok, "decoder");
  t->byte_level_decoder_ = dec.is_null() ? false : json_has_type(dec, "ByteLevel", "decoders");

  // bos / eos from tokenizer_config.json (HF transformers), else from the vocabulary
  auto id_of = [&](const std::string& text) -> int32_t {
    for (const auto& at : t->added_)
      if (at.content == text) return at.id;
    return vocab.get(text);
  };
  auto cfg_token = [&](const char* key) -> int32_t {
    if (!config.is_object() || !config.contains(key)) return -1;
    const json& v = config[key];
    if (v.is_string()) return id_of(v.get<std::string>());
    if (v.is_object() && v.contains("content") && v["content"].is_string()) return id_of(v["content"].get<std::string>());
    return -1;
  };
  t->bos_ = cfg_token("bos_token");
  t->eos_ = cfg_token("eos_token");
  if (t->eos_ < 0 && !config.is_object()) t->eos_ = id_of("<|endoftext|>");
  t->add_bos_ = !t->post_prefix_.empty() && t->post_prefix_[0] == t->bos_ && t->bos_ >= 0;
  if (t->eos_ >= 0) t->eog_.insert(t->eos_);
  for (const auto& at : t->added_)
    for (const char* txt : kEogTexts)
      if (at.content == txt) t->eog_.insert(at.id);
  for (int32_t id : t->post_prefix_)
    if (id >= static_cast<int32_t>(t->tokens_.size())) throw Error(path, "post_processor token id out of range");
  for (int32_t id : t->post_suffix_)
    if (id >= static_cast<int32_t>(t->tokens_.size())) throw Error(path, "post_processor token id out of range");
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
