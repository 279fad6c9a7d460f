#!/usr/bin/env bash
# Tokenizer benchmark: lmgen (tools/bench_tokenizer.cpp) against the HF tokenizers library (Rust, through the npm
# package @anush008/tokenizers) on the same text and the same tokenizer.json files.
#
#   tools/bench_tokenizer.sh [BUILD_DIR] [REPS]
#     BUILD_DIR  a configured lmgen build directory (default: build-bpe); liblmgen_engine.a is built there
#     REPS       encode repetitions per run (default 5)
# Environment:
#   LMGEN_SHARED  shared material (default: ../shared next to the source tree)
#   HF_NODE_DIR   directory where @anush008/tokenizers is (or will be) npm-installed (default: /tmp/lmgen-hf-bench)
#   TEXT          text to encode (default: $LMGEN_SHARED/data/tinyshakespeare/input.txt)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$ROOT/build-bpe}"
REPS="${2:-5}"
SHARED="${LMGEN_SHARED:-$ROOT/../shared}"
HF_NODE_DIR="${HF_NODE_DIR:-/tmp/lmgen-hf-bench}"
TEXT="${TEXT:-$SHARED/data/tinyshakespeare/input.txt}"
OUT="$(mktemp -d /tmp/lmgen-bench-tok.XXXXXX)"

# 1. lmgen: build the engine library, compile the benchmark against it.
cmake --build "$BUILD" --target bench_tokenizer >/dev/null
cp "$BUILD/bench_tokenizer" "$OUT/bench_tokenizer"

# 2. HF tokenizers through node (installed outside the repository).
if [ ! -d "$HF_NODE_DIR/node_modules/@anush008/tokenizers" ]; then
  mkdir -p "$HF_NODE_DIR"
  (cd "$HF_NODE_DIR" && npm init -y >/dev/null && npm install @anush008/tokenizers@0.6.0 >/dev/null)
fi
cat >"$OUT/bench_hf.js" <<'EOF'
const { Tokenizer } = require(process.env.HF_NODE_DIR + '/node_modules/@anush008/tokenizers');
const fs = require('fs');
const [tokPath, textPath, repsArg] = process.argv.slice(2);
const reps = Math.max(1, parseInt(repsArg || '5'));
const now = () => Number(process.hrtime.bigint()) / 1e9;
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const timer = () => { const w0 = now(), c0 = cpu(); return { wall: () => now() - w0, cpu: () => cpu() - c0 }; };
(async () => {
  const text = fs.readFileSync(textPath, 'utf8');
  const mb = Buffer.byteLength(text, 'utf8') / 1e6;
  let t = timer();
  const tok = Tokenizer.fromFile(tokPath);
  const loadW = t.wall(), loadC = t.cpu();
  t = timer();
  const enc = await tok.encode(text, null, { addSpecialTokens: false });
  const coldW = t.wall(), coldC = t.cpu();
  const ids = enc.getIds();
  let warmW = Infinity, warmC = Infinity;
  for (let r = 1; r < reps; r++) {
    t = timer();
    await tok.encode(text, null, { addSpecialTokens: false });
    warmW = Math.min(warmW, t.wall()); warmC = Math.min(warmC, t.cpu());
  }
  let decW = Infinity, decC = Infinity;
  for (let r = 0; r < Math.max(1, Math.floor(reps / 2)); r++) {
    t = timer();
    await tok.decode(ids, false);
    decW = Math.min(decW, t.wall()); decC = Math.min(decC, t.cpu());
  }
  const f = (x, n) => x.toFixed(n).padStart(8);
  const line = (what, w, c) => console.log(`${what.padEnd(12)} wall ${f(w * 1e3, 1)} ms ${f(mb / w, 2)} MB/s | cpu ${f(c * 1e3, 1)} ms ${f(mb / c, 2)} MB/s`);
  console.log(`tokenizer    ${tokPath} (HF tokenizers)`);
  console.log(`load         wall ${f(loadW * 1e3, 1)} ms             | cpu ${f(loadC * 1e3, 1)} ms`);
  console.log(`tokens       ${ids.length}`);
  line('encode cold', coldW, coldC);
  if (reps > 1) line('encode warm', warmW, warmC);
  line('decode', decW, decC);
})();
EOF

for name in gpt2 qwen3 llama3 llama2 gemma3; do
  tj="$SHARED/tokenizers/$name/tokenizer.json"
  echo "=== $name: lmgen"
  "$OUT/bench_tokenizer" "$tj" "$TEXT" "$REPS"
  echo "=== $name: HF tokenizers"
  HF_NODE_DIR="$HF_NODE_DIR" node "$OUT/bench_hf.js" "$tj" "$TEXT" "$REPS"
done
for v in gpt-2 deepseek-llm; do
  echo "=== GGUF vocab $v: lmgen (llama.cpp semantics)"
  "$OUT/bench_tokenizer" "$SHARED/vocab/ggml-vocab-$v.gguf" "$TEXT" "$REPS"
done
rm -rf "$OUT"
