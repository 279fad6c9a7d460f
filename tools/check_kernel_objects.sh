#!/usr/bin/env bash
# Checks that the SIMD kernel families (src/kernels/dispatch.hpp) share no code with the rest of the binary.
#   tools/check_kernel_objects.sh --family=FAMILY OBJECT.o... [--family=FAMILY OBJECT.o...]...
# (an argument may also hold several objects separated by ';', as CMake's $<TARGET_OBJECTS:...> gives them).
# Each family's objects are compiled with its instruction-set flags. A function they define with vague linkage
# (an inline function or template instantiation: a weak symbol) exists in other objects too, and the linker keeps
# any one copy: if the copy kept came from an AVX-512 object, a CPU without AVX-512 would run AVX-512 code outside
# the dispatch. So every weak function in a family's object must either belong to the family's own namespace
# (lmgen::simd::FAMILY, called only from that family) or contain no VEX/EVEX instruction at all. Exit 1 naming
# the offending functions otherwise. Needs nm, objdump and c++filt (binutils).
set -euo pipefail
bad=0
checked=0
objects=0
family=""
for arg in "$@"; do
  if [[ $arg == --family=* ]]; then family=${arg#--family=}; continue; fi
  [[ -n $family ]] || { echo "check_kernel_objects: --family=NAME must come before the objects" >&2; exit 2; }
  IFS=';' read -ra objs <<<"$arg"
  for obj in "${objs[@]}"; do
  objects=$((objects + 1))
  [[ -f $obj ]] || { echo "check_kernel_objects: no object file $obj" >&2; exit 2; }
  # Weak (W) text symbols, mangled.
  while read -r _ type sym; do
    [[ $type == W ]] || continue
    demangled=$(c++filt "$sym")
    [[ $demangled == *"lmgen::simd::$family::"* ]] && continue
    checked=$((checked + 1))
    if objdump -d --no-show-raw-insn --disassemble="$sym" "$obj" |
        grep -qE '^\s+[0-9a-f]+:\s+v[a-z0-9]+|%[xyz]mm(1[6-9]|2[0-9]|3[01])|%[yz]mm|%k[0-7]'; then
      echo "check_kernel_objects: $family object $(basename "$obj") defines the shared function $demangled with" \
           "instructions of its family (VEX/EVEX): the linker may run them on a CPU without them" >&2
      bad=1
    fi
  done < <(nm --defined-only "$obj")
  done
done
echo "check_kernel_objects: $objects objects, $checked shared functions checked, $( ((bad)) && echo FAILED || echo none uses family instructions)"
exit $bad
