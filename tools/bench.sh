#!/usr/bin/env bash
# tools/bench.sh — lmgen vs llama.cpp (llama-bench), side by side, on the models of the speed issue's table.
#
#   tools/bench.sh            # everything (long: tens of minutes on the 2-core machine): writes
#                             # $BENCH_DIR/results-*.{jsonl,md} and prints the markdown table
#   QUICK=1 tools/bench.sh    # smoke test: 1 rep, pp32/pp64/tg16, small models only
#
# Steps:
#   1. builds lmgen and tools/make_random_gguf.cpp (Release, no tests; $CMAKE_ARGS, ccache when present) in
#      $BUILD_DIR (default build-bench) from the working tree — uncommitted changes included (the result files say so);
#   2. makes the random-weight models once (cached in $BENCH_DIR, default /tmp/lmgen-bench): SmolLM2-135M and
#      TinyLlama-1.1B shapes from shared/configs with the 32000-token llama SPM vocabulary from
#      shared/vocab/ggml-vocab-llama-spm.gguf, written as F32 (SmolLM2) / F16 (TinyLlama) by make_random_gguf, the
#      other types (f16 q8_0 q4_0 q4_k_m) by `lmgen quantize`; plus the real stories260K.gguf; and Qwen3-0.6B /
#      Gemma-3-1B shapes (tools/configs; Qwen's 151936-token vocabulary from fixtures/tiny-qwen3, Gemma 3's 262144
#      rows padded from fixtures/tiny-gemma3's) written as Q8_0 by make_random_gguf, measured by lmgen alone;
#   3. per model, per thread count T (1, 2), interleaved so that machine noise hits both engines alike:
#        `lmgen bench -m M -p 128 -n 64 -t T -r $REPS --jsonl` and `lmgen bench -m M -p 512 -n 0 ...` (lmgen bench
#        takes one -p), then
#        `$SHARED/bench/llama.cpp-b4748/llama-bench -m M -p 128,512 -n 64 -t T -r $REPS -o jsonl`;
#      both: one warm-up run, pp from an empty context, tg64 from an empty context too (llama-bench b4748 has no
#      depth option). lmgen's JSONL names its kernel family ("kernels"); llama-bench's stderr names the CPU variant
#      it loaded (`load_backend: loaded CPU backend from .../libggml-cpu-VARIANT.so`), recorded with each line.
#      Page cache: each model file is dropped from the page cache first (dd iflag=nocache count=0), so lmgen's first
#      load reads it from disk into 2 MiB folios (its map is advised MADV_HUGEPAGE) and both engines then run on
#      that same cache, whatever happened to the file before. Then, lmgen alone: tg with --no-mmap (weights read
#      into huge-page memory); the worst case for a map, a copy written in 4 KiB pieces (dd bs=4k: cached in 4 KiB
#      folios), tg at t=1 for both engines; whole-process time of
#      `lmgen -m M -p "Once upon a time" -n 16 --temp 0 --ignore-eos -t T` at T = 1, 2 with hyperfine (or a
#      date +%s%N loop; the median of 40 runs for files under 16 MiB); peak RSS of that command at -t 2 from
#      /usr/bin/time -v.
#   4. the table: one per run, headed with the CPU (lscpu's model name and its AVX-512/AMX flags), the date, the
#      commit, lmgen's kernel family and llama.cpp's variant; per model "lmgen/llama.cpp (ratio)" tokens/s for tg
#      and pp at t=1 and t=2; then the cells below the goals (tg ≥ 1.3× on smol-q8_0 and smol-q4_0 at t=1, every
#      other tg and pp cell ≥ 1.1×); then a second, smaller table with the lmgen-only measurements, and the
#      goals it checks (stories260K whole process ≤ 6 ms at t=1, peak RSS ≤ file + 64 MiB).
#      The JSONL's first line records the machine (cpu, flags, date, commit, cores, reps).
# Environment: LMGEN_ROOT (source tree; default: this script's), LMGEN_SHARED (default $LMGEN_ROOT/../shared),
#   REPS (default 5), ROUNDS (default 1: rounds of lmgen then llama-bench per model and thread count, the table
#   showing each cell's median; on a noisy VM, ROUNDS=3 REPS=2 lets minute-long slow spells hit both engines),
#   BENCH_DIR, BUILD_DIR, CMAKE_ARGS, THREADS (default "1 2"), PEER_TIMEOUT (s per llama-bench
#   run, default 600), SKIP_PEER=1, MODELS="smol-f32 ...",
#   (besides the models above, smol-peer-TYPE / tinyllama-peer-TYPE, e.g. smol-peer-iq4_xs, are made from the F16 file by
#   llama.cpp's own llama-quantize, as the files people download are; KEEP_F16=1 keeps TinyLlama's 2.1 GB F16 file;
#   MODELS_ONLY=1 makes the models and stops),
#   PPS="128" (prompt sizes; default "128 512"), EXTRAS=0 (only the side-by-side cells: no --no-mmap, 4 KiB-page, whole-process or RSS measurements),
#   FAMILY=avx2|avx512|avx512vnni: an older CPU class on this one. lmgen runs with LMGEN_ISA=$FAMILY, and llama-bench
#   from a folder holding only the matching CPU variant (haswell, skylakex, icelake: llama.cpp's builds for AVX2,
#   AVX-512 and AVX-512 VNNI), so both engines use the instructions such a CPU has. (Not the CPU's caches, memory
#   or clock: a table of the class as it runs on this machine.)
set -euo pipefail

