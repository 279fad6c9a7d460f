// The one rank-ordered BPE merge engine, shared by byte-level BPE (GGUF "gpt2", tokenizer.json with ByteLevel)
// and the SentencePiece-style BPE of tokenizer.json (characters with byte fallback): a string -> id index over a
// token table, the (left id, right id) -> (rank, merged id) table, and the merge loop over symbol ids (the lowest
// rank merges first, the leftmost pair among equal ranks: the order of both llama.cpp and HF tokenizers).
// Internal to the library.
#pragma once

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "util/string_hash.hpp"

namespace lmgen::bpe {

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
  // The table moved (a moved std::vector keeps its strings): look keys up in `keys` from now on.
  void rebind(const std::vector<std::string>* keys) { keys_ = keys; }
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

// Encoded words (up to 256 bytes) -> ids, at most 200000 of them; thread-safe.
class WordCache {
 public:
  static constexpr size_t kMaxWord = 256;
  // Appends the cached ids of `w` to `out`; false if `w` is not cached.
  bool get(std::string_view w, std::vector<int32_t>& out) const {
    if (w.size() > kMaxWord) return false;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(w);
    if (it == map_.end()) return false;
    out.insert(out.end(), it->second.begin(), it->second.end());
    return true;
  }
  // Keeps `ids` (moved in) as the ids of `w`.
  void put(std::string_view w, std::vector<int32_t>&& ids) const {
    if (w.size() > kMaxWord) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (map_.size() < 200000) map_.emplace(std::string(w), std::move(ids));
  }

 private:
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> map_;
};

// Merges `syms` (token ids) in place until no adjacent pair is in `merges`.
void merge(std::vector<int32_t>& syms, const MergeTable& merges);

}  // namespace lmgen::bpe
