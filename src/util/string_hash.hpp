// StringHash: the transparent hash for std::unordered_map/set keyed by std::string and looked up by
// std::string_view (with std::equal_to<>), so lookups need no temporary string.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace lmgen {

// Deliberately not noexcept: libstdc++ keeps each node's hash code only when the hash may throw (or is one of its own
// "slow" hashes). With a noexcept hash, a string-keyed map re-hashes every key on each rehash and compares whole
// strings along the bucket chains: the tokenizers' word caches encoded ~10% slower (gpt-2 GGUF, cold encode).
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace lmgen
