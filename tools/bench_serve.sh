#!/usr/bin/env bash
# Server throughput, lmgen serve against llama.cpp's llama-server, in one run (one server at a time, so they never
# share the cores): aggregate generation tok/s and time to first token with 1, 4 and 8 concurrent streams.
#   tools/bench_serve.sh MODEL.gguf [LMGEN_BINARY] [LLAMA_DIR]
# Settings (environment): THREADS (2), PARALLEL (8), CTX per sequence (512), REQUESTS per stream (3),
# MAX_TOKENS (64), STREAMS (1,4,8). Output: the JSON lines of tools/bench_serve.py, labelled, and each server's
# stderr in /tmp/bench_serve.*.err.
# BENCH=prefix: prompt-prefix reuse instead (tools/bench_prefix.py: a ~900-token prompt with max_tokens 1, then it
# plus 6 and plus 16 words; and CLIENTS (4) conversations of TURNS (6) turns, time to first token per turn), both
# servers with the same slots: PARALLEL (default 4 here) and CTX (default 2048 here) per slot, the model's template
# (CHAT_TEMPLATE=FILE: that Jinja file for both servers instead, e.g. for a random-weight model that has none).
set -euo pipefail
cd "$(dirname "$0")/.."
model="$1"
lmgen="${2:-build/lmgen}"
llama_dir="${3:-../shared/bench/llama.cpp-b4748}"
bench="${BENCH:-throughput}"
if [ "$bench" = prefix ]; then
  threads="${THREADS:-2}" parallel="${PARALLEL:-4}" ctx="${CTX:-2048}"
  client=(python3 tools/bench_prefix.py --clients "${CLIENTS:-4}" --turns "${TURNS:-6}")
  llama_extra=(--jinja)  # the model's chat template, as lmgen renders it
else
  threads="${THREADS:-2}" parallel="${PARALLEL:-8}" ctx="${CTX:-512}"
  client=(python3 tools/bench_serve.py --streams "${STREAMS:-1,4,8}" --requests "${REQUESTS:-3}"
          --max-tokens "${MAX_TOKENS:-64}")
  llama_extra=()
fi

wait_port() {  # wait_port PORT: until /health answers 200
  for _ in $(seq 1 300); do
    if python3 - "$1" <<'EOF' 2>/dev/null; then return 0; fi
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=2)
c.request("GET", "/health")
sys.exit(0 if c.getresponse().status == 200 else 1)
EOF
    sleep 0.2
  done
  echo "bench_serve.sh: the server on port $1 did not come up" >&2
  return 1
}

run_one() {  # run_one LABEL PORT CMD...
  local label="$1" port="$2"
  shift 2
  "$@" 2>"/tmp/bench_serve.$label.err" &
  local pid=$!
  trap "kill $pid 2>/dev/null || true" EXIT  # a failed client (set -e) leaves no server holding the port
  wait_port "$port"
  "${client[@]}" --port "$port" --label "$label"
  kill "$pid"
  wait "$pid" || true
}

template=()
[ -n "${CHAT_TEMPLATE:-}" ] && template=(--chat-template-file "$CHAT_TEMPLATE")
run_one lmgen 18481 "$lmgen" serve -m "$model" --port 18481 -t "$threads" --parallel "$parallel" -c "$ctx" -q \
  "${template[@]}"
run_one llama-server 18482 "$llama_dir/llama-server" -m "$model" --host 127.0.0.1 --port 18482 -t "$threads" \
  -np "$parallel" -cb -c $((ctx * parallel)) "${llama_extra[@]}" "${template[@]}"
grep -h "load_backend" /tmp/bench_serve.llama-server.err | tail -1 >&2 || true
