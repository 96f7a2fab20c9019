#!/usr/bin/env python3
"""transformers' throughput on the shapes `peft4j bench forward` measures, for the printed ratios.

Loads the GGUF in fp32 (AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)),
sets torch.set_num_threads(THREADS), and measures with seeded random ids, one warm-up then the median of ITERS:
  * forward tokens/s on [batch, seq] (full logits, no_grad),
  * greedy generation tokens/s of GEN_TOKENS new tokens after a GEN_PROMPT-token prompt, with and without cache.
The last stdout line is one JSON object.

Usage: python bench_transformers.py --model GGUF [--batch 4] [--seq 256] [--gen-prompt 32] [--gen-tokens 32]
                                    [--threads 2] [--iters 3]
"""
import argparse
import json
import os
import statistics
import time

import torch
from transformers import AutoModelForCausalLM


def median_time(fn, iters):
    fn()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--gen-prompt", type=int, default=32)
    ap.add_argument("--gen-tokens", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    folder, name = os.path.split(os.path.abspath(a.model))
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32).eval()
    vocab = model.config.vocab_size
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, vocab, (a.batch, a.seq), generator=g)
    prompt = torch.randint(0, vocab, (a.batch, a.gen_prompt), generator=g)
    mask = torch.ones_like(prompt)

    def forward():
        with torch.no_grad():
            model(ids).logits[0, 0, 0].item()

    def generate(cache):
        with torch.no_grad():
            model.generate(prompt, attention_mask=mask, max_new_tokens=a.gen_tokens, min_new_tokens=a.gen_tokens,
                           do_sample=False, use_cache=cache, pad_token_id=0)

    fwd = median_time(forward, a.iters)
    gen = median_time(lambda: generate(True), a.iters)
    nocache = median_time(lambda: generate(False), a.iters)
    new_tokens = a.batch * a.gen_tokens
    print(json.dumps({
        "name": "transformers_forward", "torch": torch.__version__, "threads": torch.get_num_threads(),
        "batch": a.batch, "seq": a.seq, "gen_prompt": a.gen_prompt, "gen_tokens": a.gen_tokens,
        "forward_tokens_per_s": a.batch * a.seq / fwd,
        "generate_tokens_per_s": new_tokens / gen,
        "generate_nocache_tokens_per_s": new_tokens / nocache,
    }))


if __name__ == "__main__":
    main()
