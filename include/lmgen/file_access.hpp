// FileAccess — how a model file's bytes get into memory (LoadOptions::access, `lmgen --no-mmap`).
#pragma once

namespace lmgen {

// How a file's bytes get into memory.
//   Map:  a read-only memory map of the page cache (default): nothing is copied, start-up costs nothing, pages are
//         shared between processes. Files of 2 MiB or more are advised MADV_HUGEPAGE: read from disk through the
//         map, the file lands in 2 MiB page-cache folios (Linux 6.16+ ext4, xfs, ...) that this and every later map
//         gets as huge pages; a file already cached in small folios keeps them until it leaves the cache.
//   Read: the file is read once into private anonymous memory, 2 MiB aligned and advised for transparent huge
//         pages, then made read-only. Costs the copy at load; it gets huge pages for a file that the page cache
//         holds in small folios (streaming weights from huge pages measured up to 1.8x the bandwidth of 4 KiB
//         pages on the reference machine, BENCHMARKS.md). `lmgen --no-mmap`.
enum class FileAccess { Map, Read };

}  // namespace lmgen
