#!/usr/bin/env bash
# Generation speed with and without a JSON-schema constraint (issue 29's goal: at most 10% slower on a 32k
# vocabulary, at most 1 ms per token more on a 151k one). Prints lmgen's own timing lines (-v), best of R runs.
#   tools/bench_grammar.sh MODEL.gguf [N_TOKENS=128] [RUNS=3] [THREADS=1]
# The schema (an array of at least two strings of at least 500 characters each) cannot be complete within N <= ~250
# tokens, so the constraint is active for all N tokens and end-of-generation is never allowed: generation ends at -n
# in both runs (an open-ended array would let a random model close it with "[]" and stop after two tokens).
# Run it on an otherwise idle machine: a shared machine's numbers mean nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
model="$1"; n="${2:-128}"; runs="${3:-3}"; threads="${4:-1}"
schema='{"type": "array", "items": {"type": "string", "minLength": 500}, "minItems": 2}'
best() {  # prints the best generation tok/s over the runs for the extra arguments
  local b=0
  for _ in $(seq "$runs"); do
    local tps
    tps=$(build/lmgen -m "$model" -p "Data:" -n "$n" --temp 1 -s 1 -t "$threads" -v "$@" 2>&1 >/dev/null |
          sed -n 's/.*generated [0-9]* tokens ([0-9.]* ms, \([0-9.]*\) tok\/s).*/\1/p')
    b=$(awk -v a="$b" -v c="$tps" 'BEGIN { print (c > a) ? c : a }')
  done
  echo "$b"
}
plain=$(best)
constrained=$(best -j "$schema")
awk -v p="$plain" -v c="$constrained" 'BEGIN {
  printf "plain       %8.1f tok/s\nconstrained %8.1f tok/s  (%.1f%% slower, %+.3f ms per token)\n", p, c, 100 * (1 - c / p), 1000 / c - 1000 / p }'