ROOT=${LMGEN_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
SHARED=${LMGEN_SHARED:-$ROOT/../shared}
LLAMA_DIR=$SHARED/bench/llama.cpp-b4748
LLAMA_BENCH=$LLAMA_DIR/llama-bench
BUILD=${BUILD_DIR:-$ROOT/build-bench}
WORK=${BENCH_DIR:-/tmp/lmgen-bench}
REPS=${REPS:-5}
ROUNDS=${ROUNDS:-1}  # rounds of (lmgen, llama-bench) per model and thread count; the table takes each cell's median
THREADS=${THREADS:-1 2}
PEER_TIMEOUT=${PEER_TIMEOUT:-600}  # seconds per llama-bench run (t=2 crawls when the machine is busy: spinning threads)
default_cmake="-G Ninja -DCMAKE_BUILD_TYPE=Release -DLMGEN_BUILD_TESTS=OFF"
command -v ccache >/dev/null && default_cmake+=" -DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
CMAKE_ARGS=${CMAKE_ARGS:-$default_cmake}
PPS=${PPS:-128 512}  # prompt sizes (PPS="128": one size) (lmgen bench: one run per size; llama-bench: one -p list)
TG=64
ALL_MODELS="smol-f32 smol-f16 smol-q8_0 smol-q4_0 smol-q4_k_m tinyllama-q4_0 stories260K qwen3-0.6b-q8_0 gemma3-1b-q8_0"
LMGEN_ONLY="qwen3-0.6b-q8_0 gemma3-1b-q8_0"  # families the llama.cpp peer (b4748) lacks: lmgen alone
if [[ -n "${QUICK:-}" ]]; then
  REPS=1 PPS="32 64" TG=16
  ALL_MODELS="smol-q4_0 smol-q4_k_m stories260K"
fi
MODELS=${MODELS:-$ALL_MODELS}
mkdir -p "$WORK"
STAMP=$(date +%Y%m%d-%H%M%S)
RES=$WORK/results-$STAMP.jsonl
MD=$WORK/results-$STAMP.md
: >"$RES"
log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }

# ---- FAMILY: both engines limited to one CPU class's instructions ----
if [[ -n "${FAMILY:-}" ]]; then
  case $FAMILY in
    avx2) variant=haswell ;;
    avx512) variant=skylakex ;;
    avx512vnni) variant=icelake ;;
    *) log "FAMILY=$FAMILY: expected avx2, avx512 or avx512vnni"; exit 2 ;;
  esac
  export LMGEN_ISA=$FAMILY
  # llama.cpp picks the best libggml-cpu-*.so beside its executable: a folder with only one of them forces it
  peer=$WORK/llama.cpp-$variant
  mkdir -p "$peer"
  cp "$LLAMA_DIR/llama-bench" "$peer/"
  for lib in libggml-base.so libggml.so libllama.so "libggml-cpu-$variant.so"; do ln -sf "$LLAMA_DIR/$lib" "$peer/$lib"; done
  LLAMA_BENCH=$peer/llama-bench
  log "FAMILY=$FAMILY: lmgen with LMGEN_ISA=$FAMILY, llama.cpp with only its $variant variant"
