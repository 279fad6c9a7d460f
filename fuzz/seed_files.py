"""Byte-level builders for fuzz/make_seeds.py: GGUF and safetensors encoders, tiny complete models of each format
(GGUF, HF safetensors + config.json, llama2.c), vocabularies, and cut-down copies of real files' metadata.
Random tensor data comes from `rng` (seeded once): make_seeds.py draws from the same generator, so the seeds are the
same bytes on every run.
"""
import json
import random
import struct

rng = random.Random(1234)

T_U8, T_I8, T_U16, T_I16, T_U32, T_I32, T_F32, T_BOOL, T_STRING, T_ARRAY, T_U64, T_I64, T_F64 = range(13)
SCALAR = {T_U8: "<B", T_I8: "<b", T_U16: "<H", T_I16: "<h", T_U32: "<I", T_I32: "<i", T_F32: "<f", T_BOOL: "<B",
          T_U64: "<Q", T_I64: "<q", T_F64: "<d"}


def read(path):
    with open(path, "rb") as f:
        return f.read()


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
