// Internal: the attention kernel of one kernel family (attention.cpp, compiled per family; dispatch.hpp picks one).
#pragma once

#include <cstdint>

#include "kernels/dispatch.hpp"

#ifndef LMGEN_KERNEL_NS
#error "a kernel family source: LMGEN_KERNEL_NS must name the family's namespace (set by CMakeLists.txt)"
#endif

namespace lmgen::simd::LMGEN_KERNEL_NS {

// The attention of G (1..8) query heads sharing one kv head, for one query (see KvCache::attend).
AttendGroupFn attend_group_fn(int g);

}  // namespace lmgen::simd::LMGEN_KERNEL_NS
