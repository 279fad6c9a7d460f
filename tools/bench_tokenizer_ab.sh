#!/usr/bin/env bash
# A/B tokenizer speed: two bench_tokenizer builds (e.g. an older commit's and this one's) run alternately on the same
# tokenizer and text, ROUNDS times, then the median (and range) of each one's encode MB/s, cold and warm. Alternating
# keeps both sides under the same machine load, which on a shared VM moves single runs by 10-30%.
#   tools/bench_tokenizer_ab.sh A_BENCH B_BENCH TOKENIZER [ROUNDS] [TEXT]
#   tools/bench_tokenizer_ab.sh /tmp/old/bench_tokenizer build/bench_tokenizer ../shared/tokenizers/llama3 8
set -euo pipefail
[ $# -ge 3 ] || { sed -n 2,6p "$0" >&2; exit 2; }
A=$1 B=$2 TOK=$3 ROUNDS=${4:-8}
TEXT=${5:-"$(dirname "$0")/../../shared/data/tinyshakespeare/input.txt"}
for _ in $(seq "$ROUNDS"); do
  for side in A B; do
    bin=$A; [ "$side" = B ] && bin=$B
    "$bin" "$TOK" "$TEXT" 3 | awk -v s="$side" '/^encode cold/{c=$6} /^encode warm/{w=$6} END{print s, c, w}'
  done
done | python3 -c '
import sys, statistics as st
d = {}
for line in sys.stdin:
    side, cold, warm = line.split()
    d.setdefault(side, ([], []))
    d[side][0].append(float(cold)); d[side][1].append(float(warm))
for side, (c, w) in sorted(d.items()):
    print(f"{side}  encode cold median {st.median(c):6.2f} MB/s ({min(c):.2f}-{max(c):.2f})"
          f"  warm median {st.median(w):6.2f} MB/s ({min(w):.2f}-{max(w):.2f})  rounds {len(c)}")
'
