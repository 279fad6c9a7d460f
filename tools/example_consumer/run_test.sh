#!/usr/bin/env bash
# Test: install the lmgen build in BUILD_DIR into a scratch prefix, build this example against it with
# find_package(lmgen), run it, and check it generated the known stories260K continuation.
#   run_test.sh BUILD_DIR SHARED_DIR
set -euo pipefail
build="$1"
shared="${LMGEN_SHARED:-$2}"
here="$(cd "$(dirname "$0")" && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
cmake -S "$here" -B "$scratch/build" -G Ninja -DCMAKE_PREFIX_PATH="$scratch/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$scratch/build" >/dev/null
# The installed public headers need nothing but the C++ standard library: list every header the example pulls in
# and refuse any third-party one (Eigen, nlohmann/json, PCRE2, utf8proc, CLI11) or any lmgen header outside
# the installed include/lmgen/.
deps="$(c++ -std=c++20 -M -I"$scratch/prefix/include" "$here/main.cpp" | tr ' \\' '\n\n' | grep '\.h' || true)"
bad="$(echo "$deps" | grep -Ei 'eigen|nlohmann|pcre2|utf8proc|CLI11' || true)"
outside="$(echo "$deps" | grep 'lmgen' | grep -v "^$scratch/prefix/include/lmgen/" || true)"
if [ -n "$bad$outside" ]; then
  echo "install_and_consume: public headers pull in: $bad $outside" >&2
  exit 1
fi
for h in "$scratch/prefix/include/lmgen/"*.hpp; do
  echo "#include <lmgen/$(basename "$h")>" | c++ -std=c++20 -fsyntax-only -I"$scratch/prefix/include" -x c++ - ||
    { echo "install_and_consume: $h does not compile on its own" >&2; exit 1; }
done
out="$("$scratch/build/lmgen_example" "$shared/models/stories260K/stories260K.gguf" "Once upon a time")"
echo "$out"
expected=", there was a little girl named Lily. She loved to play outside in the park."
case "$out" in
  *"$expected"*) ;;
  *) echo "install_and_consume: unexpected output" >&2; exit 1 ;;
esac
# The second turn reused the first turn's cache: it evaluated only its new tokens.
turn2="$(echo "$out" | sed -n 's/^\[turn 2: \([0-9]*\) prompt tokens, \([0-9]*\) evaluated, \([0-9]*\) reused, \([0-9]*\) new\]$/\1 \2 \3 \4/p')"
read -r prompt evaluated reused new <<<"$turn2"
if [ -z "$turn2" ] || [ "$evaluated" != "$new" ] || [ $((evaluated + reused)) != "$prompt" ] || [ "$reused" -le 0 ]; then
  echo "install_and_consume: the second turn did not reuse the first turn's cache: [$turn2]" >&2
  exit 1
fi
echo "install_and_consume: ok"
# The installed binary runs too.
"$scratch/prefix/bin/lmgen" -m "$shared/models/stories260K/stories260K.gguf" -p "Once upon a time" -n 4 --temp 0 -q >/dev/null
