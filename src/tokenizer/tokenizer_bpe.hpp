// Internal: the byte-level BPE tokenizer's class and its tables (tokenizer_bpe.cpp: encoding and decoding;
// tokenizer_bpe_load.cpp: building it from a GGUF vocabulary or an HF tokenizer.json).
//
// Encoding works on raw bytes throughout: a pre-token's bytes b0..bn start as the ids of the single-character
// tokens byte_to_char(bi), and merges are looked up as (left id, right id) -> (rank, merged id). The lowest rank
// merges first, the leftmost pair among equal ranks (the order of both llama.cpp and HF). Results of words up to
// 256 bytes are cached per tokenizer.
#pragma once

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <mutex>
#include <queue>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "lmgen/error.hpp"
#include "tokenizer/hf/normalizer.hpp"
#include "tokenizer/hf/pretokenizer.hpp"
#include "tokenizer/tokenizer_internal.hpp"

namespace lmgen::bpe {


struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

inline uint64_t hash_bytes(std::string_view s) {
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

inline constexpr const char* kEogTexts[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
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


}  // namespace lmgen::bpe
