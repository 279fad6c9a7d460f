// Small helpers shared by the sampler step files (not part of the public API).
#pragma once

#include <cstdio>
#include <string>

namespace lmgen::sampler_detail {

// A parameter value for a step's name(): "%g" (e.g. 0.95, 40, 1e-05).
inline std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace lmgen::sampler_detail
