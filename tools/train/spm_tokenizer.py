"""A SentencePiece-style ("llama" in GGUF terms) subword vocabulary: BPE training and an encoder that follows
llama.cpp's SPM tokenization algorithm exactly.

Vocabulary layout (ids):
  0 <unk> (type 2), 1 <s> (type 3), 2 </s> (type 3), 3..258 byte tokens <0x00>..<0xFF> (type 6, score 0),
  then the learned pieces: every character of the training text (after escaping: space -> U+2581), then the
  BPE merges in the order they were learned. Scores: merge k has score -k (higher = merged earlier); the single
  characters come after all merges in score (they are never produced by a merge, so their score never matters).

Encoding (what llama.cpp does for tokenizer.ggml.model = "llama" with add_space_prefix):
  text -> " " + text, spaces -> U+2581; split into Unicode characters; repeatedly merge the adjacent pair whose
  concatenation is a vocab token with the highest score (ties: leftmost pair); finally every symbol that is a
  token is emitted, any other symbol (a character not in the vocab) is emitted as its UTF-8 byte tokens.

Chunking (for speed): the learned pieces never contain U+2581 except as their first character and never contain
"\\n" unless they are exactly "\\n". Hence no token can span a position just before a U+2581 or on either side of
a "\\n", so splitting the escaped text there and encoding each chunk separately (with a cache) gives exactly the
same tokens as running the algorithm on the whole text: merges in different chunks never interact, and the
priority order of the merges inside one chunk is unchanged.
"""
import heapq
import re
from collections import Counter, defaultdict

SPACE = "\u2581"
UNK_ID, BOS_ID, EOS_ID = 0, 1, 2
N_SPECIAL = 3
BYTE_BASE = 3
FIRST_PIECE_ID = BYTE_BASE + 256
TYPE_NORMAL, TYPE_UNKNOWN, TYPE_CONTROL, TYPE_BYTE = 1, 2, 3, 6

_CHUNK_RE = re.compile("\n|" + SPACE + "[^" + SPACE + "\n]*|[^" + SPACE + "\n]+")


def escape(text, add_space_prefix=True):
    return (SPACE if add_space_prefix else "") + text.replace(" ", SPACE)


def split_chunks(escaped):
    chunks = _CHUNK_RE.findall(escaped)
    assert "".join(chunks) == escaped
    return chunks


