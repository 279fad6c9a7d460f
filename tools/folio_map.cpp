// folio_map — which 2 MiB ranges of a file the page cache holds as one huge (PMD-sized) folio.
//
//   folio_map FILE
//
// Maps FILE read-only, touches every page (reading it into the cache if it is not there; the map is not advised,
// so the cache keeps whatever folios it already has), then for each whole 2 MiB range checks through
// /proc/self/pagemap and /proc/kpageflags (root only) that its 512 pages are physically contiguous, start 2 MiB
// aligned and carry the THP flag. Prints one character per range (H: huge folio, .: smaller folios) and a count.
// lmgen's generation speed depends on it (BENCHMARKS.md, "Page cache and huge pages").
//
// Build: g++ -O2 -std=c++20 tools/folio_map.cpp -o /tmp/folio_map
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace {

constexpr size_t kPage = 4096, kHugePages = 512;
constexpr int kKpfThp = 22;  // /proc/kpageflags bit: page is part of a transparent huge page / large folio

bool read_u64(int fd, uint64_t index, uint64_t& out) {
  return pread(fd, &out, sizeof out, static_cast<off_t>(index * sizeof out)) == static_cast<ssize_t>(sizeof out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: folio_map FILE\n");
    return 2;
  }
  const int fd = open(argv[1], O_RDONLY);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) {
    std::fprintf(stderr, "folio_map: %s: %s\n", argv[1], std::strerror(errno));
    return 1;
  }
  const size_t size = static_cast<size_t>(st.st_size);
  const size_t ranges = size / (kPage * kHugePages);
  if (ranges == 0) {
    std::printf("0 of 0 ranges huge (file smaller than 2 MiB)\n");
    return 0;
  }
  auto* p = static_cast<const volatile uint8_t*>(mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0));
  if (p == MAP_FAILED) {
    std::fprintf(stderr, "folio_map: cannot map %s: %s\n", argv[1], std::strerror(errno));
    return 1;
  }
  for (size_t o = 0; o < size; o += kPage) (void)p[o];  // volatile: each page is really read
  const int pagemap = open("/proc/self/pagemap", O_RDONLY), kflags = open("/proc/kpageflags", O_RDONLY);
  if (pagemap < 0 || kflags < 0) {
    std::fprintf(stderr, "folio_map: cannot open /proc/self/pagemap or /proc/kpageflags (needs root)\n");
    return 1;
  }
  const uint64_t first_page = reinterpret_cast<uintptr_t>(p) / kPage;
  constexpr uint64_t kPfnMask = (uint64_t{1} << 55) - 1;
  size_t huge = 0;
  for (size_t r = 0; r < ranges; ++r) {
    uint64_t head = 0, flags = 0;
    bool contiguous = true;
    for (size_t i = 0; i < kHugePages && contiguous; ++i) {
      uint64_t e = 0;
      if (!read_u64(pagemap, first_page + r * kHugePages + i, e)) contiguous = false;
      const uint64_t pfn = e & kPfnMask;
      if (i == 0) head = pfn;
      else if (pfn != head + i) contiguous = false;
    }
    const bool is_huge = contiguous && head != 0 && head % kHugePages == 0 && read_u64(kflags, head, flags) &&
                         ((flags >> kKpfThp) & 1);
    huge += is_huge;
    std::putchar(is_huge ? 'H' : '.');
  }
  std::printf("\n%zu of %zu ranges huge\n", huge, ranges);
  return 0;
}
