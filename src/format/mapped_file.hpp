// MappedFile — a read-only memory map of a whole file, with bounds-checked views.
//
// Model files are mapped (or, with FileAccess::Read, read once into memory) and never written. Every parser takes
// its bytes through `span()` / `at()`, which throw lmgen::Error instead of reading past the end: file fields are
// untrusted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "lmgen/error.hpp"
#include "lmgen/file_access.hpp"

namespace lmgen {

// FileAccess (Map / Read) is public: lmgen/file_access.hpp.

// `bytes` of zeroed anonymous memory, 2 MiB aligned and advised as huge pages (MADV_HUGEPAGE; ordinary pages
// without THP), released when the last owner goes: for weights made at load (merged LoRA matrices), so that they
// stream like a mapped model file. Throws Error when the memory cannot be had.
std::shared_ptr<uint8_t> huge_page_buffer(size_t bytes);

class MappedFile {
 public:
  // Maps (or reads) `path` read-only. Throws Error("path: ...") if it cannot be opened or is a directory.
  static std::shared_ptr<MappedFile> open(const std::string& path, FileAccess access = FileAccess::Map);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& path() const { return path_; }
  size_t size() const { return size_; }
  const uint8_t* data() const { return data_; }

  // Pointer to `len` bytes at `offset`; throws if [offset, offset+len) is not inside the file (overflow-safe).
  const uint8_t* span(uint64_t offset, uint64_t len) const {
    if (offset > size_ || len > size_ - offset) throw_out_of_bounds(offset, len);
    return data_ + offset;
  }
  // Reads a little-endian POD value at `offset` (unaligned reads are fine).
  template <typename T>
  T at(uint64_t offset) const {
    T v;
    std::memcpy(&v, span(offset, sizeof(T)), sizeof(T));
    return v;
  }

 private:
  MappedFile() = default;
  [[noreturn]] void throw_out_of_bounds(uint64_t offset, uint64_t len) const;
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  void* map_ = nullptr;  // what mmap returned (nullptr for an empty file)
  size_t map_len_ = 0;
};

}  // namespace lmgen
