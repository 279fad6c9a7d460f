#!/usr/bin/env python3
"""Load generator for OpenAI-compatible servers (lmgen serve, llama-server): aggregate generation speed and
time to first token with N concurrent streams.

    tools/bench_serve.py --port 8080 --streams 1,4,8 --requests 3 --max-tokens 64

For each N in --streams: N client threads each send --requests streaming /v1/completions requests one after the
other (greedy, ignore_eos, max_tokens fixed, a short prompt that differs per request). Reported per N:
  agg tok/s  = all generated tokens / wall time from the first request sent to the last one finished
  TTFT       = time from sending a request to its first chunk with text (median and max over all requests)
  per-stream = one request's tokens / (its last chunk - its first chunk), median
Tokens are counted from the usage of the final chunk when the server sends it, else as max_tokens.
One warm-up request runs first. Prints one JSON line per N on stdout (stdlib only).
"""
import argparse
import http.client
import json
import statistics
import threading
import time


def one_request(port, prompt, max_tokens):
    body = json.dumps({"prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "ignore_eos": True,
                       "stream": True, "stream_options": {"include_usage": True}})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    t0 = time.perf_counter()
    conn.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError(f"status {resp.status}: {resp.read()[:200]!r}")
    first = last = None
    tokens = None
    chunks = 0
    for raw in resp:
        line = raw.decode("utf-8", "replace").strip()
        if not line.startswith("data: "):
            continue
        data = line[6:]
        if data == "[DONE]":
            break
        ev = json.loads(data)
        if ev.get("usage"):
            tokens = ev["usage"].get("completion_tokens", tokens)
        for ch in ev.get("choices", []):
            if ch.get("text"):
                now = time.perf_counter()
                first = first if first is not None else now
                last = now
                chunks += 1
    conn.close()
    end = time.perf_counter()
    return {"ttft": (first or end) - t0, "tokens": tokens if tokens is not None else max_tokens,
            "decode_s": (last - first) if first is not None and last is not None else 0.0, "end": end, "start": t0}


def run_level(port, n_streams, n_requests, max_tokens):
    results, errors = [], []
    lock = threading.Lock()

    def client(c):
        for r in range(n_requests):
            prompt = f"Once upon a time, in a small village number {c * 100 + r}, there lived a"
            try:
                res = one_request(port, prompt, max_tokens)
                with lock:
                    results.append(res)
            except Exception as e:  # noqa: BLE001 - reported, not hidden
                with lock:
                    errors.append(str(e))

    threads = [threading.Thread(target=client, args=(c,)) for c in range(n_streams)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    total = sum(r["tokens"] for r in results)
    ttfts = [r["ttft"] for r in results]
    per_stream = [(r["tokens"] - 1) / r["decode_s"] for r in results if r["decode_s"] > 0]
    return {"streams": n_streams, "requests": len(results), "errors": len(errors), "tokens": total,
            "wall_s": round(wall, 3), "agg_tok_s": round(total / wall, 1),
            "ttft_median_ms": round(1000 * statistics.median(ttfts), 1) if ttfts else None,
            "ttft_max_ms": round(1000 * max(ttfts), 1) if ttfts else None,
            "per_stream_tok_s": round(statistics.median(per_stream), 1) if per_stream else None,
            "first_error": errors[0] if errors else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--streams", default="1,4,8")
    ap.add_argument("--requests", type=int, default=3, help="requests per stream")
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--label", default="")
    a = ap.parse_args()
    one_request(a.port, "Warm-up", 8)
    for n in [int(x) for x in a.streams.split(",")]:
        res = run_level(a.port, n, a.requests, a.max_tokens)
        res["label"] = a.label
        print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
