#!/usr/bin/env python3
"""Python PEFT as the independent reference for peft4j's LoRA adapter files (LoraInteropIT).

  create OUT_DIR   Loads the GGUF test model with transformers (gguf_file=, fp32), adds a PEFT LoRA (r=8, alpha=16,
                   q_proj/v_proj, init_lora_weights=False so B is non-zero, torch seed 0), saves it with
                   save_pretrained(OUT_DIR) and writes the logits for IDS to OUT_DIR/logits.f32.
  check ADAPTER_DIR OUT_FILE
                   Loads the base model, then PeftModel.from_pretrained(ADAPTER_DIR); writes the logits for IDS to
                   OUT_FILE and prints one JSON line: missing/unexpected adapter keys and the logits shape.

Logits are raw little-endian float32, shape [1, len(IDS), vocab]. The model path comes from PEFT4J_TEST_MODEL or
~/.cache/peft4j/models/SmolLM2-135M-Instruct.Q4_1.gguf. Usage:
  ~/.cache/peft4j/venv/bin/python scripts/interop/peft_reference.py create /tmp/py-adapter
"""
import json
import os
import sys

import torch
from transformers import AutoModelForCausalLM

IDS = [1, 504, 3458, 314, 253, 1345, 28, 1007]


def base_model():
    default = os.path.expanduser("~/.cache/peft4j/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    path = os.path.abspath(os.environ.get("PEFT4J_TEST_MODEL", default))
    model = AutoModelForCausalLM.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path),
                                                 dtype=torch.float32)
    model.eval()
    return model


def write_logits(model, out_file):
    with torch.no_grad():
        logits = model(torch.tensor([IDS])).logits.to(torch.float32).contiguous()
    with open(out_file, "wb") as f:
        f.write(logits.numpy().astype("<f4").tobytes())
    return list(logits.shape)


def create(out_dir):
    from peft import LoraConfig, get_peft_model
    torch.manual_seed(0)
    config = LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], lora_dropout=0.0,
                        init_lora_weights=False, task_type="CAUSAL_LM")
    model = get_peft_model(base_model(), config)
    model.eval()
    model.save_pretrained(out_dir)
    shape = write_logits(model, os.path.join(out_dir, "logits.f32"))
    print(json.dumps({"adapter_dir": out_dir, "shape": shape}))


def check(adapter_dir, out_file):
    from peft import PeftModel
    from peft.utils import set_peft_model_state_dict
    from safetensors.torch import load_file
    model = PeftModel.from_pretrained(base_model(), adapter_dir)
    model.eval()
    # load the file again to collect PEFT's own report of missing/unexpected keys for this adapter
    result = set_peft_model_state_dict(model, load_file(os.path.join(adapter_dir, "adapter_model.safetensors")))
    missing = [k for k in result.missing_keys if "lora_" in k or "modules_to_save" in k]
    shape = write_logits(model, out_file)
    print(json.dumps({"missing": missing, "unexpected": list(result.unexpected_keys), "shape": shape}))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "create":
        create(sys.argv[2])
    elif len(sys.argv) >= 4 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