fi

# ---- the machine (first line of the JSONL; the markdown header) ----
cpu_model=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
[[ -z $cpu_model ]] && cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
cpu_flags=$(lscpu 2>/dev/null | sed -n 's/^Flags:[[:space:]]*//p' | head -1)
[[ -z $cpu_flags ]] && cpu_flags=$(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2)
flags=""
for f in avx2 avx512f avx512bw avx512vl avx512_vnni avx512_bf16 amx_tile amx_int8 amx_bf16; do
  [[ " $cpu_flags " == *" $f "* ]] && flags+="${flags:+ }$f"
done
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')
dirty=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | cut -c4- | tr '\n' ' ')  # built too
python3 - "$cpu_model" "$flags" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$commit" "$dirty" "$(nproc)" "$REPS" "$ROUNDS" >>"$RES" <<'EOF'
import json, sys
cpu, flags, date, commit, dirty, cores, reps, rounds = sys.argv[1:]
print(json.dumps({"machine": {"cpu": cpu, "flags": flags.split(), "date": date, "commit": commit,
                              "uncommitted_changes": dirty.split(), "cores": int(cores), "reps": int(reps),
                              "rounds": int(rounds), "llama_cpp": "b4748 (c392e50)"}}))
EOF

# ---- 1. build ----
log "building lmgen in $BUILD"
read -ra cmake_args <<<"$CMAKE_ARGS"
build_log=$WORK/build-$$.log
if ! { cmake -S "$ROOT" -B "$BUILD" "${cmake_args[@]}" && cmake --build "$BUILD" -j2 --target lmgen make_random_gguf; } \
  >"$build_log" 2>&1; then
  grep -E -m 20 'error|FAILED' "$build_log" >&2 || tail -20 "$build_log" >&2
  log "build failed (full log: $build_log)"
  exit 1
fi
rm -f "$build_log"
LMGEN=$BUILD/lmgen
MAKE_RANDOM=$BUILD/make_random_gguf

