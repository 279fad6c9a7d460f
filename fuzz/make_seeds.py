#!/usr/bin/env python3
"""Writes seed corpora for the lmgen fuzz targets (fuzz/fuzz_*.cpp) into OUT/<target>/.

Seeds are made at run time from the shared test material (../shared or $LMGEN_SHARED) plus small hand-made files:
  * tiny but complete GGUF models (llama + SentencePiece vocab, gpt2 and qwen2 + byte-level BPE vocab);
  * the metadata of the real GGUF files with every array cut to 300 entries and no tensors;
  * tiny safetensors checkpoints + config.json (llama, qwen2, gpt2), the real config.json files, and the headers of
    the real safetensors files;
  * the real tokenizer.json files cut down to ~400 tokens (+ their tokenizer_config.json);
  * tiny llama2.c checkpoints, a tiny tokenizer.bin and tok512.bin;
  * text for every tokenizer of fuzz_tokenize from the reference tokenizer corpus.
Nothing here is committed: the corpora live in /tmp (see tools/fuzz.sh).
Usage: make_seeds.py OUT [SHARED] [KIND ...]   (the file formats themselves are built by seed_files.py)
"""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seed_files import (T_STRING, byte_level_chars, f32, gguf_bytes, llama2c_checkpoint,  # noqa: E402
                        llama2c_tokenizer, read, read_gguf_meta, rng, safetensors_bytes, shrink_tokenizer_json,
                        tiny_gguf, tiny_hf)

