#!/usr/bin/env bash
# tools/bench.sh — lmgen vs llama.cpp, side by side, on the models of the speed issue's table.
#
#   tools/bench.sh            # everything (about 10-15 min on the 2-core machine): writes $BENCH_DIR/results-*.{jsonl,md}
#                             # and prints the markdown table
#   QUICK=1 tools/bench.sh    # smoke test: 1 rep, -p 32 -n 16, small models only
#
# Steps:
#   1. builds lmgen (Release, no tests) in $BUILD_DIR (default build-bench) and tools/make_random_gguf.cpp against
#      its library;
#   2. makes the random-weight models once (cached in $BENCH_DIR, default /tmp/lmgen-bench): SmolLM2-135M and
#      TinyLlama-1.1B shapes from shared/configs with the 32000-token llama SPM vocabulary from
#      shared/vocab/ggml-vocab-llama-spm.gguf, written as F32 (SmolLM2) / F16 (TinyLlama) by make_random_gguf, the
#      other types by `lmgen quantize`; plus the real stories260K.gguf; and Qwen3-0.6B / Gemma-3-1B shapes
#      (tools/configs; Qwen's 151936-token vocabulary from fixtures/tiny-qwen3, Gemma 3's 262144 rows padded from
#      fixtures/tiny-gemma3's) written as Q8_0 by make_random_gguf, measured by lmgen alone;
#   3. per model: `lmgen bench -p 128 -n 0 -t 1,2 -r $REPS --jsonl` (prompt from an empty context) and
#      `lmgen bench -p 0 -n 64 -d 128 ...` (generation after 128 context tokens, as the peer measures it), the latter
#      again with --no-mmap (weights read into huge-page memory instead of mapped); llama.cpp through
#      shared/bench/llamacpp_peer.mjs (node-llama-cpp 3.22.1 installed in $PEER_DIR, default /tmp/peer:
#      `mkdir -p /tmp/peer && cd /tmp/peer && npm init -y && npm install node-llama-cpp@3.22.1`) at --threads 1 and 2
#      (quote t=1: at t=2 Node's own thread competes for the 2 cores); whole-process time of
#      `lmgen -m M -p "Once upon a time" -n 16 --temp 0 --ignore-eos` at -t 1 and -t 2 with hyperfine (or a
#      date +%s%N loop); peak RSS of that command at -t 2 from /usr/bin/time -v.
#      Page cache: each model file is dropped from the page cache first (dd iflag=nocache count=0), so lmgen's first
#      load reads it from disk into 2 MiB folios (its map is advised MADV_HUGEPAGE) and both engines then run on
#      that same cache, whatever happened to the file before. Then the worst case: a copy written in 4 KiB pieces
#      (dd bs=4k: cached in 4 KiB folios, as a file written by a program with small writes and never evicted),
#      generation at t=1 for both engines.
# Environment: LMGEN_ROOT (source tree; default: this script's), REPS (default 5), BENCH_DIR, BUILD_DIR, PEER_DIR,
#   PEER_THREADS (default "1 2"), PEER_TIMEOUT (s, default 240), LMGEN_SHARED, SKIP_PEER=1, MODELS="smol-f32 ...".
set -euo pipefail

ROOT=${LMGEN_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
SHARED=${LMGEN_SHARED:-$ROOT/../shared}
BUILD=${BUILD_DIR:-$ROOT/build-bench}
WORK=${BENCH_DIR:-/tmp/lmgen-bench}
PEER=${PEER_DIR:-/tmp/peer}
REPS=${REPS:-5}
PEER_THREADS=${PEER_THREADS:-1 2}  # llama.cpp thread counts (t=2 crawls when the machine is busy: spinning threads)
PEER_TIMEOUT=${PEER_TIMEOUT:-240}  # seconds per llama.cpp run
PP=128
TG=64
ALL_MODELS="smol-f32 smol-f16 smol-q8_0 smol-q4_0 tinyllama-q4_0 stories260K qwen3-0.6b-q8_0 gemma3-1b-q8_0"
LMGEN_ONLY="qwen3-0.6b-q8_0 gemma3-1b-q8_0"  # families the llama.cpp peer (b4748) lacks: lmgen alone
if [[ -n "${QUICK:-}" ]]; then
  REPS=1 PP=32 TG=16
  ALL_MODELS="smol-q4_0 stories260K"
fi
MODELS=${MODELS:-$ALL_MODELS}
mkdir -p "$WORK"
STAMP=$(date +%Y%m%d-%H%M%S)
RES=$WORK/results-$STAMP.jsonl
MD=$WORK/results-$STAMP.md
: >"$RES"
log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }

