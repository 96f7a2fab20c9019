#!/usr/bin/env python3
"""Perplexity of SmolLM2 with its projections quantized by bitsandbytes, for peft4j's QuantizationQualityIT.

The held text is peft4j's: the first 12 GSM8K test records ("question\\nanswer\\n\\n" each), tokenized without
special tokens, first 256 tokens. Every decoder projection (q/k/v/o/gate/up/down) is replaced by
bitsandbytes.functional's quantize -> dequantize of its fp32 weight (quantize_4bit with compress_statistics for the
4-bit rows, quantize_blockwise for int8) and the model runs in fp32: the same weights bitsandbytes' Linear4bit
holds, without its bf16 compute path on AVX512-BF16 CPUs (see bnb_checkpoint_roundtrip.py). Embedding, norms and the
tied lm_head stay fp32, as peft4j's QuantizingLinearFactory does.

Usage: ~/.cache/peft4j/venv/bin/python scripts/interop/quant_perplexity.py [GGUF] [GSM8K_TEST_JSONL] [OUT_DIR]
"""
import json
import math
import os
import sys

import torch
import bitsandbytes.functional as F
from transformers import AutoModelForCausalLM, AutoTokenizer

TOKENS = 256
ROWS = {  # name -> (kind, block size, double quant)
    "nf4": ("nf4", 64, True), "fp4": ("fp4", 64, True), "int8": ("int8", 64, False),
    "nf4/32": ("nf4", 32, True), "nf4/64-nodq": ("nf4", 64, False),
}
PROJ = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def held_ids(tok, jsonl):
    with open(jsonl) as f:
        recs = [json.loads(line) for _, line in zip(range(12), f)]
    text = "".join(r["question"] + "\n" + r["answer"] + "\n\n" for r in recs)
    return tok(text, add_special_tokens=False, return_tensors="pt").input_ids[:, :TOKENS]


def perplexity(model, ids):
    with torch.no_grad():
        logp = torch.log_softmax(model(ids).logits[0].double(), -1)
    nll = -sum(logp[t, ids[0, t + 1]].item() for t in range(ids.shape[1] - 1))
    return math.exp(nll / (ids.shape[1] - 1))


def roundtrip(w, kind, bs, dq):
    if kind == "int8":
        q, st = F.quantize_blockwise(w, blocksize=bs)
        return F.dequantize_blockwise(q, st)
    q, st = F.quantize_4bit(w, blocksize=bs, quant_type=kind, compress_statistics=dq)
    return F.dequantize_4bit(q, st).reshape(w.shape)


def main():
    gguf = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
        "PEFT4J_TEST_MODEL", os.path.expanduser("~/.cache/peft4j/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
    jsonl = sys.argv[2] if len(sys.argv) > 2 else "/work/shared/datasets/gsm8k/test.jsonl"
    out_dir = sys.argv[3] if len(sys.argv) > 3 else "quantization/src/test/resources/interop"
    folder, name = os.path.split(os.path.abspath(gguf))
    torch.set_num_threads(2)
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32).eval()
    ids = held_ids(tok, jsonl)
    layers = model.model.layers
    lins = [getattr(getattr(l, "self_attn" if p in PROJ[:4] else "mlp"), p) for l in layers for p in PROJ]
    original = [lin.weight.data.clone() for lin in lins]
    ppl = {"fp32": perplexity(model, ids)}
    print("fp32", ppl["fp32"], flush=True)
    for row, (kind, bs, dq) in ROWS.items():
        for lin, w in zip(lins, original):
            lin.weight.data = roundtrip(w.contiguous(), kind, bs, dq).to(torch.float32)
        ppl[row] = perplexity(model, ids)
        print(row, ppl[row], flush=True)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "quant_perplexity.json"), "w") as f:
        json.dump({"model": name, "tokens": ids.shape[1], "input_ids": ids[0].tolist(), "perplexity": ppl}, f,
                  indent=1)


if __name__ == "__main__":
    main()
