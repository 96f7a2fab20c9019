#!/usr/bin/env python3
"""Expected ggml dequantization results from the gguf package (gguf.quants.dequantize), the independent
reference for peft4j's GgmlKernels.

For every block type peft4j supports, builds a few deterministic pseudo-random blocks (fp16 scale fields set to
finite values so no NaN/inf appears) and records the raw block bytes and the float32 bit patterns gguf-py
produces. Output: peft-core/src/test/resources/interop/gguf_dequant_reference.json (small; committed).

Run with the pinned venv:  ~/.cache/peft4j/venv/bin/python scripts/interop/gguf_dequant_reference.py
"""
import json
import os
import sys

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize

# byte offsets of the fp16 fields (d, dmin/m) inside each block type
HALF_FIELDS = {
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
    T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
}
BLOCKS = {T.F32: 16, T.F16: 16, T.BF16: 16,
          T.Q4_0: 2, T.Q4_1: 2, T.Q5_0: 2, T.Q5_1: 2, T.Q8_0: 2,
          T.Q2_K: 1, T.Q3_K: 1, T.Q4_K: 1, T.Q5_K: 1, T.Q6_K: 1}


def make_blocks(rng, qtype, n_blocks):
    block_size, type_size = GGML_QUANT_SIZES[qtype]
    if qtype == T.F32:
        return rng.standard_normal(n_blocks).astype(np.float32).view(np.uint8)
    if qtype == T.F16:
        vals = np.concatenate([rng.standard_normal(n_blocks - 4), [1e-7, -6e-8, 65504.0, -0.0]])
        return vals.astype(np.float16).view(np.uint8)
    if qtype == T.BF16:
        bits = (rng.standard_normal(n_blocks).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
        return bits.view(np.uint8)
    raw = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    for b in range(n_blocks):
        for off in HALF_FIELDS[qtype]:
            h = np.array([rng.uniform(-0.05, 0.05)], dtype=np.float16).view(np.uint8)
            raw[b, off:off + 2] = h
    return raw.reshape(-1)


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = os.path.join(root, "peft-core", "src", "test", "resources", "interop", "gguf_dequant_reference.json")
    rng = np.random.default_rng(20240611)
    cases = []
    for qtype, n_blocks in BLOCKS.items():
        data = make_blocks(rng, qtype, n_blocks)
        block_size, type_size = GGML_QUANT_SIZES[qtype]
        n = n_blocks * block_size
        values = dequantize(data, qtype).astype(np.float32).reshape(-1)
        assert values.size == n, (qtype, values.size, n)
        cases.append({
            "type": qtype.name,
            "elements": int(n),
            "bytes_hex": data.tobytes().hex(),
            "float_bits_hex": values.view(np.uint32).astype(">u4").tobytes().hex(),
        })
    with open(out, "w") as f:
        json.dump({"generator": "gguf.quants.dequantize (gguf-py %s)" % gguf_version(), "cases": cases}, f)
    print("wrote %s (%d bytes)" % (out, os.path.getsize(out)), file=sys.stderr)


def gguf_version():
    from importlib.metadata import version
    return version("gguf")


if __name__ == "__main__":
    main()