# ---- 2. models ----
VOCAB=$SHARED/vocab/ggml-vocab-llama-spm.gguf
LLAMA_QUANTIZE=$LLAMA_DIR/quantize/llama-quantize
peer_type() { echo "$1" | tr a-z A-Z; }  # q3_k_m -> Q3_K_M, llama-quantize's spelling
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
    smol-peer-*)  # made by llama.cpp's own llama-quantize (the files people download), from the F16 file
      make_model smol-f16
      log "making $name with llama-quantize"
      "$LLAMA_QUANTIZE" "$(model_path smol-f16)" "$out" "$(peer_type "${name#smol-peer-}")" 2 >/dev/null ;;
    smol-*)
      make_model smol-f32
      log "making $name"
      "$LMGEN" quantize "$(model_path smol-f32)" "$out" --type "${name#smol-}" -q ;;
    tinyllama-q4_0|tinyllama-peer-*)
      local f16=$WORK/tinyllama-f16.gguf
      if [[ ! -s $f16 ]]; then
        log "making tinyllama-f16 (2.1 GB, deleted after quantizing unless KEEP_F16=1)"
        "$MAKE_RANDOM" --config "$SHARED/configs/tinyllama-1.1b-chat-v1.0/config.json" --vocab "$VOCAB" --type f16 --out "$f16"
      fi
      log "making $name"
      if [[ $name == tinyllama-peer-* ]]; then
        "$LLAMA_QUANTIZE" "$f16" "$out" "$(peer_type "${name#tinyllama-peer-}")" 2 >/dev/null
      else
        "$LMGEN" quantize "$f16" "$out" --type q4_0 -q
      fi
      [[ -n ${KEEP_F16:-} ]] || rm -f "$f16" ;;
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
if [[ -n ${MODELS_ONLY:-} ]]; then log "models made in $WORK (MODELS_ONLY set: no measurements)"; exit 0; fi

# ---- 3. measurements ----
have_peer=0
if [[ -z "${SKIP_PEER:-}" ]] && [[ -x $LLAMA_BENCH ]]; then
  have_peer=1
else
  log "llama.cpp peer not used (SKIP_PEER set, or no $LLAMA_BENCH); measuring lmgen only"
fi
PP_LIST=${PPS// /,}
PROMPT="Once upon a time"
tag() {  # wraps each JSON line of stdin: tag NAME MIB ENGINE [EXTRA_JSON_FIELDS]
  local line
  while read -r line; do
    if [[ $line == "{"* ]]; then echo "{\"model\": \"$1\", \"mib\": $2, \"engine\": \"$3\"${4:+, $4}, \"r\": $line}"; fi
  done
  return 0
}
llama_bench() {  # llama_bench NAME MIB ENGINE FILE ARGS...: runs llama-bench, appends its lines (with its variant)
  local name=$1 mib=$2 engine=$3 file=$4 out err variant rc=0
  shift 4
  out=$WORK/llama-bench-$$.out err=$WORK/llama-bench-$$.err
  (cd "$(dirname "$LLAMA_BENCH")" && timeout "$PEER_TIMEOUT" "$LLAMA_BENCH" -m "$file" "$@" -r "$REPS" -o jsonl) \
    >"$out" 2>"$err" || rc=$?
  variant=$(sed -n 's/.*load_backend: loaded CPU backend from .*libggml-cpu-\([A-Za-z0-9_]*\)\.so.*/\1/p' "$err" | head -1)
  ((rc == 0)) || log "$name: llama-bench $* failed (exit $rc$( ((rc == 124)) && echo ", timed out after ${PEER_TIMEOUT}s"))"
  ((rc == 0)) || tail -3 "$err" >&2
  tag "$name" "$mib" "$engine" "\"variant\": \"${variant:-unknown}\"" <"$out" >>"$RES"  # partial output counts too
  rm -f "$out" "$err"
}
whole_process() {  # prints the median milliseconds of one `lmgen ... -n 16` run at -t $2 ($3: the file's MiB)
  local m=$1 t=$2 mib=$3
  local cmd=("$LMGEN" -m "$m" -p "$PROMPT" -n 16 --temp 0 --ignore-eos -t "$t" -q)
  if command -v hyperfine >/dev/null; then
    local j=$WORK/hf-$$.json runs=$((REPS * 2))
    # A run of a few milliseconds (stories260K) is at the mercy of one slow page fault or a descheduled vCPU:
    # 40 runs after 5 warm-ups, and the median (the issue's own measure), not the mean.
    if python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 16 else 1)" "$mib"; then runs=40; fi
    # -N: no intermediate shell (its ~1 ms would distort small models); the words are quoted for hyperfine's splitter
    hyperfine -N -w 5 -r "$runs" --export-json "$j" "$(printf '%q ' "${cmd[@]}")" >/dev/null
    python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["results"][0]["median"]*1000, 2))' "$j"
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
  for ((round = 1; round <= ROUNDS; round++)); do
  for t in $THREADS; do
    # lmgen bench takes a single -p: tg with the first prompt size, then one run per further size
    log "$name ($mib MiB) t=$t: lmgen bench (round $round of $ROUNDS)"
    n=$TG
    for pp in $PPS; do
      "$LMGEN" bench -m "$m" -p "$pp" -n "$n" -t "$t" -r "$REPS" --jsonl | tag "$name" "$mib" lmgen >>"$RES" ||
        log "$name: lmgen bench -p $pp -n $n -t $t failed"
      n=0
    done
    if ((peer_ok)); then
      log "$name ($mib MiB) t=$t: llama-bench"
      llama_bench "$name" "$mib" llama.cpp "$m" -p "$PP_LIST" -n "$TG" -t "$t"
    fi
  done
  done
  if [[ ${EXTRAS:-1} == 1 ]]; then  # EXTRAS=0: the side-by-side cells only
    # the same generation test with the weights read into (huge-page) memory instead of mapped: lmgen --no-mmap.
    # After llama.cpp: allocating huge anonymous pages can make the kernel split page-cache folios (compaction), and
    # both engines must see the same cache.
    log "$name: lmgen bench --no-mmap"
    "$LMGEN" bench -m "$m" -p 0 -n "$TG" -t "${THREADS// /,}" -r "$REPS" --jsonl --no-mmap | tag "$name" "$mib" lmgen-nommap >>"$RES" ||
      log "$name: lmgen bench --no-mmap failed"
    if [[ $name != stories260K ]]; then  # (1 MiB: no huge pages either way)
      small=$WORK/pages4k.gguf
      log "$name: generation from a copy cached in 4 KiB pages"
      dd if="$m" of="$small" bs=4k status=none
      "$LMGEN" bench -m "$small" -p 0 -n "$TG" -t 1 -r "$REPS" --jsonl | tag "$name" "$mib" lmgen-4k >>"$RES" ||
        log "$name: lmgen bench (4 KiB pages) failed"
      ((peer_ok)) && llama_bench "$name" "$mib" llama.cpp-4k "$small" -p 0 -n "$TG" -t 1
      rm -f "$small"
    fi
    for t in 1 2; do
      log "$name: whole process, 16 tokens, t=$t"
      ms=$(whole_process "$m" "$t" "$mib") || ms=""
      echo "{\"model\": \"$name\", \"mib\": $mib, \"engine\": \"lmgen-process\", \"threads\": $t, \"ms\": ${ms:-null}}" >>"$RES"
    done
    rss=$( { /usr/bin/time -v "$LMGEN" -m "$m" -p "$PROMPT" -n 16 --temp 0 --ignore-eos -t 2 -q >/dev/null; } 2>&1 |
      awk -F': ' '/Maximum resident set size/ {print $2}') || rss=0
    echo "{\"model\": \"$name\", \"mib\": $mib, \"engine\": \"lmgen-rss\", \"kib\": ${rss:-0}}" >>"$RES"
  fi
