// Byte offsets of the fields of a (valid) GGUF file, for tests that corrupt one field at a time.
// An independent, minimal walker (it does not use lmgen's reader, which is what the tests check).
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace lmgen::test {

struct GgufLayout {
  struct Kv {
    std::string key;
    uint64_t key_off = 0;    // the u64 length of the key
    uint64_t type_off = 0;   // u32 value type
    uint32_t type = 0;
    uint64_t value_off = 0;  // scalar value / string length / array element type
    uint32_t elem_type = 0;  // arrays
    uint64_t count_off = 0;  // arrays: the u64 count
    uint64_t first_elem_off = 0;
  };
  struct Tensor {
    std::string name;
    uint64_t name_off = 0, n_dims_off = 0, ne_off = 0, type_off = 0, offset_off = 0;
    uint32_t n_dims = 0, type = 0;
    uint64_t offset = 0;  // relative to the data section
  };
  uint64_t n_tensors_off = 8, n_kv_off = 16;
  std::vector<Kv> kvs;
  std::vector<Tensor> tensors;
  uint64_t infos_end = 0;   // end of the tensor info table
  uint64_t data_start = 0;  // aligned start of the data section (alignment 32 unless general.alignment)

  bool has(const std::string& key) const {
    for (const Kv& k : kvs)
      if (k.key == key) return true;
    return false;
  }
  const Kv& kv(const std::string& key) const {
    for (const Kv& k : kvs)
      if (k.key == key) return k;
    throw std::runtime_error("GgufLayout: no key " + key);
  }
  const Tensor& tensor(const std::string& name) const {
    for (const Tensor& t : tensors)
      if (t.name == name) return t;
    throw std::runtime_error("GgufLayout: no tensor " + name);
  }

  static GgufLayout parse(const std::string& b) {
    GgufLayout L;
    uint64_t pos = 0;
    auto need = [&](uint64_t n) {
      if (pos + n > b.size()) throw std::runtime_error("GgufLayout: truncated");
    };
    auto rd = [&]<typename T>(T) {
      need(sizeof(T));
      T v;
      std::memcpy(&v, b.data() + pos, sizeof(T));
      pos += sizeof(T);
      return v;
    };
    auto u32 = [&]() { return rd(uint32_t{}); };
    auto u64 = [&]() { return rd(uint64_t{}); };
    auto str = [&]() {
      uint64_t n = u64();
      need(n);
      std::string s = b.substr(pos, n);
      pos += n;
      return s;
    };
    auto scalar_size = [](uint32_t t) -> uint64_t {
      switch (t) {
        case 0: case 1: case 7: return 1;
        case 2: case 3: return 2;
        case 4: case 5: case 6: return 4;
        case 10: case 11: case 12: return 8;
        default: throw std::runtime_error("GgufLayout: bad type");
      }
    };
    if (b.size() < 24 || b.compare(0, 4, "GGUF") != 0) throw std::runtime_error("GgufLayout: not GGUF");
    pos = 8;
    uint64_t n_tensors = u64(), n_kv = u64();
    uint64_t alignment = 32;
    for (uint64_t i = 0; i < n_kv; ++i) {
      Kv k;
      k.key_off = pos;
      k.key = str();
      k.type_off = pos;
      k.type = u32();
      k.value_off = pos;
      if (k.type == 9) {
        k.elem_type = u32();
        k.count_off = pos;
        uint64_t n = u64();
        k.first_elem_off = pos;
        for (uint64_t j = 0; j < n; ++j) {
          if (k.elem_type == 8)
            str();
          else
            pos += scalar_size(k.elem_type);
        }
      } else if (k.type == 8) {
        str();
      } else {
        uint64_t sz = scalar_size(k.type);
        if (k.key == "general.alignment") {
          uint64_t v = 0;
          std::memcpy(&v, b.data() + pos, sz);
          alignment = v;
        }
        pos += sz;
      }
      L.kvs.push_back(k);
    }
    for (uint64_t i = 0; i < n_tensors; ++i) {
      Tensor t;
      t.name_off = pos;
      t.name = str();
      t.n_dims_off = pos;
      t.n_dims = u32();
      t.ne_off = pos;
      pos += 8ull * t.n_dims;
      t.type_off = pos;
      t.type = u32();
      t.offset_off = pos;
      t.offset = u64();
      L.tensors.push_back(t);
    }
    L.infos_end = pos;
    L.data_start = (pos + alignment - 1) / alignment * alignment;
    return L;
  }
};

// Writes the little-endian bytes of `v` into `b` at `off`.
template <typename T>
inline void poke(std::string& b, uint64_t off, T v) {
  if (off + sizeof(T) > b.size()) throw std::runtime_error("poke past the end");
  std::memcpy(b.data() + off, &v, sizeof(T));
}

}  // namespace lmgen::test
