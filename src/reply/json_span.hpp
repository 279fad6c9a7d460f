// How much of a text is one JSON object or array, for a parser that reads a model's reply as it streams: the
// value is complete (and well-formed), still a valid beginning that more text may complete, or already invalid.
#pragma once

#include <cstddef>
#include <string_view>

namespace lmgen::reply {

enum class JsonState { Complete, Partial, Invalid };

struct JsonSpan {
  JsonState state = JsonState::Invalid;
  size_t end = 0;  // Complete: one past the value's last byte
};

// Scans the object or array that starts at text[0] ('{' or '['; anything else is Invalid). Text after a
// complete value is not looked at.
JsonSpan scan_json(std::string_view text);

}  // namespace lmgen::reply
