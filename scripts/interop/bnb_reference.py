#!/usr/bin/env python3
"""Expected values for peft4j's BitsandbytesInteropTest, produced by bitsandbytes itself (CPU backend).

Quantizes fixed deterministic fp32 tensors with bitsandbytes.functional.quantize_4bit (nf4/fp4, with and without
compress_statistics) and quantize_blockwise (8-bit dynamic map, with and without nested), and writes the inputs'
recipe, packed codes, absmax, nested statistics and dequantized values (in full for the small cases' main variants, else SHA-256)
to quantization/src/test/resources/interop/bnb_reference.json.

Inputs are generated from a 64-bit LCG with integer arithmetic only, so Java rebuilds the same fp32 values:
  state = state * 6364136223846793005 + 1442695040888963407 (mod 2^64), u = state >> 42 (22 bits)
  x = float32(u1+u2+u3+u4 - 2^23) / 2^21 * float32(scale); every 97th value times 8 (outliers);
  rows listed in "zero_rows" are set to 0.

Run with the pinned venv: ~/.cache/peft4j/venv/bin/python scripts/interop/bnb_reference.py
"""
import base64
import hashlib
import json
import os
import sys

import numpy as np
import torch
import bitsandbytes
import bitsandbytes.functional as F

MASK = (1 << 64) - 1
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "quantization", "src", "test", "resources", "interop",
                   "bnb_reference.json")

CASES = [
    # name, shape, seed, scale, zero_rows, keep_full_dequant
    ("a", [32, 128], 1, 0.02, [], False),
    ("b", [37, 51], 2, 0.05, [], True),      # 1887 values: odd, partial last block
    ("c", [129, 129], 3, 0.03, [], False),   # 261 blocks of 64 -> 2 nested blocks (the second partial)
    ("z", [5, 64], 4, 0.01, [1, 4], True),   # all-zero blocks
]
VARIANTS_4BIT = [(qt, dq, 64) for qt in ("nf4", "fp4") for dq in (False, True)]
EXTRA_4BIT = {"a": [("nf4", True, 128), ("fp4", False, 4096)], "b": [("fp4", True, 32), ("nf4", False, 256)]}
INT8_CASES = ("a", "b", "z")


def make_input(shape, seed, scale, zero_rows):
    n = int(np.prod(shape))
    state = seed & MASK
    out = np.empty(n, dtype=np.float32)
    for i in range(n):
        s = 0
        for _ in range(4):
            state = (state * 6364136223846793005 + 1442695040888963407) & MASK
            s += state >> 42
        v = np.float32(s - (1 << 23)) / np.float32(1 << 21) * np.float32(scale)
        if i % 97 == 0:
            v = v * np.float32(8.0)
        out[i] = v
    out = out.reshape(shape)
    for r in zero_rows:
        out[r, :] = 0
    return out


def b64(t):
    return base64.b64encode(t.contiguous().numpy().tobytes()).decode("ascii")


def f32_b64(t):
    return b64(t.detach().to(torch.float32).reshape(-1))


def dequant_entry(d, keep_full):
    d = d.detach().to(torch.float32).reshape(-1).contiguous()
    entry = {"dequant_sha256": hashlib.sha256(d.numpy().tobytes()).hexdigest()}
    if keep_full:
        entry["dequant"] = f32_b64(d)
    return entry


def stats_entry(state, nested):
    if not nested:
        return {"absmax": f32_b64(state.absmax)}
    return {
        "absmax_codes": b64(state.absmax.to(torch.uint8)),
        "nested_absmax": f32_b64(state.state2.absmax),
        "nested_blocksize": state.state2.blocksize,
        "nested_quant_map": f32_b64(state.state2.code),
        "offset": float(state.offset.item()),
        "offset_bits": int(np.float32(state.offset.item()).view(np.uint32)),
    }


def four_bit(name, x, keep_full, qt, dq, bs):
    A = torch.from_numpy(x)
    q, st = F.quantize_4bit(A, blocksize=bs, quant_type=qt, compress_statistics=dq)
    d = F.dequantize_4bit(q, st)
    e = {"case": name, "type": qt, "double_quant": dq, "blocksize": bs, "packed": b64(q.reshape(-1))}
    e.update(stats_entry(st, dq))
    e.update(dequant_entry(d, keep_full))
    return e


def eight_bit(name, x, keep_full, nested):
    A = torch.from_numpy(x)
    q, st = F.quantize_blockwise(A, blocksize=64, nested=nested)
    d = F.dequantize_blockwise(q, st)
    e = {"case": name, "type": "int8", "double_quant": nested, "blocksize": 64, "packed": b64(q.reshape(-1)),
         "quant_map": f32_b64(st.code)}
    e.update(stats_entry(st, nested))
    e.update(dequant_entry(d, keep_full))
    return e


def main():
    doc = {
        "generator": "scripts/interop/bnb_reference.py",
        "torch": torch.__version__, "bitsandbytes": bitsandbytes.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "nf4_code": f32_b64(F.get_4bit_type("nf4", device="cpu")),
        "fp4_code": f32_b64(F.get_4bit_type("fp4", device="cpu")),
        "dynamic_map": f32_b64(F.create_dynamic_map()),
        "cases": [], "results": [],
    }
    for name, shape, seed, scale, zero_rows, keep_full in CASES:
        x = make_input(shape, seed, scale, zero_rows)
        doc["cases"].append({"name": name, "shape": shape, "seed": seed, "scale": scale, "zero_rows": zero_rows,
                             "input_sha256": hashlib.sha256(x.tobytes()).hexdigest()})
        for qt, dq, bs in VARIANTS_4BIT:
            doc["results"].append(four_bit(name, x, keep_full, qt, dq, bs))
        for qt, dq, bs in EXTRA_4BIT.get(name, []):
            doc["results"].append(four_bit(name, x, False, qt, dq, bs))
        if name in INT8_CASES:
            for nested in (False, True):
                doc["results"].append(eight_bit(name, x, keep_full and name == "z", nested))
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
    print(f"wrote {len(doc['results'])} results to {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
