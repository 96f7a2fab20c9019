#!/usr/bin/env python3
"""PEFT + torch adapter training step time on the configuration `peft4j bench train` measures, for its printed ratio.

Loads the GGUF in fp32 (transformers gguf_file=), adds a PEFT LoRA (r, alpha, target modules or a full-match
regex, dropout (default 0), optionally rsLoRA / DoRA: the same LoRA options `peft4j bench train` takes) or, with
--method prompt-tuning | prefix-tuning, a soft prompt of --num-virtual-tokens (random init), trains on
seeded random ids [batch, seq] with labels = ids and torch.optim.AdamW (lr 1e-4) over the trainable parameters,
torch.set_num_threads(THREADS); one warm-up step, then the median of STEPS steps (forward, backward, step,
zero_grad). With --gradient-checkpointing, transformers' gradient_checkpointing_enable (non-reentrant) is on.
peak_rss_mb is this process's peak resident memory (VmHWM, model load included; not ru_maxrss, which Linux carries
over execve from the JVM that spawned us). The last stdout line is one
JSON object.

Usage: python bench_peft.py --model GGUF [--method lora | prompt-tuning | prefix-tuning] [--num-virtual-tokens 20]
                            [--batch 4] [--seq 256] [--r 16] [--alpha 32] [--dropout 0]
                            [--target-modules all-linear | --target-regex REGEX] [--use-rslora] [--use-dora]
                            [--steps 3] [--threads 2] [--gradient-checkpointing]
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
from peft import LoraConfig, PrefixTuningConfig, PromptTuningConfig, get_peft_model
from transformers import AutoModelForCausalLM



def peak_rss_mb():
    """VmHWM of this process in MiB (the peak resident set of this program's own address space)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return None

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--method", default="lora", choices=["lora", "prompt-tuning", "prefix-tuning"])
    ap.add_argument("--num-virtual-tokens", type=int, default=20)
    ap.add_argument("--r", type=int, default=16)
    ap.add_argument("--alpha", type=float, default=32)
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--target-modules", default="all-linear")
    ap.add_argument("--target-regex", default=None, help="PEFT full-match regex instead of --target-modules")
    ap.add_argument("--use-rslora", action="store_true")
    ap.add_argument("--use-dora", action="store_true")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--gradient-checkpointing", action="store_true")
    ap.add_argument("--rows", default=None, help="JSON list of {ids, labels, positions} rows (labels -100 = not "
                    "trained) to train on instead of random tokens, batch rows per step, warm-up first")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    folder, name = os.path.split(os.path.abspath(a.model))
    base = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    if a.target_regex is not None:
        targets = a.target_regex                  # a str is a full-match regex in PEFT
    else:
        targets = a.target_modules if a.target_modules == "all-linear" else a.target_modules.split(",")
    if a.method == "prompt-tuning":
        config = PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=a.num_virtual_tokens)
    elif a.method == "prefix-tuning":
        config = PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=a.num_virtual_tokens)
    else:
        config = LoraConfig(r=a.r, lora_alpha=a.alpha, target_modules=targets, lora_dropout=a.dropout,
                            use_rslora=a.use_rslora, use_dora=a.use_dora, task_type="CAUSAL_LM")
    model = get_peft_model(base, config)
    if a.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    g = torch.Generator().manual_seed(1)
    vocab = base.config.vocab_size

    rows = None
    if a.rows is not None:
        with open(a.rows) as f:
            rows = json.load(f)
        if len(rows) < a.batch * (a.steps + 1):
            sys.exit(f"--rows holds {len(rows)} rows, {a.batch * (a.steps + 1)} needed")
    taken = [0]

    def step():
        if rows is None:
            ids = torch.randint(0, vocab, (a.batch, a.seq), generator=g)
            kwargs = dict(input_ids=ids, labels=ids)
        else:
            batch = rows[taken[0]:taken[0] + a.batch]
            taken[0] += a.batch
            kwargs = dict(input_ids=torch.tensor([r["ids"] for r in batch]),
                          labels=torch.tensor([r["labels"] for r in batch]),
                          position_ids=torch.tensor([r["positions"] for r in batch]))
        t0 = time.perf_counter()
        loss = model(**kwargs).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return time.perf_counter() - t0

    step()
    times = [step() for _ in range(a.steps)]
    s = statistics.median(times)
    print(json.dumps({"name": "peft_train", "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "batch": a.batch, "seq": a.seq, "method": a.method, "r": a.r,
                      "data": "random" if rows is None else os.path.basename(a.rows),
                      "target_modules": a.target_regex if a.target_regex is not None else a.target_modules,
                      "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
                      "gradient_checkpointing": a.gradient_checkpointing,
                      "peak_rss_mb": peak_rss_mb(),
                      "step_s": s, "tokens_per_s": a.batch * a.seq / s}))


if __name__ == "__main__":
    main()
