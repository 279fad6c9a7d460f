// complete_utf8_prefix (output_buffer.hpp).
#include "run/output_buffer.hpp"

namespace lmgen {

size_t complete_utf8_prefix(const std::string& s) {
  const size_t n = s.size();
  // Look at most 3 bytes back for the start of a multi-byte sequence.
  for (size_t back = 1; back <= std::min<size_t>(3, n); ++back) {
    const unsigned char b = static_cast<unsigned char>(s[n - back]);
    if ((b & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead byte
    size_t len = (b & 0x80) == 0 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
    return back < len ? n - back : n;
  }
  return n;
}

}  // namespace lmgen
