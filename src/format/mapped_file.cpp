#include "format/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

namespace lmgen {

namespace {

constexpr size_t kHugePage = size_t{2} << 20;

// Reads all of fd into fresh anonymous memory (2 MiB aligned, MADV_HUGEPAGE), then makes it read-only.
// Returns the mapping (to munmap: base, len) and the data pointer.
void* read_into_memory(int fd, const std::string& path, size_t size, size_t& len, const uint8_t*& data) {
  len = (size + kHugePage - 1) / kHugePage * kHugePage + kHugePage;  // room to align the start
  void* base = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) throw Error(path, std::string("cannot allocate memory to read the file into: ") + std::strerror(errno));
  auto* start = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(base) + kHugePage - 1) & ~(kHugePage - 1));
  madvise(start, len - kHugePage, MADV_HUGEPAGE);  // advice only: without THP it is ordinary memory
  size_t done = 0;
  while (done < size) {
    const ssize_t r = pread(fd, start + done, std::min<size_t>(size - done, size_t{64} << 20), static_cast<off_t>(done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      const int e = r < 0 ? errno : 0;
      munmap(base, len);
      throw Error(path, e ? std::string("cannot read: ") + std::strerror(e) : std::string("file shrank while reading"));
    }
    done += static_cast<size_t>(r);
  }
  mprotect(base, len, PROT_READ);  // the model is never written
  data = start;
  return base;
}

}  // namespace

std::shared_ptr<uint8_t> huge_page_buffer(size_t bytes) {
  const size_t len = (bytes + kHugePage - 1) / kHugePage * kHugePage + kHugePage;  // room to align the start
  void* base = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) throw Error(std::string("cannot allocate memory for merged weights: ") + std::strerror(errno));
  auto* start = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(base) + kHugePage - 1) & ~(kHugePage - 1));
  madvise(start, len - kHugePage, MADV_HUGEPAGE);
  return std::shared_ptr<uint8_t>(start, [base, len](uint8_t*) { munmap(base, len); });
}

std::shared_ptr<MappedFile> MappedFile::open(const std::string& path, FileAccess access) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    throw Error(path, std::string("cannot stat: ") + std::strerror(e));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw Error(path, "is a directory, expected a file");
  }
  std::shared_ptr<MappedFile> f(new MappedFile());
  f->path_ = path;
  f->size_ = static_cast<size_t>(st.st_size);
  if (f->size_ > 0 && access == FileAccess::Read) {
    try {
      f->map_ = read_into_memory(fd, path, f->size_, f->map_len_, f->data_);
    } catch (...) {
      ::close(fd);
      throw;
    }
  } else if (f->size_ > 0) {
    // A small file (under 2 MiB: a tokenizer, a tiny model) is mapped whole up front (MAP_POPULATE): every byte of
    // it is read soon anyway, and one call costs less than a page fault per 64 KiB (stories260K: 17 faults, ~12 us
    // each on a VM where first touches are slow).
    const int populate = f->size_ < kHugePage ? MAP_POPULATE : 0;
    void* p = mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE | populate, fd, 0);
    if (p == MAP_FAILED) {
      int e = errno;
      ::close(fd);
      throw Error(path, std::string("cannot map: ") + std::strerror(e));
    }
    // Where the file is not in the page cache yet, this makes the kernel read it into 2 MiB folios, which the map
    // then gets as huge pages (Linux with THP in "madvise" or "always" mode and a file system with large folios). A
    // file already cached in small pages stays as it is. Advice only: errors are ignored.
    if (f->size_ >= kHugePage) madvise(p, f->size_, MADV_HUGEPAGE);
    f->map_ = p;
    f->map_len_ = f->size_;
    f->data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
  return f;
}

MappedFile::~MappedFile() {
  if (map_ != nullptr) munmap(map_, map_len_);
}

void MappedFile::throw_out_of_bounds(uint64_t offset, uint64_t len) const {
  throw Error(path_, "truncated or corrupt: needs " + std::to_string(len) + " bytes at offset " +
                         std::to_string(offset) + " but the file has " + std::to_string(size_) + " bytes");
}

}  // namespace lmgen
