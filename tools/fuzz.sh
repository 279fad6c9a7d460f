#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, ASan + UBSan, in build-fuzz/) and runs one of them for a given time.
#   tools/fuzz.sh TARGET SECONDS [libFuzzer options...]
#   tools/fuzz.sh list                 # the targets
#   tools/fuzz.sh build                # build only
# TARGET is one of: gguf hf tokenizer_json llama2c tokenize chat_template reply grammar call_grammar (see fuzz/fuzz_TARGET.cpp and docs/fuzzing.md).
# Seeds are generated from the shared test material by fuzz/make_seeds.py into $LMGEN_FUZZ_DIR/seeds (default
# /tmp/lmgen-fuzz); the growing corpus is kept in $LMGEN_FUZZ_DIR/corpus/TARGET between runs, and crashing inputs
# are written to $LMGEN_FUZZ_DIR/artifacts/TARGET/. The run is niced (the machine is shared).
# LMGEN_FUZZ_NO_BUILD=1 runs the existing binary as it is (e.g. to continue a campaign while others edit src/).
# Exit status: libFuzzer's (0 = no crash, leak, sanitizer report or timeout found in the given time).
set -euo pipefail

main() {
  cd "$(dirname "$0")/.."
  local TARGETS="gguf hf tokenizer_json llama2c tokenize chat_template reply grammar call_grammar"
  local FUZZ_DIR="${LMGEN_FUZZ_DIR:-/tmp/lmgen-fuzz}"
  BUILD_DIR="${LMGEN_FUZZ_BUILD:-build-fuzz}"
  local SHARED="${LMGEN_SHARED:-$(cd .. && pwd)/shared}"

  [ $# -ge 1 ] || usage "$TARGETS"
  case "$1" in
    list) echo "$TARGETS"; return 0 ;;
    build) ;;
    *) [ $# -ge 2 ] || usage "$TARGETS"
       [[ " $TARGETS " == *" $1 "* ]] || { echo "tools/fuzz.sh: unknown target '$1' (targets: $TARGETS)" >&2; exit 2; }
       [[ "$2" =~ ^[0-9]+$ ]] || { echo "tools/fuzz.sh: SECONDS must be a number, got '$2'" >&2; exit 2; } ;;
  esac

  command -v clang++-14 >/dev/null ||
    { echo "tools/fuzz.sh: needs clang++-14 and libclang-rt-14-dev (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 1; }
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    CC=clang-14 CXX=clang++-14 cmake -S fuzz -B "$BUILD_DIR" -G Ninja -DLMGEN_SHARED_DIR="$SHARED" >/dev/null
  fi
  if [ "$1" = build ]; then
    build
    return 0
  fi
  local target="$1" seconds="$2"
  shift 2
  if [ "${LMGEN_FUZZ_NO_BUILD:-0}" != 1 ] || [ ! -x "$BUILD_DIR/fuzz_$target" ]; then
    build --target "fuzz_$target"
  fi
  if [ ! -d "$FUZZ_DIR/seeds/$target" ]; then
    python3 fuzz/make_seeds.py "$FUZZ_DIR/seeds" "$SHARED" "$target"
  fi
  mkdir -p "$FUZZ_DIR/corpus/$target" "$FUZZ_DIR/artifacts/$target"
  local extra=()
  [ "$target" = tokenize ] && extra+=(-max_len=4096)
  [ "$target" = chat_template ] && extra+=(-max_len=16384 -dict=fuzz/chat_template.dict)
  export LMGEN_SHARED="$SHARED"
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
  exec nice -n 10 "$BUILD_DIR/fuzz_$target" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2560 \
    -print_final_stats=1 -artifact_prefix="$FUZZ_DIR/artifacts/$target/" "${extra[@]}" "$@" \
    "$FUZZ_DIR/corpus/$target" "$FUZZ_DIR/seeds/$target"
}

usage() {
  echo "usage: tools/fuzz.sh TARGET SECONDS [libFuzzer options] | list | build   (targets: $1)" >&2
  exit 2
}

# One build at a time in the build directory (several fuzzers may be started together).
build() { flock "$BUILD_DIR/.build-lock" nice -n 10 cmake --build "$BUILD_DIR" -j2 "$@"; }

main "$@"
exit $?
