// Small helpers shared by the sampler step files (not part of the public API).
#pragma once

#include <algorithm>
#include <cstdio>
#include <string>

#include "lmgen/sampler.hpp"

namespace lmgen::sampler_detail {

// A parameter value for a step's name(): "%g" (e.g. 0.95, 40, 1e-05).
inline std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// Softmax over all candidates without sorting (p valid for every one); returns the sum of the stored p (~1).
double normalise(Candidates& c);

// Given c.data[0, done) already holds the first `done` candidates in ranks_before order, make [0, m) hold the
// first m (nth_element + sort of the new part). m >= size sorts the rest and sets c.sorted.
void sort_prefix(Candidates& c, size_t done, size_t m);

// Walks the candidates in ranks_before order (sorting lazily, in growing chunks, so a walk that stops early on a
// big unsorted list costs O(n) rather than a full sort), calling stop(i, mass of candidates 0..i). p must be
// valid (normalise). Returns the index where stop() returned true, else size - 1. c.data[0..returned] is sorted.
template <class Stop>
size_t walk_sorted(Candidates& c, Stop stop) {
  const size_t n = c.data.size();
  size_t done = c.sorted ? n : 0, chunk = 1024;
  double mass = 0.0;
  for (size_t i = 0; i < n; ++i) {
    if (i == done) {
      sort_prefix(c, done, std::min(n, done + chunk));
      done = std::min(n, done + chunk);
      chunk *= 8;
    }
    mass += c.data[i].p;
    if (stop(i, mass)) return i;
  }
  return n == 0 ? 0 : n - 1;
}

}  // namespace lmgen::sampler_detail
