#!/usr/bin/env bash
# Builds lmgen and runs the whole test suite: the normal Release build (build/), then the same tests built with
# AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/). Needs the shared test material in ../shared
# (or LMGEN_SHARED=/path/to/shared).
#   tools/test.sh             # both builds
#   tools/test.sh --no-asan   # the normal build only
set -euo pipefail
cd "$(dirname "$0")/.."
asan=1
[ "${1:-}" = "--no-asan" ] && asan=0

# The shared material first: without it most tests would fail one by one, each with its own line, after both builds.
# Where the tests look: $LMGEN_SHARED, else the CMake setting LMGEN_SHARED_DIR (from CMAKE_ARGS), else ../shared.
shared="${LMGEN_SHARED:-}"
if [ -z "$shared" ] && [[ "${CMAKE_ARGS:-}" =~ -DLMGEN_SHARED_DIR=([^[:space:]]+) ]]; then shared="${BASH_REMATCH[1]}"; fi
[ -n "$shared" ] || shared="$(cd .. && pwd)/shared"
if [ ! -f "$shared/models/stories260K/stories260K.gguf" ] || [ ! -d "$shared/fixtures" ]; then
  echo "tools/test.sh: no shared test material at $shared (looked for models/stories260K/ and fixtures/ there);" \
    "point LMGEN_SHARED at it: LMGEN_SHARED=/path/to/shared tools/test.sh" >&2
  exit 2
fi
export LMGEN_SHARED="$shared"

tools/setup.sh
# Test-only tools (Debian packages, not build dependencies, so not in setup.sh), for the system python3
# (/usr/bin/python3) the tests call: python3-jsonschema validates the output of schema-constrained generation
# (tests/test_grammar_generate.cpp); python3-prometheus-client, the Prometheus project's text-format parser, reads
# GET /metrics (tests/test_serve_cache.cpp).
tools/apt_install.sh python3 python3-jsonschema python3-prometheus-client
ctest --test-dir build --output-on-failure -j2

if [ "$asan" = 1 ]; then
  BUILD_DIR=build-asan CMAKE_ARGS="-DLMGEN_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo" tools/setup.sh
  # The sanitized run skips the long sweeps that repeat, with other data, code paths the rest of the suite already
  # drives under the sanitizers (each runs in the normal build above): every HF chat render through the CLI (the
  # in-process test renders them all), perplexity at each context size, every refused llama.cpp flag, and the GGUF
  # corruption sweep over stories260K (the same sweep runs sanitized over the quantized fixture), and the model
  # references re-run once per kernel family (123 s sanitized, a third of the sanitized suite's CPU time; every
  # family's kernels still run sanitized in KernelFamilies.EveryFamilyMatchesScalarOnEveryType), and the comparison
  # of lmgen quantize's files with llama.cpp's (its quantizer runs sanitized in the Quantize* tests).
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j2 \
      -E '^(ChatTemplateCli\.EveryHuggingFaceReferenceRendersByteForByte|Scorer\.Stories260KOtherContextSizes|CliLlamaFlags\.EveryRefusedSpellingSaysWhatLmgenDoesInstead|Scorer\.Stories260KPerplexityMatchesLlamaCpp|BrokenFiles\.Stories260KGguf|KernelDispatch\.ModelReferenceTestsPassOnEveryFamily|QuantizeLlamaCpp\..*)$'

fi