done

# ---- 4. table ----
python3 - "$RES" "$PPS" "$TG" "$LMGEN_ONLY" >"$MD" <<'EOF'
import json, sys
res, pps, tg, lmgen_only = sys.argv[1], sys.argv[2].split(), sys.argv[3], sys.argv[4].split()
machine, rows, order, kernels, variants = {}, {}, [], [], []
def note(lst, x):
    if x and x not in lst:
        lst.append(x)
for line in open(res):
    j = json.loads(line)
    if "machine" in j:
        machine = j["machine"]
        continue
    m, e = j["model"], j["engine"]
    if m not in rows:
        rows[m] = {"mib": j["mib"]}
        order.append(m)
    r, x = rows[m], j.get("r", {})
    if e in ("lmgen", "lmgen-nommap", "lmgen-4k"):
        note(kernels, x.get("kernels"))
        r.setdefault((e, x["test"], x["threads"]), []).append(x["tokens_per_s"])
    elif e in ("llama.cpp", "llama.cpp-4k"):
        note(variants, j.get("variant"))
        test = f"pp{x['n_prompt']}" if x["n_prompt"] > 0 else f"tg{x['n_gen']}"
        r.setdefault((e, test, x["n_threads"]), []).append(x["avg_ts"])
    elif e == "lmgen-process" and j["ms"] is not None:
        r[("proc", j["threads"])] = j["ms"]
    elif e == "lmgen-rss":
        r["rss"] = j["kib"] / 1024

for r in rows.values():  # several rounds: each cell's median
    for k, v in r.items():
        if isinstance(v, list):
            v = sorted(v)
            r[k] = v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2
def num(v):
    return "–" if v is None else f"{v:.0f}" if v >= 100 else f"{v:.1f}"
def ratio(a, b):
    return a / b if a is not None and b else None
def cell(r, test, t, engine="lmgen", peer="llama.cpp"):
    a, b = r.get((engine, test, t)), r.get((peer, test, t))
    q = ratio(a, b)
    return f"{num(a)}/{num(b)}" + (f" ({q:.2f}×)" if q is not None else "")

