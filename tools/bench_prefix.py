#!/usr/bin/env python3
"""Prompt-prefix reuse across requests (issue 33), against any OpenAI-compatible server (lmgen serve,
llama-server), stdlib only. Two measurements, one JSON line each on stdout:

    tools/bench_prefix.py --port 8080 [--words 700] [--clients 4] [--turns 6]

growing:  one long prompt (--words words, ~900 tokens on a SmolLM2-style tokenizer) through /v1/completions with
          max_tokens 1, then the same prompt plus 6 words, then plus 10 more: the wall time of each request (the
          second and third find the first's tokens in the server's cache when it keeps them).
chat:     --clients concurrent conversations of --turns turns each through /v1/chat/completions (greedy, 16 tokens a
          reply), every turn sending the whole conversation so far: time to first token per turn, median over the
          clients (streamed).
"""
import argparse
import http.client
import json
import statistics
import threading
import time

WORDS = ("the quick brown fox jumps over a lazy dog while seven small birds sing in the tall green trees near "
         "an old stone bridge across the quiet river").split()


def post(port, path, body, stream=False):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    t0 = time.perf_counter()
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError(f"{path}: status {resp.status}: {resp.read()[:200]!r}")
    if not stream:
        out = json.loads(resp.read())
        conn.close()
        return out, time.perf_counter() - t0, None
    text, ttft = "", None
    for raw in resp:
        line = raw.decode("utf-8", "replace").strip()
        if not line.startswith("data: ") or line[6:] == "[DONE]":
            continue
        for ch in json.loads(line[6:]).get("choices", []):
            piece = ch.get("delta", {}).get("content") or ""
            if piece and ttft is None:
                ttft = time.perf_counter() - t0
            text += piece
    conn.close()
    return text, time.perf_counter() - t0, ttft


def words(n, start=0):
    return " ".join(WORDS[(start + i) % len(WORDS)] for i in range(n))


def growing(port, n_words):
    base = words(n_words)
    times = []
    for extra in ("", " " + words(6, 3), " " + words(6, 3) + " " + words(10, 11)):
        _, s, _ = post(port, "/v1/completions", {"prompt": base + extra, "max_tokens": 1, "temperature": 0})
        times.append(round(s, 3))
    return {"bench": "growing", "words": n_words, "seconds": times}


def chat(port, n_clients, n_turns):
    ttft = [[None] * n_clients for _ in range(n_turns)]

    def client(c):
        messages = [{"role": "system", "content": f"You are assistant number {c}. " + words(40, c)}]
        for t in range(n_turns):
            messages.append({"role": "user", "content": f"Question {t} from client {c}: " + words(12, c + t)})
            body = {"messages": messages, "max_tokens": 16, "temperature": 0, "stream": True}
            reply, _, first = post(port, "/v1/chat/completions", body, stream=True)
            ttft[t][c] = first
            messages.append({"role": "assistant", "content": reply})

    threads = [threading.Thread(target=client, args=(c,)) for c in range(n_clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    med = [round(1000 * statistics.median([x for x in row if x is not None]), 1) for row in ttft]
    return {"bench": "chat", "clients": n_clients, "turns": n_turns, "ttft_median_ms_per_turn": med}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--words", type=int, default=700)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--turns", type=int, default=6)
    ap.add_argument("--label", default="")
    a = ap.parse_args()
    for res in (growing(a.port, a.words), chat(a.port, a.clients, a.turns)):
        res["label"] = a.label
        print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
