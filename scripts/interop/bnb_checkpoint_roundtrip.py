#!/usr/bin/env python3
"""Python side of peft4j's FourBitCheckpointInteropIT: 4-bit checkpoints between peft4j and transformers + bitsandbytes.

  load DIR IDS OUT          load the 4-bit folder DIR (written by peft4j) with AutoModelForCausalLM.from_pretrained,
                            run the comma-separated token IDS, write the logits [T, vocab] to OUT (safetensors, key
                            "logits")
  quantize DENSE DIR IDS OUT  load the dense fp32 folder DENSE with BitsAndBytesConfig(load_in_4bit=True, nf4,
                            double quant, fp32 compute), save_pretrained it to DIR (+ tokenizer), then as `load`

The last stdout line is one JSON object: logits file, number of Linear4bit modules, versions, and
`fused_bf16_max_abs_diff`.

Numerics (measured, bitsandbytes 0.50.2): on a CPU with AVX512-BF16, Linear4bit.forward in eval mode repacks the
weight for bitsandbytes' fused CPU kernel (gemv_4bit), which casts the activations and absmax to bfloat16 and
computes in bf16, whatever bnb_4bit_compute_dtype says. Its logits differ from an fp32 dequantize + matmul by far
more than 1e-3. The reference logits written to OUT are therefore computed on bitsandbytes' fp32 path
(Linear4bit.support_avx512bf16_for_cpu = False -> matmul_4bit -> gemm_4bit default kernel: dequantize_4bit in fp32,
then torch linear), which is also the path CPUs without AVX512-BF16 take. The fused bf16 path is run afterwards and
its distance from the fp32 path is reported (null when the CPU lacks AVX512-BF16).

Usage: ~/.cache/peft4j/venv/bin/python scripts/interop/bnb_checkpoint_roundtrip.py load DIR 1,2,3 /tmp/logits.safetensors
"""
import json
import sys

import bitsandbytes
import torch
import transformers
from bitsandbytes.nn import Linear4bit
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig


def linear4bit_modules(model):
    return [m for m in model.modules() if isinstance(m, Linear4bit)]


def logits_of(model, ids):
    with torch.no_grad():
        return model(torch.tensor([ids], dtype=torch.long)).logits[0].float()


def run(model, ids, out):
    mods = linear4bit_modules(model)
    if not mods:
        raise SystemExit("no Linear4bit module: the folder did not load as a 4-bit model")
    qs = mods[0].weight.quant_state  # read before a forward: the fused path repacks it (nested -> plain)
    info = {"quant_type": qs.quant_type, "blocksize": qs.blocksize, "nested": bool(qs.nested)}
    fused = [m.support_avx512bf16_for_cpu for m in mods]
    for m in mods:
        m.support_avx512bf16_for_cpu = False  # bitsandbytes' fp32 path: dequantize_4bit + linear
    ref = logits_of(model, ids)
    save_file({"logits": ref.contiguous()}, out)
    fused_diff = None
    if any(fused):
        for m, f in zip(mods, fused):
            m.support_avx512bf16_for_cpu = f
        fused_diff = (logits_of(model, ids) - ref).abs().max().item()
    print(json.dumps({
        "logits_file": out,
        "tokens": len(ids),
        "linear4bit_modules": len(mods),
        **info,
        "fused_bf16_max_abs_diff": fused_diff,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "bitsandbytes": bitsandbytes.__version__,
    }))


def main():
    torch.manual_seed(0)
    torch.set_num_threads(2)
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "load" and len(sys.argv) == 5:
        _, _, folder, ids, out = sys.argv
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    elif mode == "quantize" and len(sys.argv) == 6:
        _, _, dense, folder, ids, out = sys.argv
        cfg = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                 bnb_4bit_compute_dtype=torch.float32)
        model = AutoModelForCausalLM.from_pretrained(dense, quantization_config=cfg, dtype=torch.float32)
        model.save_pretrained(folder)
        AutoTokenizer.from_pretrained(dense).save_pretrained(folder)
    else:
        raise SystemExit(__doc__)
    model.eval()
    run(model, [int(t) for t in ids.split(",")], out)


if __name__ == "__main__":
    main()