# ---- 1. build ----
log "building lmgen in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DLMGEN_BUILD_TESTS=OFF -G Ninja >/dev/null
cmake --build "$BUILD" -j2 --target lmgen >/dev/null
LMGEN=$BUILD/lmgen
MAKE_RANDOM=$BUILD/make_random_gguf
cmake --build "$BUILD" -j2 --target make_random_gguf >/dev/null

# ---- 2. models ----
VOCAB=$SHARED/vocab/ggml-vocab-llama-spm.gguf
model_path() {
  case $1 in
    stories260K) echo "$SHARED/models/stories260K/stories260K.gguf" ;;
    *) echo "$WORK/$1.gguf" ;;
  esac
}
make_model() {
  local name=$1 out
  out=$(model_path "$name")
  [[ -s $out ]] && return 0
  case $name in
    smol-f32)
      log "making $name"
      "$MAKE_RANDOM" --config "$SHARED/configs/smollm2-135m/config.json" --vocab "$VOCAB" --type f32 --out "$out" ;;
    smol-*)
      make_model smol-f32
      log "making $name"
      "$LMGEN" quantize "$(model_path smol-f32)" "$out" --type "${name#smol-}" -q ;;
    tinyllama-q4_0)
      local f16=$WORK/tinyllama-f16.gguf
      if [[ ! -s $f16 ]]; then
        log "making tinyllama-f16 (2.1 GB, deleted after quantizing)"
        "$MAKE_RANDOM" --config "$SHARED/configs/tinyllama-1.1b-chat-v1.0/config.json" --vocab "$VOCAB" --type f16 --out "$f16"
      fi
      log "making $name"
      "$LMGEN" quantize "$f16" "$out" --type q4_0 -q
      rm -f "$f16" ;;
    qwen3-0.6b-q8_0)
      log "making $name"
      "$MAKE_RANDOM" --config "$ROOT/tools/configs/qwen3-0.6b/config.json" \
        --vocab "$SHARED/fixtures/tiny-qwen3/model-bf16.gguf" --type q8_0 --out "$out" ;;
    gemma3-1b-q8_0)
      log "making $name"
      "$MAKE_RANDOM" --config "$ROOT/tools/configs/gemma-3-1b/config.json" \
        --vocab "$SHARED/fixtures/tiny-gemma3/model-bf16.gguf" --n-vocab 262144 --type q8_0 --out "$out" ;;
    *) echo "unknown model $name" >&2; exit 1 ;;
  esac
}
for m in $MODELS; do make_model "$m"; done

# ---- 3. measurements ----
have_peer=0
if [[ -z "${SKIP_PEER:-}" ]] && command -v node >/dev/null && [[ -d $PEER/node_modules/node-llama-cpp ]]; then
  have_peer=1
else
  log "llama.cpp peer not available (node + $PEER/node_modules/node-llama-cpp); measuring lmgen only"
