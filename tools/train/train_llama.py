#!/usr/bin/python3
"""Trains a small llama-architecture LM (RMSNorm, interleaved-pair RoPE, SwiGLU, GQA, tied head) on a text file
with its own SentencePiece-style BPE vocabulary, and writes it as a GGUF v3 file that llama.cpp and lmgen load.

Steps: learn the vocab on the first 90% of the text -> tokenize (exactly like llama.cpp's "llama" tokenizer) ->
train (CPU, fixed seeds) -> export GGUF (2-D weights F16, norms F32) -> verify: re-read the GGUF, run an
independent numpy forward pass from it and compare with the torch model's logits, then greedy-decode a prompt.

Every training sample is what llama.cpp would feed for a prompt starting at a line start of the text:
[BOS] + tokens of text[line_start:] (with the space prefix), cut to ctx+1 tokens. Validation uses the last 10%
cut into consecutive line-aligned segments of at most ctx+1 tokens, so each held-out token is scored once.

See README.md in this folder for the command that produced models/shakespeare-*.gguf.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_writer import GGML_F16, GGML_F32, GGUFWriter, T_F32, T_I32, T_STRING, read_gguf  # noqa: E402
from spm_tokenizer import BOS_ID, EOS_ID, UNK_ID, SpmVocab, escape, split_chunks  # noqa: E402


# ---------------------------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------------------------
class TokenStream:
    """The text tokenized as one stream plus, for each line start, the tokens of the prefix a prompt starting
    there would get (the line's first chunk with the space prefix)."""

    def __init__(self, vocab, text):
        chunks = split_chunks(escape(text))
        toks = vocab.encode_chunks(chunks)
        self.chunk_start = np.zeros(len(chunks) + 1, dtype=np.int64)
        np.cumsum([len(t) for t in toks], out=self.chunk_start[1:])
        self.chunk_chars = np.zeros(len(chunks) + 1, dtype=np.int64)
        # characters of the original text covered by each chunk (the leading space prefix is not text)
        lens = [len(c) for c in chunks]
        lens[0] -= 1
        np.cumsum(lens, out=self.chunk_chars[1:])
        self.tokens = np.fromiter((t for ts in toks for t in ts), dtype=np.int64, count=int(self.chunk_start[-1]))
        # line starts: chunk 0 and every chunk following "\n" that is not itself "\n"
        self.line_starts = [0] + [i for i in range(1, len(chunks)) if chunks[i - 1] == "\n" and chunks[i] != "\n"]
        self.prefix = {0: np.array([BOS_ID] + toks[0], dtype=np.int64)}  # chunk 0 already has the prefix
        for i in self.line_starts[1:]:
            ids = [t for c in split_chunks(escape(chunks[i])) for t in vocab.encode_chunk(c)]
            self.prefix[i] = np.array([BOS_ID] + ids, dtype=np.int64)
        self.n_chunks = len(chunks)

    def sample(self, line_chunk, length):
        """[BOS] + prompt-style tokens from line start `line_chunk`, at most `length` tokens."""
        pre = self.prefix[line_chunk]
        rest = self.tokens[self.chunk_start[line_chunk + 1]: self.chunk_start[line_chunk + 1] + length - len(pre)]
        return np.concatenate([pre, rest])[:length]

    def segments(self, length):
        """Consecutive line-aligned segments covering the stream, each at most `length` tokens.
        Returns a list of (token array, n_chars covered)."""
        out = []
        ls = self.line_starts + [self.n_chunks]
        k = 0
        while k < len(ls) - 1:
            s = ls[k]
            base = len(self.prefix[s]) - self.chunk_start[s + 1]
            # furthest line start e with segment length <= length
            j = k + 1
            while j + 1 < len(ls) and base + self.chunk_start[ls[j + 1]] <= length:
                j += 1
            e = ls[j]
            seg = np.concatenate([self.prefix[s], self.tokens[self.chunk_start[s + 1]: self.chunk_start[e]]])
            out.append((seg[:length], int(self.chunk_chars[e] - self.chunk_chars[s])))
            k = j
        return out


# ---------------------------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------------------------
class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(head_dim, n_pos, base):
    inv = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
    ang = torch.arange(n_pos, dtype=torch.float64)[:, None] * inv[None, :]
    return torch.cos(ang).float(), torch.sin(ang).float()


def apply_rope(x, cos, sin):
    """llama.cpp "NORM" rope: rotates adjacent pairs (x[2i], x[2i+1]). x: [B, H, T, D]."""
    x0, x1 = x[..., 0::2], x[..., 1::2]
    y0 = x0 * cos - x1 * sin
    y1 = x0 * sin + x1 * cos
    return torch.stack([y0, y1], dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, h, kv, hd = cfg["dim"], cfg["n_head"], cfg["n_head_kv"], cfg["dim"] // cfg["n_head"]
        self.h, self.kv, self.hd = h, kv, hd
        self.attn_norm = RMSNorm(d, cfg["eps"])
        self.wq = nn.Linear(d, h * hd, bias=False)
        self.wk = nn.Linear(d, kv * hd, bias=False)
        self.wv = nn.Linear(d, kv * hd, bias=False)
        self.wo = nn.Linear(h * hd, d, bias=False)
        self.ffn_norm = RMSNorm(d, cfg["eps"])
        self.w_gate = nn.Linear(d, cfg["ffn"], bias=False)
        self.w_up = nn.Linear(d, cfg["ffn"], bias=False)
        self.w_down = nn.Linear(cfg["ffn"], d, bias=False)
        self.drop = nn.Dropout(cfg["dropout"])

    def forward(self, x, cos, sin, mask):
        B, T, _ = x.shape
        a = self.attn_norm(x)
        q = self.wq(a).view(B, T, self.h, self.hd).transpose(1, 2)
        k = self.wk(a).view(B, T, self.kv, self.hd).transpose(1, 2)
        v = self.wv(a).view(B, T, self.kv, self.hd).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        g = self.h // self.kv  # query head i uses kv head i // g (as in llama.cpp)
        k = k.repeat_interleave(g, dim=1)
        v = v.repeat_interleave(g, dim=1)
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(self.hd)) + mask
        att = self.drop(torch.softmax(att, dim=-1))
        o = (att @ v).transpose(1, 2).reshape(B, T, self.h * self.hd)
        x = x + self.drop(self.wo(o))
        f = self.ffn_norm(x)
        return x + self.drop(self.w_down(F.silu(self.w_gate(f)) * self.w_up(f)))


class Llama(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.tok_emb = nn.Embedding(cfg["vocab"], cfg["dim"])
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg["n_layer"])])
        self.norm = RMSNorm(cfg["dim"], cfg["eps"])
        cos, sin = rope_tables(cfg["dim"] // cfg["n_head"], cfg["ctx"], cfg["rope_base"])
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.drop = nn.Dropout(cfg["dropout"])
        for name, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02
                if name.endswith("wo.weight") or name.endswith("w_down.weight"):
                    std = 0.02 / math.sqrt(2 * cfg["n_layer"])
                nn.init.normal_(p, mean=0.0, std=std)

    def forward(self, idx):
        T = idx.shape[1]
        x = self.drop(self.tok_emb(idx))
        mask = torch.full((T, T), float("-inf")).triu(1)
        cos, sin = self.cos[:T], self.sin[:T]
        for b in self.blocks:
            x = b(x, cos, sin, mask)
        return self.norm(x) @ self.tok_emb.weight.t()  # tied classifier


# ---------------------------------------------------------------------------------------------------------------
# GGUF export and an independent numpy forward from the GGUF file
# ---------------------------------------------------------------------------------------------------------------
def export_gguf(model, vocab, path, name, wtype=GGML_F16):
    cfg = model.cfg
    w = GGUFWriter(path)
    w.add_string("general.architecture", "llama")
    w.add_string("general.name", name)
    w.add_u32("general.alignment", 32)
    w.add_u32("general.file_type", 1 if wtype == GGML_F16 else 0)
    w.add_u32("llama.context_length", cfg["ctx"])
    w.add_u32("llama.embedding_length", cfg["dim"])
    w.add_u32("llama.block_count", cfg["n_layer"])
    w.add_u32("llama.feed_forward_length", cfg["ffn"])
    w.add_u32("llama.attention.head_count", cfg["n_head"])
    w.add_u32("llama.attention.head_count_kv", cfg["n_head_kv"])
    w.add_u32("llama.rope.dimension_count", cfg["dim"] // cfg["n_head"])
    w.add_f32("llama.rope.freq_base", cfg["rope_base"])
    w.add_f32("llama.attention.layer_norm_rms_epsilon", cfg["eps"])
    w.add_u32("llama.vocab_size", len(vocab))
    w.add_string("tokenizer.ggml.model", "llama")
    w.add_array("tokenizer.ggml.tokens", T_STRING, vocab.pieces)
    w.add_array("tokenizer.ggml.scores", T_F32, vocab.scores)
    w.add_array("tokenizer.ggml.token_type", T_I32, vocab.types)
    w.add_u32("tokenizer.ggml.bos_token_id", BOS_ID)
    w.add_u32("tokenizer.ggml.eos_token_id", EOS_ID)
    w.add_u32("tokenizer.ggml.unknown_token_id", UNK_ID)
    w.add_bool("tokenizer.ggml.add_bos_token", True)
    w.add_bool("tokenizer.ggml.add_eos_token", False)
    w.add_bool("tokenizer.ggml.add_space_prefix", True)
    sd = {k: v.detach().cpu().float().numpy() for k, v in model.state_dict().items()}
    w.add_tensor("token_embd.weight", sd["tok_emb.weight"], wtype)
    for i in range(cfg["n_layer"]):
        p = f"blocks.{i}."
        o = f"blk.{i}."
        w.add_tensor(o + "attn_norm.weight", sd[p + "attn_norm.weight"], GGML_F32)
        w.add_tensor(o + "attn_q.weight", sd[p + "wq.weight"], wtype)
        w.add_tensor(o + "attn_k.weight", sd[p + "wk.weight"], wtype)
        w.add_tensor(o + "attn_v.weight", sd[p + "wv.weight"], wtype)
        w.add_tensor(o + "attn_output.weight", sd[p + "wo.weight"], wtype)
        w.add_tensor(o + "ffn_norm.weight", sd[p + "ffn_norm.weight"], GGML_F32)
        w.add_tensor(o + "ffn_gate.weight", sd[p + "w_gate.weight"], wtype)
        w.add_tensor(o + "ffn_up.weight", sd[p + "w_up.weight"], wtype)
        w.add_tensor(o + "ffn_down.weight", sd[p + "w_down.weight"], wtype)
    w.add_tensor("output_norm.weight", sd["norm.weight"], GGML_F32)
    w.write()


class NumpyLlama:
    """A from-scratch forward pass reading only the GGUF file (float64 math)."""

    def __init__(self, path):
        self.meta, t = read_gguf(path)
        m = self.meta
        self.t = {k: v.astype(np.float64) for k, v in t.items()}
        self.n_layer = m["llama.block_count"]
        self.n_head = m["llama.attention.head_count"]
        self.n_kv = m["llama.attention.head_count_kv"]
        self.dim = m["llama.embedding_length"]
        self.hd = self.dim // self.n_head
        self.eps = m["llama.attention.layer_norm_rms_epsilon"]
        self.base = m["llama.rope.freq_base"]
        self.out = self.t.get("output.weight", self.t["token_embd.weight"])

    def _norm(self, x, w):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + self.eps) * w

    def _rope(self, x):  # x [T, H, D]; pairs (2i, 2i+1)
        T = x.shape[0]
        theta = self.base ** (-np.arange(0, self.hd, 2) / self.hd)
        ang = np.arange(T)[:, None] * theta[None, :]
        c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
        y = np.empty_like(x)
        y[..., 0::2] = x[..., 0::2] * c - x[..., 1::2] * s
        y[..., 1::2] = x[..., 0::2] * s + x[..., 1::2] * c
        return y

    def logits(self, ids):
        t = self.t
        T = len(ids)
        x = t["token_embd.weight"][ids]
        for i in range(self.n_layer):
            p = f"blk.{i}."
            a = self._norm(x, t[p + "attn_norm.weight"])
            q = self._rope((a @ t[p + "attn_q.weight"].T).reshape(T, self.n_head, self.hd))
            k = self._rope((a @ t[p + "attn_k.weight"].T).reshape(T, self.n_kv, self.hd))
            v = (a @ t[p + "attn_v.weight"].T).reshape(T, self.n_kv, self.hd)
            o = np.empty((T, self.n_head, self.hd))
            g = self.n_head // self.n_kv
            causal = np.triu(np.full((T, T), -np.inf), 1)
            for h in range(self.n_head):
                s = q[:, h, :] @ k[:, h // g, :].T / math.sqrt(self.hd) + causal
                s = np.exp(s - s.max(-1, keepdims=True))
                s /= s.sum(-1, keepdims=True)
                o[:, h, :] = s @ v[:, h // g, :]
            x = x + o.reshape(T, self.dim) @ t[p + "attn_output.weight"].T
            f = self._norm(x, t[p + "ffn_norm.weight"])
            gate = f @ t[p + "ffn_gate.weight"].T
            x = x + ((gate / (1 + np.exp(-gate))) * (f @ t[p + "ffn_up.weight"].T)) @ t[p + "ffn_down.weight"].T
        return self._norm(x, t["output_norm.weight"]) @ self.out.T


def vocab_from_gguf_meta(meta):
    return SpmVocab(meta["tokenizer.ggml.tokens"], meta["tokenizer.ggml.scores"], meta["tokenizer.ggml.token_type"])


def greedy(logits_fn, ids, n):
    ids = list(ids)
    for _ in range(n):
        ids.append(int(np.argmax(logits_fn(ids)[-1])))
    return ids


# ---------------------------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------------------------
@torch.no_grad()
def evaluate(model, segments, batch):
    model.eval()
    tot_nll, tot_tok, tot_chars = 0.0, 0, 0
    for i in range(0, len(segments), batch):
        group = segments[i:i + batch]
        L = max(len(s) for s, _ in group)
        x = torch.zeros((len(group), L), dtype=torch.long)
        y = torch.full((len(group), L - 1), -100, dtype=torch.long)
        for j, (s, nch) in enumerate(group):
            x[j, :len(s)] = torch.from_numpy(s)
            y[j, :len(s) - 1] = torch.from_numpy(s[1:])
            tot_chars += nch
        logits = model(x[:, :-1])
        tot_nll += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-100,
                                   reduction="sum").item()
        tot_tok += int((y != -100).sum())
    model.train()
    return tot_nll / tot_tok, tot_nll / tot_chars, tot_tok


def lr_at(step, args):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    p = (step - args.warmup) / max(1, args.steps - args.warmup)
    return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * p))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="/work/shared/data/tinyshakespeare/input.txt")
    ap.add_argument("--out", required=True, help="output .gguf path")
    ap.add_argument("--name", default="shakespeare")
    ap.add_argument("--vocab", type=int, default=1024)
    ap.add_argument("--dim", type=int, default=192)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=6)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--ffn", type=int, default=512)
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--steps", type=int, default=1200)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--min-lr", type=float, default=1e-4)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--eval-every", type=int, default=400)
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--max-minutes", type=float, default=0, help="safety stop: end training early (keeping the "
                    "best checkpoint) if it runs longer than this; 0 = no limit")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ckpt", default="/tmp/lmgen_train_ckpt.pt", help="torch checkpoint (best val) path")
    ap.add_argument("--prompt", default="ROMEO:")
    ap.add_argument("--gen", type=int, default=100, help="greedy tokens to sample at the end")
    ap.add_argument("--bench", type=int, default=0, help="only time this many training steps and exit")
    ap.add_argument("--export-only", action="store_true", help="skip training, export from --ckpt")
    ap.add_argument("--stats-json", default=None, help="write final statistics here")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    t_start = time.time()

    text = open(args.data, encoding="utf-8").read()
    n_train = int(0.9 * len(text))
    train_text, val_text = text[:n_train], text[n_train:]
    vocab = SpmVocab.train(train_text, args.vocab)
    train = TokenStream(vocab, train_text)
    val = TokenStream(vocab, val_text)
    val_segments = val.segments(args.ctx + 1)
    print(f"vocab {len(vocab)}; train {len(train.tokens)} tokens ({len(train_text) / len(train.tokens):.2f} "
          f"chars/token), val {len(val.tokens)} tokens in {len(val_segments)} segments; "
          f"{time.time() - t_start:.1f}s", flush=True)
    # spot-check: chunked encoding == the unchunked algorithm, and round trip
    for a in (0, n_train // 2):
        s = train_text[a:a + 2000]
        assert vocab.encode(s) == vocab.encode_whole(s) and vocab.decode(vocab.encode(s)) == s

    cfg = dict(vocab=len(vocab), dim=args.dim, n_layer=args.layers, n_head=args.heads, n_head_kv=args.kv_heads,
               ffn=args.ffn, ctx=args.ctx, eps=1e-5, rope_base=10000.0, dropout=args.dropout)
    model = Llama(cfg)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model {json.dumps(cfg)}; {n_params} parameters", flush=True)

    starts = [s for s in train.line_starts if train.chunk_start[s + 1] + args.ctx + 1 <= len(train.tokens)]
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    best = (float("inf"), 0, 0.0)
    history = []
    train_time = 0.0
    if not args.export_only:
        t0 = time.time()
        for step in range(args.steps if not args.bench else args.bench):
            for g in opt.param_groups:
                g["lr"] = lr_at(step, args)
            picks = rng.integers(0, len(starts), size=args.batch)
            xb = torch.from_numpy(np.stack([train.sample(starts[i], args.ctx + 1) for i in picks]))
            logits = model(xb[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), xb[:, 1:].reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            if step % 25 == 0:
                print(f"step {step} loss {loss.item():.4f} lr {lr_at(step, args):.2e} "
                      f"{(time.time() - t0) / (step + 1):.3f}s/step", flush=True)
            last = step == (args.steps if not args.bench else args.bench) - 1
            if not args.bench and ((step + 1) % args.eval_every == 0 or last):
                vl, vc, _ = evaluate(model, val_segments, 32)
                history.append((step + 1, round(vl, 4)))
                print(f"step {step + 1} val {vl:.4f} nats/token ({vc:.4f} nats/char) "
                      f"elapsed {time.time() - t0:.0f}s", flush=True)
                if vl < best[0]:
                    best = (vl, step + 1, vc)
                    torch.save({"model": model.state_dict(), "cfg": cfg, "step": step + 1}, args.ckpt)
            if args.max_minutes and time.time() - t0 > 60 * args.max_minutes and not args.bench:
                vl, vc, _ = evaluate(model, val_segments, 32)
                history.append((step + 1, round(vl, 4)))
                print(f"SAFETY STOP after {step + 1} steps: val {vl:.4f}", flush=True)
                if vl < best[0]:
                    best = (vl, step + 1, vc)
                    torch.save({"model": model.state_dict(), "cfg": cfg, "step": step + 1}, args.ckpt)
                break
        train_time = time.time() - t0
        if args.bench:
            print(f"bench: {train_time / args.bench:.3f}s/step", flush=True)
            return
        print(f"training done in {train_time:.0f}s; best val {best[0]:.4f} at step {best[1]}", flush=True)

    ck = torch.load(args.ckpt)
    model.load_state_dict(ck["model"])
    model.eval()
    # The GGUF holds F16 weights: round the torch model's 2-D weights the same way, so that it is exactly the
    # model in the file, and report the validation loss of that model.
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 2:
                p.copy_(p.half().float())
    vl, vc, ntok = evaluate(model, val_segments, 32)
    print(f"exported model (F16 weights, step {ck['step']}): val {vl:.4f} nats/token, ppl {math.exp(vl):.2f}, "
          f"{vc:.4f} nats/char over {ntok} tokens", flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    export_gguf(model, vocab, args.out, args.name)
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes)", flush=True)

    # --- verification from the file alone ---
    nm = NumpyLlama(args.out)
    fvocab = vocab_from_gguf_meta(nm.meta)
    prompt_ids = fvocab.encode(args.prompt)
    assert prompt_ids == vocab.encode(args.prompt)
    probe = val_segments[0][0][:64].tolist()
    with torch.no_grad():
        ref = model(torch.tensor([probe]))[0].double().numpy()
    got = nm.logits(probe)
    diff = float(np.abs(ref - got).max())
    print(f"verify: numpy-from-GGUF vs torch logits on {len(probe)} tokens: max abs diff {diff:.2e} "
          f"(logit range {ref.min():.1f}..{ref.max():.1f})", flush=True)
    assert diff < 1e-3, "GGUF forward does not reproduce the torch model"
    with torch.no_grad():
        out_t = greedy(lambda ids: model(torch.tensor([ids]))[0].numpy(), prompt_ids, args.gen)
    out_n = greedy(nm.logits, prompt_ids, args.gen)
    print(f"verify: greedy torch == greedy numpy-from-GGUF: {out_t == out_n}", flush=True)
    print("greedy ids:", out_n, flush=True)
    sample = fvocab.decode(out_n)
    print("---- greedy sample ----\n" + sample + "\n----", flush=True)
    if args.stats_json:
        json.dump(dict(cfg=cfg, n_params=n_params, val_nats_per_token=vl, val_ppl=math.exp(vl),
                       val_nats_per_char=vc, val_tokens=ntok, best_step=ck["step"], steps=args.steps,
                       batch=args.batch, lr=args.lr, train_seconds=train_time, history=history,
                       train_tokens=len(train.tokens), file_bytes=os.path.getsize(args.out),
                       prompt=args.prompt, greedy_ids=out_n, greedy_text=sample, logit_max_abs_diff=diff,
                       torch_numpy_greedy_equal=out_t == out_n),
                  open(args.stats_json, "w"), indent=1)


if __name__ == "__main__":
    main()
