#!/usr/bin/env python3
"""trl as the independent reference for peft4j's preference objectives (PreferenceInteropIT).

  dpo_reference.py ADAPTER_DIR PAIRS_JSON BETA [GRADS_DIR]
      Loads the GGUF test model with transformers (gguf_file=, fp32) and the LoRA adapter in ADAPTER_DIR with PEFT
      (is_trainable), reads pairs [{"prompt_ids": [...], "chosen_ids": [...], "rejected_ids": [...]}, ...], and for
      loss_type sigmoid, ipo and hinge runs trl's DPOTrainer loss (reference = the same model with the adapter
      disabled) on ONE batch of all pairs built by trl's own collator; for ORPO, trl's ORPOTrainer
      get_batch_loss_metrics on the same pairs. Prints one JSON line: {"sigmoid": {"loss": .., "rewards/chosen": ..,
      ...}, "ipo": {...}, "hinge": {...}, "orpo": {...}, "trl": VERSION}.
      With GRADS_DIR, each loss is also back-propagated (dropout off, nothing stepped) and the gradient of every
      trainable adapter weight is written to GRADS_DIR/<loss>.safetensors under the key PEFT saves that weight with
      (base_model.model.<module>.lora_A.weight, no adapter name).

The model path comes from PEFT4J_TEST_MODEL or ~/.cache/peft4j/models/SmolLM2-135M-Instruct.Q4_1.gguf.
"""
import json
import os
import sys
import tempfile

import torch


def model_path():
    default = os.path.expanduser("~/.cache/peft4j/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    return os.path.abspath(os.environ.get("PEFT4J_TEST_MODEL", default))


def load(adapter_dir):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer
    path = model_path()
    base = AutoModelForCausalLM.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path),
                                                dtype=torch.float32)
    # transformers dequantizes the GGUF weights to fp32 on load but still flags the model as GGUF-quantized, which
    # its Trainer refuses to train; the weights are plain fp32 tensors, so drop the flag
    base.hf_quantizer = None
    base.is_quantized = False
    if hasattr(base.config, "quantization_config"):
        del base.config.quantization_config
    tok = AutoTokenizer.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path))
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model = PeftModel.from_pretrained(base, adapter_dir, is_trainable=True)
    model.eval()
    return model, tok


def tiny_dataset():
    from datasets import Dataset
    return Dataset.from_list([{"prompt": "Hi", "chosen": " yes", "rejected": " no"}])


def saved_key(name):
    """PEFT's parameter name -> the key it saves the weight under (the adapter name dropped)."""
    return name.replace(".default.", ".")


def loss_and_grads(model, compute):
    """compute() -> (loss, metrics) with autograd on; returns them and {saved key: gradient}."""
    model.zero_grad(set_to_none=True)
    loss, metrics = compute()
    loss.backward()
    grads = {saved_key(n): p.grad.detach().clone().contiguous() for n, p in model.named_parameters()
             if p.requires_grad and p.grad is not None}
    model.zero_grad(set_to_none=True)
    return loss, metrics, grads


def run(model, compute, grads_file):
    """compute() with no gradients, or with them when grads_file is given (written there as safetensors)."""
    if grads_file is None:
        with torch.no_grad():
            return compute()
    from safetensors.torch import save_file
    loss, metrics, grads = loss_and_grads(model, compute)
    save_file(grads, grads_file)
    return loss.detach(), metrics


def dpo(model, tok, pairs, loss_type, beta, out_dir, grads_file=None):
    from trl import DPOConfig, DPOTrainer
    args = DPOConfig(output_dir=out_dir, beta=beta, loss_type=[loss_type], max_length=None, report_to=[],
                     per_device_train_batch_size=len(pairs), use_cpu=True, bf16=False)
    trainer = DPOTrainer(model=model, args=args, train_dataset=tiny_dataset(), processing_class=tok)
    # trl 1.16 copies a pre-existing adapter into a frozen "ref" adapter and uses it as the reference; peft4j's
    # reference is the base with the adapters disabled (trl's own path for a fresh adapter, where both agree).
    # Without "ref", trl's _compute_loss takes that path, so the same reference is compared.
    if "ref" in model.peft_config:
        model.delete_adapter("ref")
    model.set_adapter("default")
    batch = trainer.data_collator([dict(p) for p in pairs])
    model.eval()
    loss, _ = run(model, lambda: (trainer.compute_loss(model, batch), None), grads_file)
    out = {"loss": float(loss)}
    for k, v in trainer._metrics["eval"].items():
        if k.startswith("rewards/") or k.startswith("logps/"):
            out[k] = float(v[-1])
    return out


def pad(rows, value):
    n = max(len(r) for r in rows)
    return torch.tensor([r + [value] * (n - len(r)) for r in rows])


def orpo(model, tok, pairs, beta, out_dir, grads_file=None):
    from trl.experimental.orpo import ORPOConfig, ORPOTrainer
    args = ORPOConfig(output_dir=out_dir, beta=beta, max_length=None, report_to=[],
                      per_device_train_batch_size=len(pairs), use_cpu=True, bf16=False)
    trainer = ORPOTrainer(model=model, args=args, train_dataset=tiny_dataset(), processing_class=tok)
    pid = tok.pad_token_id
    batch = {}
    for side in ("chosen", "rejected"):
        ids = [p["prompt_ids"] + p[side + "_ids"] for p in pairs]
        labels = [[-100] * len(p["prompt_ids"]) + p[side + "_ids"] for p in pairs]
        batch[side + "_input_ids"] = pad(ids, pid)
        batch[side + "_attention_mask"] = pad([[1] * len(r) for r in ids], 0)
        batch[side + "_labels"] = pad(labels, -100)
    batch["prompt_input_ids"] = pad([p["prompt_ids"] for p in pairs], pid)
    batch["prompt_attention_mask"] = pad([[1] * len(p["prompt_ids"]) for p in pairs], 0)
    model.eval()
    loss, metrics = run(model, lambda: trainer.get_batch_loss_metrics(model, batch, "train"), grads_file)
    out = {"loss": float(loss)}
    for k, v in metrics.items():
        if k.split("/")[0] in ("rewards", "logps") or k in ("nll_loss", "log_odds_ratio", "log_odds_chosen"):
            out[k] = float(v)
    return out


def main(adapter_dir, pairs_file, beta, grads_dir=None):
    import trl
    with open(pairs_file) as f:
        pairs = json.load(f)
    model, tok = load(adapter_dir)
    result = {"trl": trl.__version__}
    def grads(name):
        return None if grads_dir is None else os.path.join(grads_dir, name + ".safetensors")
    with tempfile.TemporaryDirectory() as tmp:
        for loss_type in ("sigmoid", "ipo", "hinge"):
            result[loss_type] = dpo(model, tok, pairs, loss_type, beta, tmp, grads(loss_type))
        result["orpo"] = orpo(model, tok, pairs, beta, tmp, grads("orpo"))
    print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4] if len(sys.argv) == 5 else None)
