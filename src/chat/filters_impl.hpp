// Internal to the filters: the sequence filters of filters_seq.cpp, looked up by find_filter (filters.cpp).
#pragma once

#include <string_view>

#include "chat/ast.hpp"

namespace lmgen::chat {

FilterFn find_sequence_filter(std::string_view name);

}  // namespace lmgen::chat
