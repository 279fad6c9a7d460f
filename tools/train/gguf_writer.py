"""Minimal GGUF v3 writer and reader (numpy only), enough for llama-architecture models.

Format (little-endian): "GGUF", u32 version, u64 n_tensors, u64 n_kv, then n_kv x {string key, u32 type, value},
then n_tensors x {string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset}, padding to the alignment,
then the data section (each tensor's offset is relative to its start and aligned).
ggml ne order is the reverse of the numpy shape: a numpy array of shape [out, in] has ne = {in, out}.
"""
import struct

import numpy as np

# Metadata value types.
T_U8, T_I8, T_U16, T_I16, T_U32, T_I32, T_F32, T_BOOL, T_STRING, T_ARRAY, T_U64, T_I64, T_F64 = range(13)
# ggml tensor types used here.
GGML_F32, GGML_F16 = 0, 1

_SCALAR_FMT = {T_U8: "<B", T_I8: "<b", T_U16: "<H", T_I16: "<h", T_U32: "<I", T_I32: "<i", T_F32: "<f",
               T_BOOL: "<?", T_U64: "<Q", T_I64: "<q", T_F64: "<d"}


def _pack_string(s):
    b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
    return struct.pack("<Q", len(b)) + b


def _pack_value(vtype, value):
    if vtype == T_STRING:
        return _pack_string(value)
    return struct.pack(_SCALAR_FMT[vtype], value)


class GGUFWriter:
    def __init__(self, path, alignment=32):
        self.path = path
        self.alignment = alignment
        self.kv = []        # (key, type, value, elem_type)
        self.tensors = []   # (name, np.ndarray, ggml_type)

    # --- metadata -------------------------------------------------------------------------------------------
    def add(self, key, vtype, value):
        self.kv.append((key, vtype, value, None))

    def add_string(self, key, value):
        self.add(key, T_STRING, value)

    def add_u32(self, key, value):
        self.add(key, T_U32, int(value))

    def add_i32(self, key, value):
        self.add(key, T_I32, int(value))

    def add_f32(self, key, value):
        self.add(key, T_F32, float(value))

    def add_bool(self, key, value):
        self.add(key, T_BOOL, bool(value))

    def add_array(self, key, elem_type, values):
        self.kv.append((key, T_ARRAY, list(values), elem_type))

    # --- tensors --------------------------------------------------------------------------------------------
    def add_tensor(self, name, array, ggml_type):
        if ggml_type == GGML_F32:
            array = np.ascontiguousarray(array, dtype="<f4")
        elif ggml_type == GGML_F16:
            array = np.ascontiguousarray(array, dtype="<f2")
        else:
            raise ValueError(f"unsupported ggml type {ggml_type}")
        self.tensors.append((name, array, ggml_type))

    def _pad(self, n):
        return (-n) % self.alignment

    def write(self):
        out = bytearray()
        out += b"GGUF" + struct.pack("<IQQ", 3, len(self.tensors), len(self.kv))
        for key, vtype, value, elem_type in self.kv:
            out += _pack_string(key) + struct.pack("<I", vtype)
            if vtype == T_ARRAY:
                out += struct.pack("<IQ", elem_type, len(value))
                if elem_type == T_STRING:
                    for v in value:
                        out += _pack_string(v)
                else:
                    out += np.asarray(value, dtype=np.dtype(_SCALAR_FMT[elem_type][1]).newbyteorder("<")).tobytes()
            else:
                out += _pack_value(vtype, value)
        offset = 0
        offsets = []
        for name, array, ggml_type in self.tensors:
            offsets.append(offset)
            ne = list(reversed(array.shape))
            out += _pack_string(name) + struct.pack("<I", len(ne)) + struct.pack(f"<{len(ne)}Q", *ne)
            out += struct.pack("<IQ", ggml_type, offset)
            offset += array.nbytes + self._pad(array.nbytes)
        out += b"\0" * self._pad(len(out))
        with open(self.path, "wb") as f:
            f.write(out)
            for (name, array, ggml_type), off in zip(self.tensors, offsets):
                f.write(array.tobytes())
                f.write(b"\0" * self._pad(array.nbytes))


def read_gguf(path):
    """Returns (metadata dict, tensors dict name -> numpy array in numpy (row-major) shape, as float32)."""
    data = memoryview(open(path, "rb").read())
    pos = 0

    def take(fmt):
        nonlocal pos
        vals = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return vals[0] if len(vals) == 1 else vals

    def take_string():
        nonlocal pos
        n = take("<Q")
        s = bytes(data[pos:pos + n]).decode("utf-8")
        pos += n
        return s

    def take_value(vtype):
        if vtype == T_STRING:
            return take_string()
        if vtype == T_ARRAY:
            et, n = take("<IQ")
            return [take_value(et) for _ in range(n)]
        return take(_SCALAR_FMT[vtype])

    if bytes(data[:4]) != b"GGUF":
        raise ValueError(f"{path}: not a GGUF file")
    pos = 4
    version, n_tensors, n_kv = take("<IQQ")
    meta = {"__version__": version}
    for _ in range(n_kv):
        key = take_string()
        meta[key] = take_value(take("<I"))
    infos = []
    for _ in range(n_tensors):
        name = take_string()
        nd = take("<I")
        ne = [take("<Q") for _ in range(nd)]
        gtype, off = take("<IQ")
        infos.append((name, ne, gtype, off))
    align = meta.get("general.alignment", 32)
    base = pos + ((-pos) % align)
    tensors = {}
    for name, ne, gtype, off in infos:
        if off % align:
            raise ValueError(f"{path}: tensor {name} offset {off} not aligned")
        dt = {GGML_F32: "<f4", GGML_F16: "<f2"}[gtype]
        count = int(np.prod(ne))
        arr = np.frombuffer(data, dtype=dt, count=count, offset=base + off)
        tensors[name] = arr.reshape(list(reversed(ne))).astype(np.float32)
    return meta, tensors
