// OutputBuffer — the text a generation loop releases: complete UTF-8 only, and never a possible start of a stop
// string (held back until it cannot be one). Used by Generator and by the server's batched decoding loop.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

namespace lmgen {

// Length of the longest prefix of `s` that ends on a UTF-8 character boundary (an incomplete trailing sequence
// is held back; invalid bytes are passed through so output never stalls).
size_t complete_utf8_prefix(const std::string& s);

// Output buffer that releases text only when it is complete UTF-8 and cannot be the start of a stop string.
class OutputBuffer {
 public:
  explicit OutputBuffer(const std::vector<std::string>& stops) : stops_(stops) {}
  // Adds bytes; returns the text released now. Sets `stopped` when a stop string was found (the stop string and
  // anything after it are discarded).
  std::string push(const std::string& bytes, bool& stopped) {
    pending_ += bytes;
    stopped = false;
    size_t hit = std::string::npos;
    for (const auto& s : stops_) {
      if (s.empty()) continue;
      size_t p = pending_.find(s);
      if (p != std::string::npos) hit = std::min(hit, p);
    }
    if (hit != std::string::npos) {
      stopped = true;
      std::string out = pending_.substr(0, hit);
      pending_.clear();
      return out;
    }
    size_t keep_from = complete_utf8_prefix(pending_);
    // Hold back the longest suffix that is a proper prefix of some stop string.
    for (const auto& s : stops_) {
      for (size_t k = std::min(s.size() - 1, pending_.size()); k > 0; --k) {
        if (pending_.compare(pending_.size() - k, k, s, 0, k) == 0) {
          keep_from = std::min(keep_from, pending_.size() - k);
          break;
        }
      }
    }
    std::string out = pending_.substr(0, keep_from);
    pending_.erase(0, keep_from);
    return out;
  }
  // Releases whatever is left (at the end of generation).
  std::string flush() {
    std::string out;
    out.swap(pending_);
    return out;
  }

 private:
  const std::vector<std::string>& stops_;
  std::string pending_;
};


}  // namespace lmgen