class SpmVocab:
    def __init__(self, pieces, scores, types):
        self.pieces, self.scores, self.types = pieces, scores, types
        self.tok2id = {}
        for i, p in enumerate(pieces):
            assert p not in self.tok2id, f"duplicate piece {p!r}"
            self.tok2id[p] = i
        self._cache = {}

    def __len__(self):
        return len(self.pieces)

    # --- training ---------------------------------------------------------------------------------------------
    @staticmethod
    def train(text, vocab_size):
        """Learns BPE merges on `text` (escaped as the encoder does) until the vocab has vocab_size tokens."""
        chunks = split_chunks(escape(text))
        words = Counter(c for c in chunks if c != "\n")
        chars = sorted(set(escape(text)))
        n_merges = vocab_size - FIRST_PIECE_ID - len(chars)
        assert n_merges > 0, "vocab_size too small for the character set"
        wlist = [list(w) for w in words]
        wcount = [words[w] for w in words]
        pair_count = Counter()
        pair_words = defaultdict(set)
        for wi, syms in enumerate(wlist):
            for a, b in zip(syms, syms[1:]):
                pair_count[(a, b)] += wcount[wi]
                pair_words[(a, b)].add(wi)
        merges = []
        known = set(chars)
        while len(merges) < n_merges and pair_count:
            # Most frequent pair; ties broken by the pair's strings (deterministic).
            best = max(pair_count.items(), key=lambda kv: (kv[1], kv[0]))[0]
            if pair_count[best] < 2:
                break
            merged = best[0] + best[1]
            if merged not in known:
                known.add(merged)
                merges.append(merged)
            for wi in list(pair_words[best]):
                syms = wlist[wi]
                c = wcount[wi]
                for a, b in zip(syms, syms[1:]):
                    pair_count[(a, b)] -= c
                    if pair_count[(a, b)] <= 0:
                        del pair_count[(a, b)]
                    pair_words[(a, b)].discard(wi)
                out, i = [], 0
                while i < len(syms):
                    if i + 1 < len(syms) and syms[i] == best[0] and syms[i + 1] == best[1]:
                        out.append(merged)
                        i += 2
                    else:
                        out.append(syms[i])
                        i += 1
                wlist[wi] = out
                for a, b in zip(out, out[1:]):
                    pair_count[(a, b)] += c
                    pair_words[(a, b)].add(wi)
            pair_words.pop(best, None)
        pieces = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
        scores = [0.0] * FIRST_PIECE_ID
        types = [TYPE_UNKNOWN, TYPE_CONTROL, TYPE_CONTROL] + [TYPE_BYTE] * 256
        for k, ch in enumerate(chars):
            pieces.append(ch)
            scores.append(float(-(len(merges) + k)))
            types.append(TYPE_NORMAL)
        for k, m in enumerate(merges):
            pieces.append(m)
            scores.append(float(-k))
            types.append(TYPE_NORMAL)
        v = SpmVocab(pieces, scores, types)
        v.check_chunk_invariant()
        return v

    def check_chunk_invariant(self):
        for p, t in zip(self.pieces, self.types):
            if t != TYPE_NORMAL:
                continue
            assert SPACE not in p[1:], f"piece {p!r} has an inner U+2581"
            assert p == "\n" or "\n" not in p, f"piece {p!r} contains a newline"

    # --- encoding (llama.cpp SPM algorithm) ---------------------------------------------------------------------
    def _encode_symbols(self, s):
        text = list(s)
        n = len(text)
        nxt = list(range(1, n)) + [-1]
        prv = list(range(-1, n - 1))
        heap = []

        def add(left, right):
            if left < 0 or right < 0:
                return
            t = text[left] + text[right]
            tid = self.tok2id.get(t)
            if tid is None:
                return
            heapq.heappush(heap, (-self.scores[tid], left, right, len(t)))

        for i in range(n - 1):
            add(i, i + 1)
        while heap:
            _, left, right, size = heapq.heappop(heap)
            if not text[left] or not text[right] or len(text[left]) + len(text[right]) != size:
                continue
            text[left] += text[right]
            text[right] = ""
            nxt[left] = nxt[right]
            if nxt[right] >= 0:
                prv[nxt[right]] = left
            add(prv[left], left)
            add(left, nxt[left])
        out = []
        i = 0
        while i >= 0 and n:
            sym = text[i]
            tid = self.tok2id.get(sym)
            if tid is not None:
                out.append(tid)
            else:
                out.extend(BYTE_BASE + b for b in sym.encode("utf-8"))
            i = nxt[i]
        return out

    def encode_chunk(self, chunk):
        ids = self._cache.get(chunk)
        if ids is None:
            ids = self._encode_symbols(chunk)
            self._cache[chunk] = ids
        return ids

    def encode_chunks(self, chunks):
        return [self.encode_chunk(c) for c in chunks]

    def encode(self, text, add_bos=True):
        """Tokenizes `text` exactly like llama.cpp (add_space_prefix, optional BOS)."""
        ids = [BOS_ID] if add_bos else []
        for c in split_chunks(escape(text)):
            ids.extend(self.encode_chunk(c))
        return ids

    def encode_whole(self, text, add_bos=True):
        """The same algorithm without chunking (slow; used to check the chunked encoder)."""
        return ([BOS_ID] if add_bos else []) + self._encode_symbols(escape(text))

    def decode(self, ids, strip_leading_space=True):
        out = bytearray()
        for i in ids:
            t = self.types[i]
            if t == TYPE_CONTROL or t == TYPE_UNKNOWN:
                continue
            if t == TYPE_BYTE:
                out.append(i - BYTE_BASE)
            else:
                out += self.pieces[i].replace(SPACE, " ").encode("utf-8")
        s = out.decode("utf-8", errors="replace")
        if strip_leading_space and s.startswith(" "):
            s = s[1:]
        return s
