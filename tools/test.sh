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

# Test-only tools (Debian packages): python3-jsonschema validates the output of schema-constrained generation
# (tests/test_grammar_generate.cpp).
TEST_PACKAGES=(python3 python3-jsonschema)
missing=()
for p in "${TEST_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "tools/test.sh: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

tools/setup.sh
ctest --test-dir build --output-on-failure -j2

if [ "$asan" = 1 ]; then
  BUILD_DIR=build-asan CMAKE_ARGS="-DLMGEN_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo" tools/setup.sh
  # The sanitized run skips the long sweeps that repeat, with other data, code paths the rest of the suite already
  # drives under the sanitizers (each runs in the normal build above): every HF chat render through the CLI (the
  # in-process test renders them all), perplexity at each context size, every refused llama.cpp flag, and the GGUF
  # corruption sweep over stories260K (the same sweep runs sanitized over the quantized fixture), and the model
  # references re-run once per kernel family (123 s sanitized, a third of the sanitized suite's CPU time; every
  # family's kernels still run sanitized in KernelFamilies.EveryFamilyMatchesScalarOnEveryType).
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j2 \
      -E '^(ChatTemplateCli\.EveryHuggingFaceReferenceRendersByteForByte|Scorer\.Stories260KOtherContextSizes|CliLlamaFlags\.EveryRefusedSpellingSaysWhatLmgenDoesInstead|Scorer\.Stories260KPerplexityMatchesLlamaCpp|BrokenFiles\.Stories260KGguf|KernelDispatch\.ModelReferenceTestsPassOnEveryFamily)$'

fi
