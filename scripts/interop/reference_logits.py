#!/usr/bin/env python3
"""Expected logits and greedy continuations for peft4j's LlamaParityInteropIT, produced by transformers.

Loads the SmolLM2 GGUF with transformers (dequantized to fp32:
AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, torch_dtype=torch.float32)) and its tokenizer the
same way, then for 3 fixed prompts writes
  * the input ids,
  * per position: argmax, top-5 ids and values, logsumexp over the vocabulary, and the logits of 64 fixed
    vocabulary ids (every 768th id),
  * the full logits row of the last position (float32 safetensors, one row per prompt),
  * the 32-token greedy continuation (model.generate, do_sample=False, stopping at the generation config's EOS).

Usage: ~/.cache/peft4j/venv/bin/python scripts/interop/reference_logits.py [GGUF] [OUT_DIR]
Defaults: $PEFT4J_TEST_MODEL or ~/.cache/peft4j/models/SmolLM2-135M-Instruct.Q4_1.gguf,
          peft-core/src/test/resources/interop
"""
import json
import os
import sys

import torch
import transformers
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer

PROMPTS = [
    "The capital of France is",
    "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n",
    "Once upon a time, in a small village nestled between rolling hills and a sparkling river, there lived a "
    "young girl named Lila who loved to",
]
SAMPLED_IDS = list(range(0, 49152, 768))
NEW_TOKENS = 32


def main():
    gguf = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
        "PEFT4J_TEST_MODEL", os.path.expanduser("~/.cache/peft4j/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
    out_dir = sys.argv[2] if len(sys.argv) > 2 else "peft-core/src/test/resources/interop"
    folder, name = os.path.split(os.path.abspath(gguf))
    torch.manual_seed(0)
    torch.set_num_threads(2)
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, torch_dtype=torch.float32)
    model.eval()
    eos = model.generation_config.eos_token_id
    eos = eos if isinstance(eos, list) else ([] if eos is None else [eos])
    records, last_rows = [], {}
    for i, prompt in enumerate(PROMPTS):
        ids = tok(prompt, return_tensors="pt").input_ids
        with torch.no_grad():
            logits = model(ids).logits[0].float()  # [T, vocab]
            out = model.generate(ids, max_new_tokens=NEW_TOKENS, do_sample=False, eos_token_id=eos,
                                 pad_token_id=eos[0] if eos else 0)
        top = logits.topk(5, dim=-1)
        records.append({
            "prompt": prompt,
            "input_ids": ids[0].tolist(),
            "argmax": logits.argmax(-1).tolist(),
            "top5_ids": top.indices.tolist(),
            "top5_values": top.values.tolist(),
            "logsumexp": torch.logsumexp(logits, -1).tolist(),
            "sampled_values": logits[:, SAMPLED_IDS].tolist(),
            "greedy_continuation": out[0, ids.shape[1]:].tolist(),
        })
        last_rows[f"prompt{i}_last"] = logits[-1].contiguous()
    meta = {
        "model": name,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "dtype": "float32",
        "eos_token_ids": eos,
        "sampled_ids": SAMPLED_IDS,
        "new_tokens": NEW_TOKENS,
        "prompts": records,
    }
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "reference_logits.json"), "w") as f:
        json.dump(meta, f)
    save_file(last_rows, os.path.join(out_dir, "reference_logits_last.safetensors"))
    for r in records:
        print(len(r["input_ids"]), "ids; continuation:", repr(tok.decode(r["greedy_continuation"])))


if __name__ == "__main__":
    main()