fi
PROMPT="Once upon a time"
whole_process() {  # prints mean milliseconds of one `lmgen ... -n 16` run at -t $2
  local m=$1 t=$2
  local cmd=("$LMGEN" -m "$m" -p "$PROMPT" -n 16 --temp 0 --ignore-eos -t "$t" -q)
  if command -v hyperfine >/dev/null; then
    local j=$WORK/hf-$$.json
    # -N: no intermediate shell (its ~1 ms would distort small models); the words are quoted for hyperfine's splitter
    hyperfine -N -w 2 -r "$((REPS * 2))" --export-json "$j" "$(printf '%q ' "${cmd[@]}")" >/dev/null
    python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["results"][0]["mean"]*1000, 2))' "$j"
    rm -f "$j"
  else
    "${cmd[@]}" >/dev/null
    local n=$((REPS * 2)) t0 t1
    t0=$(date +%s%N)
    for ((i = 0; i < n; i++)); do "${cmd[@]}" >/dev/null; done
    t1=$(date +%s%N)
    python3 -c "print(round(($t1 - $t0) / 1e6 / $n, 2))"
  fi
}
for name in $MODELS; do
  m=$(model_path "$name")
  mib=$(python3 -c "import os,sys; print(round(os.path.getsize(sys.argv[1]) / 1048576, 1))" "$m")
  dd if="$m" iflag=nocache count=0 status=none || log "$name: could not drop the file from the page cache"
  peer_ok=$have_peer
  [[ " $LMGEN_ONLY " == *" $name "* ]] && peer_ok=0
  log "$name ($mib MiB): lmgen bench"
  # pp from an empty context; tg after PP context tokens (-d), as the llama.cpp peer script generates after its prompt
  { "$LMGEN" bench -m "$m" -p "$PP" -n 0 -t 1,2 -r "$REPS" --jsonl
    "$LMGEN" bench -m "$m" -p 0 -n "$TG" -d "$PP" -t 1,2 -r "$REPS" --jsonl; } |
    while read -r line; do echo "{\"model\": \"$name\", \"mib\": $mib, \"engine\": \"lmgen\", \"r\": $line}"; done >>"$RES" ||
    log "$name: lmgen bench failed"
  if ((peer_ok)); then
    for t in $PEER_THREADS; do
      log "$name: llama.cpp t=$t"
      line=$(cd "$PEER" && timeout "$PEER_TIMEOUT" node "$SHARED/bench/llamacpp_peer.mjs" "$m" --prompt-tokens "$PP" \
        --gen-tokens "$TG" --threads "$t" --reps "$REPS" 2>/dev/null | tail -1) || line=""
      [[ -z $line ]] && log "$name: llama.cpp t=$t failed or timed out (${PEER_TIMEOUT}s)"
      [[ -n $line ]] && echo "{\"model\": \"$name\", \"mib\": $mib, \"engine\": \"llama.cpp\", \"threads\": $t, \"r\": $line}" >>"$RES"
    done
  fi
  # the same generation test with the weights read into (huge-page) memory instead of mapped: lmgen --no-mmap.
  # After llama.cpp: allocating huge anonymous pages can make the kernel split page-cache folios (compaction), and
  # both engines must see the same cache.
  "$LMGEN" bench -m "$m" -p 0 -n "$TG" -d "$PP" -t 1,2 -r "$REPS" --jsonl --no-mmap |
    while read -r line; do echo "{\"model\": \"$name\", \"mib\": $mib, \"engine\": \"lmgen-nommap\", \"r\": $line}"; done >>"$RES" ||
    log "$name: lmgen bench --no-mmap failed"
  if [[ $name != stories260K ]]; then  # (1 MiB: no huge pages either way)
    small=$WORK/pages4k.gguf
    log "$name: generation from a copy cached in 4 KiB pages"
    dd if="$m" of="$small" bs=4k status=none
    "$LMGEN" bench -m "$small" -p 0 -n "$TG" -d "$PP" -t 1 -r "$REPS" --jsonl |
      while read -r line; do echo "{\"model\": \"$name\", \"mib\": $mib, \"engine\": \"lmgen-4k\", \"r\": $line}"; done >>"$RES" ||
      log "$name: lmgen bench (4 KiB pages) failed"
    if ((peer_ok)); then
      line=$(cd "$PEER" && timeout "$PEER_TIMEOUT" node "$SHARED/bench/llamacpp_peer.mjs" "$small" --prompt-tokens "$PP" \
        --gen-tokens "$TG" --threads 1 --reps "$REPS" 2>/dev/null | tail -1) || line=""
      [[ -n $line ]] && echo "{\"model\": \"$name\", \"mib\": $mib, \"engine\": \"llama.cpp-4k\", \"threads\": 1, \"r\": $line}" >>"$RES"
    fi
    rm -f "$small"
  fi
  for t in 1 2; do
    log "$name: whole process, 16 tokens, t=$t"
    ms=$(whole_process "$m" "$t") || ms=""
    echo "{\"model\": \"$name\", \"mib\": $mib, \"engine\": \"lmgen-process\", \"threads\": $t, \"ms\": ${ms:-null}}" >>"$RES"
  done
  rss=$( { /usr/bin/time -v "$LMGEN" -m "$m" -p "$PROMPT" -n 16 --temp 0 --ignore-eos -t 2 -q >/dev/null; } 2>&1 |
    awk -F': ' '/Maximum resident set size/ {print $2}') || rss=0
  echo "{\"model\": \"$name\", \"mib\": $mib, \"engine\": \"lmgen-rss\", \"kib\": ${rss:-0}}" >>"$RES"
