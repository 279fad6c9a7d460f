#!/usr/bin/env bash
# Fails when folders of src/ include each other in a cycle (load -> lora -> load, ...), so the folders stay layers
# of the flow in docs/architecture.md. An edge "A B" is a file in src/A/ including "B/...hpp" from another folder
# of src/ (include/lmgen/, the public API, is not one). tsort finds the loops; each is printed with the include
# lines that make it. CTest runs it as `folder_include_cycles`; by hand: tools/check_folder_cycles.sh [SRC_DIR].
set -euo pipefail
src="${1:-$(dirname "$0")/../src}"
cd "$src"

# "A B FILE:LINE" for every include of another folder's header.
edges() {
  local folders
  folders=$(find . -mindepth 1 -maxdepth 1 -type d -printf '%f\n')
  grep -rnE --include='*.hpp' --include='*.cpp' '^[[:space:]]*#[[:space:]]*include[[:space:]]+"[^"/]+/' . |
    sed -E 's|^\./([^/]+)/([^:]*):([0-9]+):.*#[[:space:]]*include[[:space:]]+"([^"/]+)/.*|\1 \4 \1/\2:\3|' |
    awk -v folders="$folders" 'BEGIN { n = split(folders, f, "\n"); for (i = 1; i <= n; ++i) is[f[i]] = 1 }
                               $1 != $2 && ($2 in is) { print $1, $2, $3 }'
}

all=$(edges)
pairs=$(awk '{ print $1, $2 }' <<<"$all" | sort -u)
if loops=$(tsort <<<"$pairs" 2>&1 >/dev/null) && [ -z "$loops" ]; then
  echo "no include cycle between the folders of $src ($(wc -l <<<"$pairs") folder edges)"
  exit 0
fi
echo "folders of $src include each other in a cycle:"
# tsort names the folders of each loop, one per line after "input contains a loop:".
members=$(grep -v 'contains a loop' <<<"$loops" | sed -E 's/^tsort: //' | sort -u)
while read -r a b where; do
  if grep -qx "$a" <<<"$members" && grep -qx "$b" <<<"$members"; then
    echo "  $a -> $b  ($where)"
  fi
done < <(sort -u -k1,2 <<<"$all")
exit 1
