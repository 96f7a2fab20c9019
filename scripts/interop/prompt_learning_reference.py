#!/usr/bin/env python3
"""Python PEFT's held-out loss after prompt learning, the reference of PromptLearningProofIT.

  train SPEC_JSON
      SPEC_JSON holds {"methods": [{"method": "PROMPT_TUNING" | "PREFIX_TUNING" | "PREFIX_PROJECTION", "lr"}, ...],
      "num_virtual_tokens",
      "init_text" (prompt tuning's TEXT init, tokenized by the GGUF's own tokenizer as PEFT does), "batch_size",
      "steps", "pad_id", "train": [{"ids": [...], "labels": [...]}, ...], "eval": [...]} with labels -100 on
      untrained positions. Loads the GGUF test model with transformers (fp32) once; for each method, on its own
      deep copy of it, adds the PEFT adapter (torch seed 0), and trains exactly as
      peft4j's Trainer is configured by the IT: batches of batch_size rows in file order (cycling), right padding,
      AdamW (betas 0.9/0.999, eps 1e-8, no weight decay), linear decay to 0 without warmup, gradient norm clipped to
      1.0, the loss being the mean over every trained token of the batch. Prints one JSON line: per method, the
      held-out loss (token-weighted mean over every trained token of "eval") before and after training, the
      train losses, and the seconds spent ("load": imports and the model load, shared; "train": the method's
      evaluations and training).

The model path comes from PEFT4J_TEST_MODEL or ~/.cache/peft4j/models/SmolLM2-135M-Instruct.Q4_1.gguf. Usage:
  ~/.cache/peft4j/venv/bin/python scripts/interop/prompt_learning_reference.py train /tmp/spec.json
"""
import copy
import json
import os
import sys
import time

START = time.time()
import torch  # noqa: E402 (imports timed)
import torch.nn.functional as F  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402


def model_path():
    default = os.path.expanduser("~/.cache/peft4j/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    return os.path.abspath(os.environ.get("PEFT4J_TEST_MODEL", default))


def batch(rows, pad_id):
    width = max(len(r["ids"]) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        n = len(r["ids"])
        ids[i, :n] = torch.tensor(r["ids"])
        labels[i, :n] = torch.tensor(r["labels"])
        mask[i, :n] = 1
    return ids, labels, mask


def token_loss_sum(model, rows, pad_id):
    """Sum of next-token cross-entropies over trained positions, and their count."""
    ids, labels, mask = batch(rows, pad_id)
    logits = model(input_ids=ids, attention_mask=mask).logits
    if logits.shape[1] != ids.shape[1]:      # prompt tuning returns the virtual positions too
        logits = logits[:, -ids.shape[1]:, :]
    shift_logits = logits[:, :-1, :].reshape(-1, logits.shape[-1]).float()
    shift_labels = labels[:, 1:].reshape(-1)
    loss = F.cross_entropy(shift_logits, shift_labels, ignore_index=-100, reduction="sum")
    return loss, int((shift_labels != -100).sum())


def held_out(model, rows, pad_id, size):
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(rows), size):
            s, n = token_loss_sum(model, rows[i:i + size], pad_id)
            total += float(s)
            count += n
    return total / count


def train(spec_file):
    with open(spec_file) as f:
        spec = json.load(f)
    import peft  # noqa: F401 (imported before the load is timed)
    path = model_path()
    base = AutoModelForCausalLM.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path),
                                                dtype=torch.float32)
    load = time.time() - START
    results = {}
    for m in spec["methods"]:
        start = time.time()
        results[m["method"]] = train_one(spec, m["method"], m["lr"], copy.deepcopy(base))
        results[m["method"]]["seconds"] = {"load": load, "train": time.time() - start}
    print(json.dumps(results))


def train_one(spec, method, lr, base):
    from peft import PrefixTuningConfig, PromptTuningConfig, get_peft_model
    path = model_path()
    torch.manual_seed(0)
    if method == "PROMPT_TUNING":
        config = PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=spec["num_virtual_tokens"],
                                    prompt_tuning_init="TEXT", prompt_tuning_init_text=spec["init_text"],
                                    tokenizer_name_or_path=os.path.dirname(path),
                                    tokenizer_kwargs={"gguf_file": os.path.basename(path)})
    else:
        config = PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=spec["num_virtual_tokens"],
                                    prefix_projection=method == "PREFIX_PROJECTION")
    model = get_peft_model(base, config)
    pad_id, size, steps = spec["pad_id"], spec["batch_size"], spec["steps"]
    model.eval()                     # no dropout anywhere, as in the IT
    before = held_out(model, spec["eval"], pad_id, size)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, 1.0 - s / steps))
    rows = spec["train"]
    losses = []
    for step in range(steps):
        start = (step * size) % len(rows)
        chunk = [rows[(start + i) % len(rows)] for i in range(size)]
        s, n = token_loss_sum(model, chunk, pad_id)
        loss = s / n
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        losses.append(float(loss))
    after = held_out(model, spec["eval"], pad_id, size)
    return {"held_out_before": before, "held_out_after": after, "train_losses": losses}


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "train":
        train(sys.argv[2])
    else:
        sys.exit(__doc__)