done

# ---- 4. table ----
python3 - "$RES" "$PP" "$TG" >"$MD" <<'EOF'
import json, sys
res, pp, tg = sys.argv[1], sys.argv[2], sys.argv[3]
rows, order = {}, []
for line in open(res):
    j = json.loads(line)
    m = j["model"]
    if m not in rows:
        rows[m] = {"mib": j["mib"]}
        order.append(m)
    r = rows[m]
    if j["engine"] == "lmgen":
        x = j["r"]
        r[("lmgen", x["test"][:2], x["threads"])] = (x["tokens_per_s"], x["sd"])
    elif j["engine"] == "lmgen-nommap":
        x = j["r"]
        r[("nommap", x["test"][:2], x["threads"])] = (x["tokens_per_s"], x["sd"])
    elif j["engine"] == "lmgen-4k":
        x = j["r"]
        r[("lmgen4k", x["test"][:2], x["threads"])] = (x["tokens_per_s"], x["sd"])
    elif j["engine"] == "llama.cpp":
        x = j["r"]
        r[("llama", "pp", j["threads"])] = (x["pp_tps_median"], None)
        r[("llama", "tg", j["threads"])] = (x["tg_tps_median"], None)
    elif j["engine"] == "llama.cpp-4k":
        r[("llama4k", "tg", j["threads"])] = (j["r"]["tg_tps_median"], None)
    elif j["engine"] == "lmgen-process" and j["ms"] is not None:
        r[("proc", j["threads"])] = j["ms"]
    elif j["engine"] == "lmgen-rss":
        r["rss"] = j["kib"] / 1024
LABELS = {"smol-f32": "SmolLM2-135M shape, F32", "smol-f16": "SmolLM2-135M shape, F16",
          "smol-q8_0": "SmolLM2-135M shape, Q8_0", "smol-q4_0": "SmolLM2-135M shape, Q4_0",
          "tinyllama-q4_0": "TinyLlama-1.1B shape, Q4_0", "stories260K": "stories260K (real, F32)",
          "qwen3-0.6b-q8_0": "Qwen3-0.6B shape, Q8_0", "gemma3-1b-q8_0": "Gemma-3-1B shape, Q8_0"}
def cell(r, test, t, engine="lmgen", peer="llama"):
    a, b = r.get((engine, test, t)), r.get((peer, test, t))
    s = f"{a[0]:.0f} ± {a[1]:.0f}" if a else "–"
    s += f" / {b[0]:.0f}" if b else " / –"
    if a and b and b[0] > 0:
        s += f" (**{a[0] / b[0]:.2f}×**)"
    return s
print(f"| model | file MiB | pp{pp} t=1 lmgen / llama.cpp | pp{pp} t=2 | tg{tg} t=1 lmgen / llama.cpp | tg{tg} t=2 | tg{tg} t=1 `--no-mmap` | tg{tg} t=2 `--no-mmap` | tg{tg} t=1, file in 4 KiB pages, lmgen / llama.cpp | 16 tok whole process t=1 / t=2 (ms) | peak RSS MiB (t=2) |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for m in order:
    r = rows[m]
    proc = " / ".join(f"{r[('proc', t)]:.1f}" if ("proc", t) in r else "–" for t in (1, 2))
    rss = f"{r['rss']:.0f}" if "rss" in r else "–"
    print(f"| {LABELS.get(m, m)} | {r['mib']} | {cell(r, 'pp', 1)} | {cell(r, 'pp', 2)} | {cell(r, 'tg', 1)} | {cell(r, 'tg', 2)} | {cell(r, 'tg', 1, 'nommap')} | {cell(r, 'tg', 2, 'nommap')} | {cell(r, 'tg', 1, 'lmgen4k', 'llama4k')} | {proc} | {rss} |")
EOF
{
  echo
  echo "uptime at end: $(uptime)"
  echo "lmgen $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), reps $REPS, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "raw results: $RES"
} >>"$MD"
cat "$MD"
