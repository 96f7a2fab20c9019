#!/usr/bin/env python3
"""Reference values for peft4j's GGUF loading of the real test model: Hugging Face transformers loads the GGUF
(`AutoModelForCausalLM.from_pretrained(dir, gguf_file=name)` dequantizes with gguf-py and reverses llama.cpp's
q/k row permutation), and this script dumps a few rows and sums of some tensors of layers 0 and 29 plus the
embedding to a small JSON that GgufSmolLm2IT compares against.

Usage: ~/.cache/peft4j/venv/bin/python scripts/interop/gguf_tensor_reference.py [path/to/model.gguf]
Output: peft-core/src/test/resources/interop/gguf_smollm2_tensors.json
"""
import json
import os
import sys

import torch
from transformers import AutoModelForCausalLM

NAMES = [
    "model.embed_tokens.weight",
    "model.layers.0.self_attn.q_proj.weight",
    "model.layers.0.self_attn.k_proj.weight",
    "model.layers.0.self_attn.v_proj.weight",
    "model.layers.29.self_attn.q_proj.weight",
    "model.layers.29.self_attn.k_proj.weight",
    "model.layers.29.mlp.down_proj.weight",
    "model.layers.29.input_layernorm.weight",
    "model.norm.weight",
]
ROWS = [0, 1, 31, 32, 63, 64, 65, 191]
COLS = 12


def main():
    default = os.path.expanduser("~/.cache/peft4j/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    path = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PEFT4J_TEST_MODEL", default))
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = os.path.join(root, "peft-core", "src", "test", "resources", "interop", "gguf_smollm2_tensors.json")
    model = AutoModelForCausalLM.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path),
                                                 dtype=torch.float32)
    state = model.state_dict()
    tensors = {}
    for name in NAMES:
        t = state[name].detach().to(torch.float32)
        entry = {"shape": list(t.shape), "sum": float(t.double().sum()), "abs_sum": float(t.double().abs().sum())}
        if t.dim() == 2:
            rows = [r for r in ROWS if r < t.shape[0]]
            entry["rows"] = {str(r): [float(v) for v in t[r, :COLS]] for r in rows}
            entry["row_sums"] = {str(r): float(t[r].double().sum()) for r in rows}
        else:
            entry["values"] = [float(v) for v in t[:COLS]]
        tensors[name] = entry
    result = {
        "generator": "transformers %s AutoModelForCausalLM.from_pretrained(gguf_file=...)" % __import__(
            "transformers").__version__,
        "model": os.path.basename(path),
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "tensors": tensors,
    }
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    print("wrote %s (%d bytes)" % (out, os.path.getsize(out)), file=sys.stderr)


if __name__ == "__main__":
    main()
