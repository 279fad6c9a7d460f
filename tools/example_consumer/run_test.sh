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
out="$("$scratch/build/lmgen_example" "$shared/models/stories260K/stories260K.gguf" "Once upon a time")"
echo "$out"
expected=", there was a little girl named Lily. She loved to play outside in the park."
case "$out" in
  *"$expected"*) echo "install_and_consume: ok" ;;
  *) echo "install_and_consume: unexpected output" >&2; exit 1 ;;
esac
# The installed binary runs too.
"$scratch/prefix/bin/lmgen" -m "$shared/models/stories260K/stories260K.gguf" -p "Once upon a time" -n 4 --temp 0 -q >/dev/null