OUT = sys.argv[1]
SHARED = sys.argv[2] if len(sys.argv) > 2 else os.environ.get(
    "LMGEN_SHARED", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared"))


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def shared(*p):
    return os.path.join(SHARED, *p)


def split2(a, b):
    a = a[:65535]
    return struct.pack("<H", len(a)) + a + b


# ---------------------------------------------------------------------------------------------------------------
# GGUF


def block_type_tensors():
    """One small tensor of each quantized block type (random quants; the fp16 scale field at the offset given)."""
    # ggml id: (elements per block, bytes per block, offset of the fp16 scale)
    types = {2: (32, 18, 0), 8: (32, 34, 0), 10: (256, 84, 80), 11: (256, 110, 108), 12: (256, 144, 0),
             14: (256, 210, 208), 20: (32, 18, 0), 21: (256, 110, 0), 23: (256, 136, 0)}
    ts = []
    for gt, (bs, size, d_off) in sorted(types.items()):
        raw = b""
        for _ in range(2):  # two rows of one block each
            blk = bytearray(rng.getrandbits(8) for _ in range(size))
            blk[d_off:d_off + 2] = struct.pack("<e", rng.uniform(-0.05, 0.05))
            raw += bytes(blk)
        ts.append(("blocks_%d.weight" % gt, [bs, 2], gt, raw))
    return ts


def gguf_seeds():
    for arch in ("llama", "gpt2", "qwen2"):
        put("gguf", "tiny-%s.gguf" % arch, tiny_gguf(arch))
    # The reader on every block type lmgen runs (Q2_K .. Q6_K, IQ4_NL, IQ4_XS, IQ3_S among them).
    put("gguf", "block-types.gguf", gguf_bytes([("general.architecture", T_STRING, "llama", None)],
                                               block_type_tensors()))
    reals = [shared("models", "stories260K", "stories260K.gguf")]
    reals += [shared("vocab", f) for f in sorted(os.listdir(shared("vocab"))) if f.endswith(".gguf")]
    for root, _, files in os.walk(shared("fixtures")):
        reals += [os.path.join(root, f) for f in files if f.endswith(".gguf")]
    for p in reals:
        kv = read_gguf_meta(p)
        name = os.path.basename(os.path.dirname(p)) + "-" + os.path.basename(p)
        put("gguf", "meta-" + name, gguf_bytes(kv, []))


# ---------------------------------------------------------------------------------------------------------------
# safetensors / config.json


def hf_seeds():
    for arch in ("llama", "qwen2", "gpt2"):
        cfg, ts = tiny_hf(arch)
        st = safetensors_bytes(sorted(ts), {"format": "pt"})
        put("hf", "st-tiny-%s" % arch, b"\x00" + st)
        put("hf", "cfg-tiny-%s" % arch, b"\x01" + json.dumps(cfg, indent=1).encode())
        put("hf", "dir-tiny-%s" % arch, b"\x02" + split2(json.dumps(cfg).encode(), st))
    put("hf", "st-odd-dtypes", b"\x00" + safetensors_bytes(
        [("a", "I64", [2], struct.pack("<2q", 1, 2)), ("b", "BOOL", [3], b"\x01\x00\x01"), ("c", "F8_E4M3", [1, 2], b"\x00\x01"),
         ("d", "F32", [], f32(1)), ("e", "F16", [0, 4], b"")]))
    for root, _, files in os.walk(SHARED):
        for f in files:
            p = os.path.join(root, f)
            rel = os.path.relpath(p, SHARED).replace("/", "_")
            if f == "config.json":
                put("hf", "cfg-" + rel, b"\x01" + read(p))
            elif f.endswith(".safetensors"):
                with open(p, "rb") as fh:
                    n = struct.unpack("<Q", fh.read(8))[0]
                    head = fh.read(min(n, 1 << 16) + 256)
                put("hf", "st-head-" + rel, b"\x00" + struct.pack("<Q", n) + head)


# ---------------------------------------------------------------------------------------------------------------
# tokenizer.json


def tokenizer_json_seeds():
    srcs = []
    for root, _, files in os.walk(SHARED):
        if "tokenizer.json" in files:
            srcs.append(root)
    for d in sorted(srcs):
        tj = shrink_tokenizer_json(json.loads(read(os.path.join(d, "tokenizer.json"))))
        cfg_path = os.path.join(d, "tokenizer_config.json")
        cfg = read(cfg_path) if os.path.exists(cfg_path) else b""
        name = os.path.relpath(d, SHARED).replace("/", "_")
        body = json.dumps(tj, ensure_ascii=False).encode()
        put("tokenizer_json", name, split2(cfg, body))
        put("tokenizer_json", name + "-nocfg", split2(b"", body))
    # a minimal hand-made byte-level BPE and an SPM-style (byte fallback) one
    chars = byte_level_chars()
    vocab = {c: i for i, c in enumerate(chars)}
    vocab["\u0120t"] = 256
    vocab["he"] = 257
    mini = {"version": "1.0", "added_tokens": [{"id": 258, "content": "<|endoftext|>", "special": True, "single_word": False,
                                                "lstrip": False, "rstrip": False, "normalized": False}],
            "normalizer": None, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
            "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "", "end_of_word_suffix": "",
                      "fuse_unk": False, "byte_fallback": False, "ignore_merges": False, "vocab": vocab, "merges": ["\u0120 t", "h e"]}}
    put("tokenizer_json", "mini-bytelevel", split2(b"", json.dumps(mini).encode()))
    v2 = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        v2["<0x%02X>" % b] = 3 + b
    for w in ["\u2581", "\u2581t", "h", "e", "\u2581th", "he", "\u2581the"]:
        v2[w] = len(v2)
    spm = {"version": "1.0", "added_tokens": [{"id": i, "content": t, "special": True, "single_word": False, "lstrip": False,
                                               "rstrip": False, "normalized": False} for t, i in [("<unk>", 0), ("<s>", 1), ("</s>", 2)]],
           "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"},
                                                              {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
           "pre_tokenizer": None,
           "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                                                       {"Sequence": {"id": "A", "type_id": 0}}],
                              "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                              "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
           "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
                                                        {"type": "ByteFallback"}, {"type": "Fuse"},
                                                        {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
           "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                     "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
                     "vocab": v2, "merges": ["\u2581 t", "h e", "\u2581t he", "\u2581th e"]}}
    put("tokenizer_json", "mini-spm", split2(b'{"add_bos_token": true, "add_eos_token": false}', json.dumps(spm).encode()))
    # the Gemma 1/2 form: Replace(" " -> "\u2581") only (no Prepend), no pre-tokenizer, byte fallback
    gemma2 = json.loads(json.dumps(spm))
    gemma2["normalizer"] = {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}
    for w in ["t", "a", "\u2581a"]:  # ("t": mini-spm's merges name it)
        gemma2["model"]["vocab"][w] = len(gemma2["model"]["vocab"])
    gemma2["decoder"] = {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
                                                          {"type": "ByteFallback"}, {"type": "Fuse"}]}
    put("tokenizer_json", "mini-gemma2", split2(b'{"add_bos_token": true, "add_eos_token": false}', json.dumps(gemma2).encode()))


