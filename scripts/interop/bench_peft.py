#!/usr/bin/env python3
"""PEFT + torch adapter training step time on the configuration `peft4j bench train` measures, for its printed ratio.

Loads the GGUF in fp32 (transformers gguf_file=), adds a PEFT LoRA (r, alpha, target modules or a full-match
regex, dropout (default 0), optionally rsLoRA / DoRA: the same LoRA options `peft4j bench train` takes) or, with
--method prompt-tuning | prefix-tuning, a soft prompt of --num-virtual-tokens (random init), trains on
seeded random ids [batch, seq] with labels = ids and torch.optim.AdamW (lr 1e-4) over the trainable parameters,
torch.set_num_threads(THREADS); one warm-up step, then the median of STEPS steps (forward, backward, step,
zero_grad). With --alternate the timed steps are asked for one at a time on stdin (JSON lines: {"ready": true}
after the warm-up, {"step_s": S} per step, the summary when stdin closes), so that peft4j's steps alternate with
ours and machine load hits both alike. With --gradient-checkpointing, transformers' gradient_checkpointing_enable
(non-reentrant) is on.
peak_rss_mb is this process's peak resident memory (VmHWM, model load included; not ru_maxrss, which Linux carries
over execve from the JVM that spawned us). The last stdout line is one
JSON object.

--synthetic NAME with the shape (--layers, --hidden, --intermediate, --heads, --kv-heads, --vocab, [--tied],
--rope-theta, --rms-eps; `peft4j bench train --synthetic` passes the shape it builds, so the shape list lives in one
place, SyntheticWeights.SHAPES) builds a LlamaForCausalLM on the meta device and materializes it one tensor at a time
with seeded random weights of the distributions peft4j's SyntheticWeights draws (projections uniform with std
1/sqrt(in), norms 1 +- 0.05, embedding and lm_head std 0.02): with --quantization nf4 (the default) each projection
becomes a bitsandbytes Linear4bit (NF4, double quantization, fp32 compute), quantized on the CPU as soon as it is
drawn, as `BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
bnb_4bit_compute_dtype=float32)` would load it, so the model never exists in fp32; then
prepare_model_for_kbit_training; --quantization none keeps the projections fp32. The fp32 copy is never doubled.

Usage: python bench_peft.py --model GGUF [--method lora | prompt-tuning | prefix-tuning] [--num-virtual-tokens 20]
                            [--batch 4] [--seq 256] [--r 16] [--alpha 32] [--dropout 0]
                            [--target-modules all-linear | --target-regex REGEX] [--use-rslora] [--use-dora]
                            [--steps 3] [--threads 2] [--gradient-checkpointing]
       python bench_peft.py --synthetic NAME --layers N --hidden H --intermediate I --heads A --kv-heads K
                            --vocab V [--tied] [--rope-theta 10000] [--rms-eps 1e-5] [--quantization nf4 | none] ...
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

PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def peak_rss_mb():
    """VmHWM of this process in MiB (the peak resident set of this program's own address space)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return None


def synthetic_model(a):
    """A LlamaForCausalLM of the --synthetic shape with seeded random weights, projections in NF4 (or fp32)."""
    from transformers import LlamaConfig, LlamaForCausalLM
    config = LlamaConfig(vocab_size=a.vocab, hidden_size=a.hidden, intermediate_size=a.intermediate,
                         num_hidden_layers=a.layers, num_attention_heads=a.heads, num_key_value_heads=a.kv_heads,
                         rms_norm_eps=a.rms_eps, rope_theta=a.rope_theta, max_position_embeddings=max(2048, a.seq),
                         tie_word_embeddings=a.tied, bos_token_id=1, eos_token_id=2)
    with torch.device("meta"):
        model = LlamaForCausalLM(config)
    gen = torch.Generator().manual_seed(1234)

    def uniform(shape, mean, std):
        half = std * 3 ** 0.5                      # uniform on [-half, half] has this std
        return torch.empty(shape).uniform_(mean - half, mean + half, generator=gen)

    if a.quantization == "nf4":
        import bitsandbytes as bnb
    for name, module in list(model.named_modules()):
        parent_name, _, child = name.rpartition(".")
        if child in PROJECTIONS:
            w = uniform(module.weight.shape, 0.0, module.in_features ** -0.5)
            if a.quantization == "nf4":
                q = bnb.nn.Linear4bit(module.in_features, module.out_features, bias=False,
                                      compute_dtype=torch.float32, compress_statistics=True, quant_type="nf4",
                                      device="cpu")
                q.weight = bnb.nn.Params4bit(w, requires_grad=False, compress_statistics=True,
                                             quant_type="nf4")._quantize("cpu")
                del w
                setattr(model.get_submodule(parent_name), child, q)
            else:
                module.weight = torch.nn.Parameter(w, requires_grad=False)
        elif child.endswith("norm"):
            module.weight = torch.nn.Parameter(uniform(module.weight.shape, 1.0, 0.05), requires_grad=False)
    emb = model.model.embed_tokens
    emb.weight = torch.nn.Parameter(uniform(emb.weight.shape, 0.0, 0.02), requires_grad=False)
    if a.tied:
        model.lm_head.weight = emb.weight
    else:
        model.lm_head.weight = torch.nn.Parameter(uniform(model.lm_head.weight.shape, 0.0, 0.02),
                                                  requires_grad=False)
    # the rotary inv_freq buffer is not a weight: rebuild the module on the CPU
    with torch.device("cpu"):
        model.model.rotary_emb = type(model.model.rotary_emb)(config=config)
    leftover = [n for n, t in list(model.named_parameters()) + list(model.named_buffers()) if t.is_meta]
    if leftover:
        raise SystemExit("synthetic model: tensors left on the meta device: " + ", ".join(leftover[:5]))
    if a.quantization == "nf4":
        model.is_loaded_in_4bit = True               # what from_pretrained(quantization_config=...) sets
        from peft import prepare_model_for_kbit_training
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=a.gradient_checkpointing,
                                                gradient_checkpointing_kwargs={"use_reentrant": False})
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model")
    ap.add_argument("--synthetic", default=None, help="a name for a model of the shape below, random weights")
    ap.add_argument("--layers", type=int)
    ap.add_argument("--hidden", type=int)
    ap.add_argument("--intermediate", type=int)
    ap.add_argument("--heads", type=int)
    ap.add_argument("--kv-heads", type=int)
    ap.add_argument("--vocab", type=int)
    ap.add_argument("--tied", action="store_true")
    ap.add_argument("--rope-theta", type=float, default=10000.0)
    ap.add_argument("--rms-eps", type=float, default=1e-5)
    ap.add_argument("--quantization", default="nf4", choices=["nf4", "none"])
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
    ap.add_argument("--alternate", action="store_true", help="after the warm-up step print {\"ready\": true}, then run "
                    "one step per 'step' line on stdin and print {\"step_s\": S} for it; the summary follows when "
                    "stdin closes (peft4j's bench train interleaves its own steps with these)")
    ap.add_argument("--rows", default=None, help="JSON list of {ids, labels, positions} rows (labels -100 = not "
                    "trained) to train on instead of random tokens, batch rows per step, warm-up first")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if (a.model is None) == (a.synthetic is None):
        ap.error("exactly one of --model and --synthetic")
    if a.synthetic is not None:
        missing = [k for k in ("layers", "hidden", "intermediate", "heads", "kv_heads", "vocab")
                   if getattr(a, k) is None]
        if missing:
            ap.error("--synthetic needs --" + ", --".join(m.replace("_", "-") for m in missing))
        if a.method != "lora":
            ap.error("--synthetic measures LoRA only")
        t0 = time.perf_counter()
        base = synthetic_model(a)
        build_s = time.perf_counter() - t0
        rss_after_build = peak_rss_mb()
    else:
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
    if a.gradient_checkpointing and not (a.synthetic is not None and a.quantization == "nf4"):
        # (prepare_model_for_kbit_training already enabled it for the NF4 synthetic model)
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
    if a.alternate:
        print(json.dumps({"ready": True}), flush=True)
        times = []
        for line in sys.stdin:
            if line.strip() != "step":
                break
            if rows is not None and taken[0] + a.batch > len(rows):
                sys.exit(f"--rows holds {len(rows)} rows, too few for step {len(times) + 1}")
            times.append(step())
            print(json.dumps({"step_s": times[-1]}), flush=True)
        if not times:
            sys.exit("--alternate: no step was asked for")
    else:
        times = [step() for _ in range(a.steps)]
    s = statistics.median(times)
    extra = {}
    if a.synthetic is not None:
        extra = {"model": "synthetic:" + a.synthetic, "build_s": build_s, "peak_rss_after_build_mb": rss_after_build,
                 "quantization": "nf4-double-quant (bitsandbytes " + __import__("bitsandbytes").__version__ + ")"
                 if a.quantization == "nf4" else "none (fp32)"}
    print(json.dumps({"name": "peft_train", **extra, "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "batch": a.batch, "seq": a.seq, "method": a.method, "r": a.r,
                      "data": "random" if rows is None else os.path.basename(a.rows),
                      "target_modules": a.target_regex if a.target_regex is not None else a.target_modules,
                      "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
                      "gradient_checkpointing": a.gradient_checkpointing, "alternated": a.alternate,
                      "steps_s": times,
                      "peak_rss_mb": peak_rss_mb(),
                      "step_s": s, "tokens_per_s": a.batch * a.seq / s}))


if __name__ == "__main__":
    main()