tgt = f"tg{tg}"
cols = [(tgt, 1), (tgt, 2)] + [(f"pp{p}", t) for p in pps for t in (1, 2)]
flags = " ".join(machine.get("flags", [])) or "none of avx2/avx512*/amx*"
dirty = machine.get("uncommitted_changes") or []
commit = machine.get("commit", "?") + (f" + uncommitted changes to {' '.join(dirty)}" if dirty else "")
print(f"CPU: {machine.get('cpu', '?')} ({machine.get('cores', '?')} cores); flags: {flags}  ")
print(f"date: {machine.get('date', '?')}; lmgen {commit}, kernels {', '.join(kernels) or '?'}; "
      f"llama.cpp {machine.get('llama_cpp', '?')} variant {', '.join(variants) or '– (not run)'}; "
      f"reps {machine.get('reps', '?')}, rounds {machine.get('rounds', 1)}  ")
print("tokens/s, lmgen/llama.cpp (ratio); lmgen: mean of the reps, llama-bench: its avg_ts; "
      "with several rounds (each engine in turn), the median of the rounds")
print()
print("| model | " + " | ".join(f"{test} t={t}" for test, t in cols) + " |")
print("| --- |" + " ---: |" * len(cols))
below, missing = [], []
for m in order:
    r = rows[m]
    print(f"| {m} ({r['mib']} MiB) | " + " | ".join(cell(r, test, t) for test, t in cols) + " |")
    if m in lmgen_only:
        continue
    for test, t in cols:
        goal = 1.3 if test == tgt and t == 1 and m in ("smol-q8_0", "smol-q4_0") else 1.1
        q = ratio(r.get(("lmgen", test, t)), r.get(("llama.cpp", test, t)))
        if q is None:
            missing.append(f"{m} {test} t={t}")
        elif q < goal:
            below.append(f"{m} {test} t={t} {q:.2f}× (goal {goal:.1f}×)")
print()
print("Below the goals (issue 31: tg ≥ 1.3× on smol-q8_0 and smol-q4_0 at t=1, every other cell ≥ 1.1×): "
      + ("; ".join(below) if below else "none") + (f". Not measured: {'; '.join(missing)}" if missing else "") + ".")
if any(k for r in rows.values() for k in r if isinstance(k, tuple) and k[0] != "lmgen" and k[0] != "llama.cpp"):
    # (EXTRAS=0: no lmgen-alone measurements, no second table)
    print()
    print("Other measurements, lmgen alone (tokens/s), except the 4 KiB-pages column: lmgen/llama.cpp at t=1:")
    print()
    print(f"| model | {tgt} t=1 `--no-mmap` | {tgt} t=2 `--no-mmap` | {tgt} t=1, file in 4 KiB pages | "
          "16 tok whole process t=1 / t=2 (median ms) | peak RSS MiB (t=2) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for m in order:
        r = rows[m]
        proc = " / ".join(f"{r[('proc', t)]:.1f}" if ("proc", t) in r else "–" for t in (1, 2))
        rss = f"{r['rss']:.0f}" if "rss" in r else "–"
        nm = [num(r.get(("lmgen-nommap", tgt, t))) for t in (1, 2)]
        print(f"| {m} | {nm[0]} | {nm[1]} | {cell(r, tgt, 1, 'lmgen-4k', 'llama.cpp-4k')} | {proc} | {rss} |")
    other = []
    for m in order:
        r = rows[m]
        if m == "stories260K":  # the issue's figure: t=1, a median
            ms = r.get(("proc", 1))
            if ms is None or ms > 6.0:
                other.append("stories260K whole process t=1 " + ("not measured" if ms is None else f"{ms:.1f} ms"))
        if "rss" in r and r["rss"] > float(r["mib"]) + 64:
            other.append(f"{m} peak RSS {r['rss']:.0f} MiB > file {r['mib']} + 64 MiB")
    print()
    print("Below the other goals (stories260K 16 tokens whole process ≤ 6 ms at t=1; peak RSS ≤ file + 64 MiB): "
          + ("; ".join(other) if other else "none") + ".")
EOF
{
  echo
  echo "uptime at end: $(uptime)"
  echo "raw results: $RES"
} >>"$MD"
cat "$MD"
