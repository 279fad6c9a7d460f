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
Usage: make_seeds.py OUT [SHARED]
"""
import json
import math
import os
import random
import struct
import sys

OUT = sys.argv[1]
SHARED = sys.argv[2] if len(sys.argv) > 2 else os.environ.get(
    "LMGEN_SHARED", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared"))
rng = random.Random(1234)


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def shared(*p):
    return os.path.join(SHARED, *p)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def split2(a, b):
    a = a[:65535]
    return struct.pack("<H", len(a)) + a + b


# ---------------------------------------------------------------------------------------------------------------
# GGUF
T_U8, T_I8, T_U16, T_I16, T_U32, T_I32, T_F32, T_BOOL, T_STRING, T_ARRAY, T_U64, T_I64, T_F64 = range(13)
SCALAR = {T_U8: "<B", T_I8: "<b", T_U16: "<H", T_I16: "<h", T_U32: "<I", T_I32: "<i", T_F32: "<f", T_BOOL: "<B",
          T_U64: "<Q", T_I64: "<q", T_F64: "<d"}


def gstr(s):
    b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
    return struct.pack("<Q", len(b)) + b


def gval(t, v, et=None):
    if t == T_STRING:
        return gstr(v)
    if t == T_ARRAY:
        out = struct.pack("<IQ", et, len(v))
        for x in v:
            out += gval(et, x)
        return out
    return struct.pack(SCALAR[t], v)


def gguf_bytes(kv, tensors, align=32):
    """kv: [(key, type, value, elem_type)]; tensors: [(name, ne list, ggml type, raw bytes)]."""
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv))
    for k, t, v, et in kv:
        out += gstr(k) + struct.pack("<I", t) + gval(t, v, et)
    off = 0
    offs = []
    for name, ne, gt, raw in tensors:
        offs.append(off)
        off += len(raw)
        off += (-off) % align
    for (name, ne, gt, raw), o in zip(tensors, offs):
        out += gstr(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", n) for n in ne)
        out += struct.pack("<IQ", gt, o)
    out += b"\0" * ((-len(out)) % align)
    data = b""
    for (name, ne, gt, raw), o in zip(tensors, offs):
        data += b"\0" * (o - len(data)) + raw
    return out + data


def f32(n, scale=0.5):
    return struct.pack("<%df" % n, *[rng.uniform(-scale, scale) for _ in range(n)])


def f16(n, scale=0.5):
    return struct.pack("<%de" % n, *[rng.uniform(-scale, scale) for _ in range(n)])


def byte_level_chars():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    m = dict(zip(bs, cs))
    return [chr(m[b]) for b in range(256)]


def spm_vocab():
    toks = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)]
    words = ["\u2581", "\u2581a", "e", "t", "h", "\u2581t", "\u2581th", "\u2581the", "o", "n", "\u2581o", "\u2581on",
             "c", "\u2581once", "\u2581up", "\u2581upon", "i", "m", "\u2581time", "s", "\u2581w", "\u2581was"]
    toks += words
    scores = [0.0] * 3 + [0.0] * 256 + [-float(i) for i in range(len(words))]
    types = [2, 3, 3] + [6] * 256 + [1] * len(words)
    return toks, scores, types


def bpe_vocab(extra_special):
    chars = byte_level_chars()
    merges = ["\u0120 t", "h e", "\u0120t he", "i n", "\u0120 a", "o n", "e r", "\u0120 w", "\u0120 o", "a t"]
    toks = chars[:]
    for m in merges:
        a, b = m.split(" ")
        if a + b not in toks:
            toks.append(a + b)
    toks += ["<|endoftext|>"] + extra_special
    types = [1] * (len(toks) - 1 - len(extra_special)) + [3] * (1 + len(extra_special))
    return toks, merges, types


def tiny_gguf(arch):
    E, H, HKV, F, L, CTX = 8, 2, 1 if arch != "gpt2" else 2, 16, 1, 16
    D = E // H
    kv = [("general.architecture", T_STRING, arch, None), ("general.name", T_STRING, "tiny-" + arch, None),
          ("general.alignment", T_U32, 32, None)]
    p = arch + "."
    kv += [(p + "embedding_length", T_U32, E, None), (p + "block_count", T_U32, L, None),
           (p + "attention.head_count", T_U32, H, None), (p + "attention.head_count_kv", T_U32, HKV, None),
           (p + "feed_forward_length", T_U32, F, None), (p + "context_length", T_U32, CTX, None)]
    if arch == "gpt2":
        kv += [(p + "attention.layer_norm_epsilon", T_F32, 1e-5, None)]
    else:
        kv += [(p + "attention.layer_norm_rms_epsilon", T_F32, 1e-5, None), (p + "rope.freq_base", T_F32, 10000.0, None)]
    if arch == "llama":
        toks, scores, types = spm_vocab()
        kv += [("tokenizer.ggml.model", T_STRING, "llama", None),
               ("tokenizer.ggml.tokens", T_ARRAY, toks, T_STRING), ("tokenizer.ggml.scores", T_ARRAY, scores, T_F32),
               ("tokenizer.ggml.token_type", T_ARRAY, types, T_I32),
               ("tokenizer.ggml.bos_token_id", T_U32, 1, None), ("tokenizer.ggml.eos_token_id", T_U32, 2, None),
               ("tokenizer.ggml.add_bos_token", T_BOOL, 1, None)]
    else:
        extra = ["<|im_start|>", "<|im_end|>"] if arch == "qwen2" else []
        toks, merges, types = bpe_vocab(extra)
        eos = toks.index("<|endoftext|>")
        kv += [("tokenizer.ggml.model", T_STRING, "gpt2", None),
               ("tokenizer.ggml.pre", T_STRING, "qwen2" if arch == "qwen2" else "gpt-2", None),
               ("tokenizer.ggml.tokens", T_ARRAY, toks, T_STRING), ("tokenizer.ggml.merges", T_ARRAY, merges, T_STRING),
               ("tokenizer.ggml.token_type", T_ARRAY, types, T_I32),
               ("tokenizer.ggml.bos_token_id", T_U32, eos, None), ("tokenizer.ggml.eos_token_id", T_U32, eos, None)]
    V = len(toks)
    q, kvd = H * D, HKV * D
    ts = [("token_embd.weight", [E, V], 1, f16(E * V)), ("output_norm.weight", [E], 0, f32(E))]
    if arch == "gpt2":
        ts += [("position_embd.weight", [E, CTX], 0, f32(E * CTX)), ("output_norm.bias", [E], 0, f32(E))]
    else:
        ts += [("output.weight", [E, V], 0, f32(E * V))]
    for i in range(L):
        b = "blk.%d." % i
        ts += [(b + "attn_norm.weight", [E], 0, f32(E)), (b + "ffn_norm.weight", [E], 0, f32(E))]
        if arch == "gpt2":
            ts += [(b + "attn_norm.bias", [E], 0, f32(E)), (b + "ffn_norm.bias", [E], 0, f32(E)),
                   (b + "attn_qkv.weight", [E, q + 2 * kvd], 1, f16(E * (q + 2 * kvd))),
                   (b + "attn_qkv.bias", [q + 2 * kvd], 0, f32(q + 2 * kvd)),
                   (b + "attn_output.weight", [q, E], 0, f32(q * E)), (b + "attn_output.bias", [E], 0, f32(E)),
                   (b + "ffn_up.weight", [E, F], 0, f32(E * F)), (b + "ffn_up.bias", [F], 0, f32(F)),
                   (b + "ffn_down.weight", [F, E], 0, f32(F * E)), (b + "ffn_down.bias", [E], 0, f32(E))]
        else:
            ts += [(b + "attn_q.weight", [E, q], 0, f32(E * q)), (b + "attn_k.weight", [E, kvd], 0, f32(E * kvd)),
                   (b + "attn_v.weight", [E, kvd], 0, f32(E * kvd)), (b + "attn_output.weight", [q, E], 0, f32(q * E)),
                   (b + "ffn_gate.weight", [E, F], 0, f32(E * F)), (b + "ffn_up.weight", [E, F], 1, f16(E * F)),
                   (b + "ffn_down.weight", [F, E], 0, f32(F * E))]
            if arch == "qwen2":
                ts += [(b + "attn_q.bias", [q], 0, f32(q)), (b + "attn_k.bias", [kvd], 0, f32(kvd)),
                       (b + "attn_v.bias", [kvd], 0, f32(kvd))]
    return gguf_bytes(kv, ts)


def read_gguf_meta(path, keep=300):
    """The metadata of a real GGUF file, arrays cut to `keep` entries (token ids beyond that are dropped)."""
    b = read(path)
    pos = 0

    def rd(fmt):
        nonlocal pos
        v = struct.unpack_from(fmt, b, pos)
        pos += struct.calcsize(fmt)
        return v[0]

    def rstr():
        nonlocal pos
        n = rd("<Q")
        s = b[pos:pos + n]
        pos += n
        return s

    def rval(t):
        if t == T_STRING:
            return rstr()
        return rd(SCALAR[t])

    assert b[:4] == b"GGUF"
    pos = 4
    rd("<I")
    rd("<Q")
    n_kv = rd("<Q")
    kv = []
    for _ in range(n_kv):
        k = rstr().decode("utf-8", "replace")
        t = rd("<I")
        if t == T_ARRAY:
            et = rd("<I")
            n = rd("<Q")
            vals = [rval(et) for _ in range(n)][:keep]
            kv.append((k, t, vals, et))
        else:
            v = rval(t)
            if k.endswith("_token_id") and isinstance(v, int) and v >= keep:
                continue
            kv.append((k, t, v, None))
    return kv


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
def safetensors_bytes(tensors, metadata=None):
    """tensors: [(name, dtype, shape, raw)]"""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    off = 0
    for name, dt, shape, raw in tensors:
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(raw)]}
        off += len(raw)
    h = json.dumps(header).encode()
    h += b" " * ((-len(h)) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(t[3] for t in tensors)


def bf16(n, scale=0.5):
    return b"".join(struct.pack("<f", rng.uniform(-scale, scale))[2:] for _ in range(n))


def tiny_hf(arch):
    E, H, HKV, F, L, V, CTX = 8, 2, 1, 16, 1, 32, 16
    D = E // H
    if arch == "gpt2":
        cfg = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_embd": E, "n_head": H, "n_layer": L,
               "n_positions": CTX, "n_ctx": CTX, "vocab_size": V, "layer_norm_epsilon": 1e-5,
               "activation_function": "gelu_new", "n_inner": F, "tie_word_embeddings": True}
        ts = [("transformer.wte.weight", "F32", [V, E], f32(V * E)), ("transformer.wpe.weight", "F32", [CTX, E], f32(CTX * E)),
              ("transformer.ln_f.weight", "F32", [E], f32(E)), ("transformer.ln_f.bias", "F32", [E], f32(E))]
        for i in range(L):
            b = "transformer.h.%d." % i
            ts += [(b + "ln_1.weight", "F32", [E], f32(E)), (b + "ln_1.bias", "F32", [E], f32(E)),
                   (b + "ln_2.weight", "F32", [E], f32(E)), (b + "ln_2.bias", "F32", [E], f32(E)),
                   (b + "attn.c_attn.weight", "F16", [E, 3 * E], f16(3 * E * E)),
                   (b + "attn.c_attn.bias", "F32", [3 * E], f32(3 * E)),
                   (b + "attn.c_proj.weight", "F32", [E, E], f32(E * E)), (b + "attn.c_proj.bias", "F32", [E], f32(E)),
                   (b + "mlp.c_fc.weight", "BF16", [E, F], bf16(E * F)), (b + "mlp.c_fc.bias", "F32", [F], f32(F)),
                   (b + "mlp.c_proj.weight", "F32", [F, E], f32(F * E)), (b + "mlp.c_proj.bias", "F32", [E], f32(E))]
        return cfg, ts
    cfg = {"architectures": ["Qwen2ForCausalLM" if arch == "qwen2" else "LlamaForCausalLM"], "model_type": arch,
           "hidden_size": E, "intermediate_size": F, "num_attention_heads": H, "num_key_value_heads": HKV,
           "num_hidden_layers": L, "vocab_size": V, "max_position_embeddings": CTX, "rms_norm_eps": 1e-6,
           "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": arch == "qwen2"}
    ts = [("model.embed_tokens.weight", "BF16", [V, E], bf16(V * E)), ("model.norm.weight", "F32", [E], f32(E))]
    if arch != "qwen2":
        ts += [("lm_head.weight", "F16", [V, E], f16(V * E))]
    for i in range(L):
        b = "model.layers.%d." % i
        ts += [(b + "input_layernorm.weight", "F32", [E], f32(E)), (b + "post_attention_layernorm.weight", "F32", [E], f32(E)),
               (b + "self_attn.q_proj.weight", "F32", [H * D, E], f32(H * D * E)),
               (b + "self_attn.k_proj.weight", "F32", [HKV * D, E], f32(HKV * D * E)),
               (b + "self_attn.v_proj.weight", "F32", [HKV * D, E], f32(HKV * D * E)),
               (b + "self_attn.o_proj.weight", "F32", [E, H * D], f32(E * H * D)),
               (b + "mlp.gate_proj.weight", "F32", [F, E], f32(F * E)), (b + "mlp.up_proj.weight", "F16", [F, E], f16(F * E)),
               (b + "mlp.down_proj.weight", "F32", [E, F], f32(E * F))]
        if arch == "qwen2":
            ts += [(b + "self_attn.q_proj.bias", "F32", [H * D], f32(H * D)),
                   (b + "self_attn.k_proj.bias", "F32", [HKV * D], f32(HKV * D)),
                   (b + "self_attn.v_proj.bias", "F32", [HKV * D], f32(HKV * D))]
    return cfg, ts


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
def shrink_tokenizer_json(tj, keep=400):
    model = tj.get("model", {})
    vocab = model.get("vocab")
    if not isinstance(vocab, dict):
        return tj
    added = tj.get("added_tokens", []) or []
    new_vocab = {t: i for t, i in vocab.items() if i < keep}
    remap = {}
    nxt = keep
    for a in added:
        old = a.get("id")
        if old is None:
            continue
        if old >= keep:
            remap[old] = nxt
            a["id"] = nxt
            nxt += 1
        if a.get("content") in vocab:
            new_vocab[a["content"]] = a["id"]
    model["vocab"] = new_vocab
    merges = model.get("merges", []) or []
    kept = []
    for m in merges:
        parts = m.split(" ", 1) if isinstance(m, str) else m
        if len(parts) == 2 and parts[0] in new_vocab and parts[1] in new_vocab and (parts[0] + parts[1]) in new_vocab:
            kept.append(m)
        if len(kept) >= 300:
            break
    model["merges"] = kept
    pp = tj.get("post_processor")

    def fix(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("ids", "id") and isinstance(v, list):
                    node[k] = [remap.get(x, x) if isinstance(x, int) else x for x in v]
                elif k == "id" and isinstance(v, int):
                    node[k] = remap.get(v, v)
                else:
                    fix(v)
        elif isinstance(node, list):
            for x in node:
                fix(x)
    fix(pp)
    return tj


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
def llama2c_checkpoint(shared_cls=True, dim=8, hidden=16, layers=1, heads=2, kv_heads=1, vocab=16, seq=4):
    hs = dim // heads
    kv = hs * kv_heads
    n = vocab * dim + layers * dim + layers * dim * dim + 2 * layers * kv * dim + layers * dim * dim + layers * dim
    n += 3 * layers * hidden * dim + dim + seq * hs
    if not shared_cls:
        n += vocab * dim
    hdr = struct.pack("<7i", dim, hidden, layers, heads, kv_heads, vocab if shared_cls else -vocab, seq)
    return hdr + f32(n)


def llama2c_tokenizer(vocab=16):
    out = struct.pack("<I", 8)
    pieces = ["<unk>", "\n<s>\n", "\n</s>\n", "<0x0A>", " ", "a", "e", "t", "h", "th", " the", " a", "once", "<0xFF>", "", " on"]
    for i in range(vocab):
        p = pieces[i % len(pieces)].encode()
        out += struct.pack("<fi", -float(i), len(p)) + p
    return out


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
