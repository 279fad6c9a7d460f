#!/usr/bin/python3
"""Checks a GGUF written by train_llama.py against real llama.cpp (via check_llamacpp.mjs / node-llama-cpp):
1. llama.cpp's tokenization of many strings (held-out text lines and paragraphs, odd spacing, characters not in
   the vocab) equals this tool's Python encoder (SpmVocab.encode, the one used to tokenize the training data);
2. llama.cpp's greedy continuation of the prompt equals the numpy forward pass from the GGUF (NumpyLlama).

  /usr/bin/python3 tools/train/compare_llamacpp.py models/shakespeare-1.8M.gguf --node-dir /tmp/nl
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_llama import NumpyLlama, greedy, vocab_from_gguf_meta  # noqa: E402


def test_strings(data_path):
    text = open(data_path, encoding="utf-8").read()
    val = text[int(0.9 * len(text)):]
    lines = val.split("\n")
    out = [ln for ln in lines[:400] if ln]
    paras = val.split("\n\n")
    out += ["\n\n".join(paras[i:i + 3]) for i in range(0, 60, 3)]
    out += ["ROMEO:", "ROMEO:\n", " leading space", "two  spaces   three", "trailing space ", "\n\nnewlines\n",
            "caf\u00e9 na\u00efve \u65e5\u672c \U0001F600", "tabs\tand\rcarriage", "<s> </s> <unk>", "A", " ", "x\n y",
            "Thou art more lovely and more temperate:", "ZZZ zzz qqq"]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--data", default="/work/shared/data/tinyshakespeare/input.txt")
    ap.add_argument("--node-dir", default="/tmp/nl", help="folder holding node_modules/node-llama-cpp")
    ap.add_argument("--prompt", default="ROMEO:")
    ap.add_argument("--n", type=int, default=100)
    args = ap.parse_args()

    nm = NumpyLlama(args.model)
    vocab = vocab_from_gguf_meta(nm.meta)
    strings = test_strings(args.data)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(strings, f)
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_llamacpp.mjs")
    res = subprocess.run(["node", script, os.path.abspath(args.model), f.name, "--prompt", args.prompt,
                          "--n", str(args.n)], cwd=args.node_dir, capture_output=True, text=True)
    os.unlink(f.name)
    if res.returncode != 0:
        sys.exit(f"node failed:\n{res.stderr}")
    ref = json.loads(res.stdout.strip().splitlines()[-1])
    bad = 0
    for s, want in zip(strings, ref["tokenizations"]):
        got = vocab.encode(s)
        if got != want:
            bad += 1
            print(f"TOKENIZATION MISMATCH for {s[:60]!r}:\n  python   {got[:30]}\n  llama.cpp {want[:30]}")
    print(f"tokenizer: {len(strings) - bad}/{len(strings)} strings tokenized identically to llama.cpp")
    ok = True
    if args.n > 0:
        prompt_ids = vocab.encode(args.prompt)
        ours = greedy(nm.logits, prompt_ids, args.n)
        theirs = ref["greedy_ids"]
        same = ours == theirs
        first = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b), None)
        print(f"greedy {args.n} tokens from {args.prompt!r}: numpy-from-GGUF == llama.cpp: {same}"
              + ("" if same else f" (first difference at position {first})"))
        print("llama.cpp text:\n" + ref["greedy_text"])
        ok = same
    sys.exit(0 if bad == 0 and ok else 1)


if __name__ == "__main__":
    main()