# ---------------------------------------------------------------------------------------------------------------
# llama2.c


def llama2c_seeds():
    put("llama2c", "ckpt-shared", b"\x00" + llama2c_checkpoint(True))
    put("llama2c", "ckpt-separate", b"\x00" + llama2c_checkpoint(False))
    put("llama2c", "ckpt-mha", b"\x00" + llama2c_checkpoint(True, dim=8, heads=2, kv_heads=2, vocab=8, seq=2))
    real = read(shared("models", "stories260K", "stories260K.bin"))
    put("llama2c", "ckpt-real-head", b"\x00" + real[:4096])
    put("llama2c", "tok-tiny", b"\x01" + struct.pack("<H", 16) + llama2c_tokenizer(16))
    put("llama2c", "tok512", b"\x01" + struct.pack("<H", 512) + read(shared("models", "stories260K", "tok512.bin")))


# ---------------------------------------------------------------------------------------------------------------
# tokenize (text for the tokenizers loaded by fuzz_tokenize; byte 0 picks one of N_TOKENIZERS)
N_TOKENIZERS = 17


def tokenize_seeds():
    texts = json.loads(read(shared("reference", "tokenizer", "corpus.json")))
    texts = [t for t in texts if isinstance(t, str)]
    rng.shuffle(texts)
    for i in range(N_TOKENIZERS):
        for j, t in enumerate(texts[:12]):
            put("tokenize", "t%02d-%02d" % (i, j), bytes([i]) + t.encode("utf-8")[:2000])
        put("tokenize", "t%02d-special" % i,
            bytes([i]) + "<s> a</s><|endoftext|><|im_start|>user\nhi<|im_end|> <unk><0x0A>".encode())
        put("tokenize", "t%02d-bytes" % i, bytes([i]) + bytes(range(256)))
        for j, t in enumerate(["a b", "Hi there", "El ni\u00f1o", "I am", "a  b   c", " a "]):
            put("tokenize", "t%02d-short-%d" % (i, j), bytes([i]) + t.encode("utf-8"))


def grammar_seeds():
    """GBNF grammars with a text to check (mode 0), and JSON schemas (mode 1)."""
    grammars = [
        ('root ::= "a" [b-d]+ "\\n"? item*\nitem ::= ( [^x] | "\\u00e9" ){1,3}\n', "abbc\n\u00e9z"),
        ('root ::= obj\nobj ::= "{" ws ( str ":" ws obj )? "}"\nstr ::= "\\"" [a-z]* "\\""\nws ::= [ \\t]*\n', '{"a": {}}'),
        ('root ::= . "x"{2,} # comment\n', "yxxx"),
    ]
    for i, (g, t) in enumerate(grammars):
        put("grammar", "gbnf%d" % i, bytes([0]) + g.encode() + b"\0" + t.encode())
    schemas = [
        ('{"type": "object", "properties": {"a": {"type": "integer", "minimum": -3, "maximum": 40}, "b": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$"}, "maxItems": 2}}, "required": ["a"]}', '{"a": 12, "b": ["x"]}'),
        ('{"$defs": {"n": {"anyOf": [{"type": "null"}, {"type": "array", "items": {"$ref": "#/$defs/n"}}]}}, "$ref": "#/$defs/n"}', '[[null], []]'),
        ('{"type": "string", "format": "date-time"}', '"2024-01-02T03:04:05Z"'),
    ]
    for i, (s, t) in enumerate(schemas):
        put("grammar", "schema%d" % i, bytes([1]) + s.encode() + b"\0" + t.encode())


