// StringHash: the transparent hash for std::unordered_map/set keyed by std::string and looked up by
// std::string_view (with std::equal_to<>), so lookups need no temporary string.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace lmgen {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace lmgen