def chat_template_seeds():
    """Mode byte + template: every shared chat template and every template of the reference renders."""
    sources = set()
    tdir = shared("chat", "templates")
    for name in sorted(os.listdir(tdir)):
        sources.add(read(os.path.join(tdir, name)))
    for line in read(shared("chat", "hf-renders.jsonl")).decode("utf-8").splitlines():
        sources.add(json.loads(line)["template"].encode("utf-8"))
    for i, src in enumerate(sorted(sources)):
        for mode in (0, 1, 3):
            put("chat_template", "t%02d-m%d" % (i, mode), bytes([mode | 4]) + src)
    small = ["{{ messages[0].content|trim }}", "{% for m in messages %}{{ loop.index }}{{ m|tojson }}{% endfor %}",
             "{% set ns = namespace(a=[]) %}{% macro f(x, y=2) %}{{ x ~ y }}{% endmacro %}{{ f(1) }}{{ ns.a }}",
             "{{ 'a b'.split() | map('upper') | join(',') }}{{ range(3)|list }}{{ {'k': 1.5}|tojson(indent=2) }}"]
    for i, t in enumerate(small):
        put("chat_template", "small%d" % i, bytes([i]) + t.encode())


def reply_seeds():
    """Mode byte + piece-size byte + a reply: each family's calls, thinking, broken calls, plain text."""
    call = '{"name": "get_weather", "arguments": {"city": "Paris"}}'
    replies = [
        "<think>\nLet me think.\n</think>\n\nHello!",
        "Checking.\n<tool_call>\n" + call + "\n</tool_call>\n<tool_call>" + call + "</tool_call>",
        '{"name": "get_weather", "parameters": {"city": "Paris"}}; {"name": "f", "parameters": {}}',
        "Sure <|python_tag|>{\"name\": \"f\", \"parameters\": {\"a\": [1, 2.5, null]}}",
        "[TOOL_CALLS][" + call + ", " + call + "]",
        "<|tool_call|>[" + call + "]<|/tool_call|> done",
        '{"tool_calls": [' + call + ']}',
        "<tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\": }}</tool_call> and text",
        "plain reply \u00e9\u4e2d with <think> late and <tool_ partial",
    ]
    for i, r in enumerate(replies):
        for mode in range(5):
            put("reply", "r%02d-m%d" % (i, mode), bytes([mode | 8, 1 + i]) + r.encode("utf-8"))
        put("reply", "r%02d-open" % i, bytes([1 | 8 | 16, 3]) + r.encode("utf-8"))


def call_grammar_seeds():
    """Mode byte + a request's tools + NUL + a reply: each family, parallel or not, with refs and enums."""
    tools = json.dumps([
        {"type": "function", "function": {"name": "get_weather", "parameters": {
            "type": "object", "properties": {"city": {"type": "string", "maxLength": 8},
                                             "days": {"type": "integer", "minimum": 1, "maximum": 7},
                                             "where": {"$ref": "#/$defs/p"}},
            "required": ["city"], "$defs": {"p": {"enum": ["n", "s"]}}}}},
        {"type": "function", "function": {"name": "f"}}])
    replies = ['<tool_call>\n{"name": "f", "arguments": {}}\n</tool_call>',
               '{"name": "get_weather", "parameters": {"city": "Oslo", "where": "n"}}',
               '[TOOL_CALLS][{"name": "f", "arguments": {}}]',
               '<think>\nhm\n</think>\n<tool_call>\n{"name": "f", "arguments": {}}\n</tool_call>']
    for mode in range(5):
        for i, r in enumerate(replies):
            put("call_grammar", "c%d-%d" % (mode, i), bytes([mode | 8]) + tools.encode() + b"\0" + r.encode())


if __name__ == "__main__":
    which = sys.argv[3:] or ["gguf", "hf", "tokenizer_json", "llama2c", "tokenize", "chat_template", "grammar",
                             "reply", "call_grammar"]
    for w in which:
        globals()[w + "_seeds"]()
    print("seeds written to", OUT)
