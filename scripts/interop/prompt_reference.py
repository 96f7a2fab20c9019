#!/usr/bin/env python3
"""Python PEFT as the independent reference for peft4j's prompt-learning adapter files (PromptTuningInteropIT).

  create OUT_DIR INIT [TEXT]
                   Loads the GGUF test model with transformers (gguf_file=, fp32), adds a PEFT PROMPT_TUNING adapter
                   (num_virtual_tokens=8, prompt_tuning_init=INIT: RANDOM | SAMPLE_VOCAB | TEXT; for TEXT the tokenizer
                   is the GGUF's own, through tokenizer_kwargs={"gguf_file": ...}; torch seed 0) or, for INIT P_TUNING,
                   a P_TUNING adapter (MLP encoder, encoder_hidden_size=64, run once so the saved
                   prompt_embeddings are the encoder's output), or, for INIT PREFIX_TUNING, a PREFIX_TUNING adapter
                   (the prefix itself, nn.Embedding's standard normal init) and, for INIT PREFIX_PROJECTION, one with
                   prefix_projection=True and encoder_hidden_size=64 (saved as the projection's output), saves it with
                   save_pretrained(OUT_DIR) and writes the logits of the IDS positions (the virtual positions
                   stripped; prefix tuning has none) to OUT_DIR/logits.f32.
  check ADAPTER_DIR OUT_FILE
                   Loads the base model, then PeftModel.from_pretrained(ADAPTER_DIR); writes the logits of the IDS
                   positions to OUT_FILE and prints one JSON line: missing / unexpected keys of the adapter file,
                   the largest |difference| between the loaded prompt encoder table and the file, the logits shape.
  batch
                   Reads jobs from stdin, one JSON object a line, and runs each as soon as it arrives, in one process
                   with the GGUF loaded once (each job works on its own deep copy of it; a create job starts from the
                   torch RNG state the single-job form has, so both forms write the same files):
                   {"create": OUT_DIR, "init": INIT, "text": TEXT or null} or {"check": ADAPTER_DIR, "out": OUT_FILE}.
                   After each job prints one JSON line: the single form's line with "job" (the job's index) and
                   "seconds" (the job's own time; the first job's includes the imports and the load) added.
                   PromptTuningInteropIT streams its PEFT-made adapters' jobs first and its trained adapters' checks
                   once it has saved them, so the imports and the load overlap its own work.

Logits are raw little-endian float32, shape [1, len(IDS), vocab]; beside each logits file X.f32 the same forward run in
float64 (rounded to float32) is written to X.fp64.f32, the exact reference both libraries' fp32 results are held to. The model path comes from PEFT4J_TEST_MODEL or
~/.cache/peft4j/models/SmolLM2-135M-Instruct.Q4_1.gguf. Usage:
  ~/.cache/peft4j/venv/bin/python scripts/interop/prompt_reference.py create /tmp/py-prompt TEXT "Answer briefly:"
"""
import copy
import json
import os
import sys
import time

import torch
from transformers import AutoModelForCausalLM

IDS = [1, 504, 3458, 314, 253, 1345, 28, 1007]
VIRTUAL_TOKENS = 8


def model_path():
    default = os.path.expanduser("~/.cache/peft4j/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    return os.path.abspath(os.environ.get("PEFT4J_TEST_MODEL", default))


def base_model():
    path = model_path()
    model = AutoModelForCausalLM.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path),
                                                 dtype=torch.float32)
    model.eval()
    return model


def write_logits(model, out_file):
    """Writes the fp32 logits to out_file and, as the exact reference, the same forward in float64 (rounded to
    float32) to out_file with ".fp64.f32" in place of ".f32". Leaves the model in float64."""
    config = model.active_peft_config
    virtual = 0 if config.peft_type == "PREFIX_TUNING" else config.num_virtual_tokens
    shape = None
    for dtype, name in ((torch.float32, out_file), (torch.float64, out_file[:-len(".f32")] + ".fp64.f32")):
        model.to(dtype)
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([IDS])).logits[:, virtual:, :].to(torch.float32).contiguous()
        with open(name, "wb") as f:
            f.write(logits.numpy().astype("<f4").tobytes())
        shape = list(logits.shape)
    return shape


def seeded_base():
    """The base model loaded as the single-job forms load it (after torch.manual_seed(0)), and the RNG state then."""
    torch.manual_seed(0)
    model = base_model()
    return model, torch.random.get_rng_state()


def create(out_dir, init, text, base=None):
    """base: (model, RNG state) from seeded_base(), or None to load it here."""
    from peft import PrefixTuningConfig, PromptEncoderConfig, PromptTuningConfig, get_peft_model
    model, rng = base if base is not None else seeded_base()
    torch.random.set_rng_state(rng)
    if init in ("P_TUNING", "PREFIX_TUNING", "PREFIX_PROJECTION"):
        if init == "P_TUNING":
            config = PromptEncoderConfig(task_type="CAUSAL_LM", num_virtual_tokens=VIRTUAL_TOKENS,
                                         encoder_hidden_size=64)
        elif init == "PREFIX_TUNING":
            config = PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=VIRTUAL_TOKENS)
        else:
            config = PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=VIRTUAL_TOKENS,
                                        prefix_projection=True, encoder_hidden_size=64)
        model = get_peft_model(model, config)
        model.eval()
        model.save_pretrained(out_dir)
        shape = write_logits(model, os.path.join(out_dir, "logits.f32"))
        return {"adapter_dir": out_dir, "shape": shape}
    kwargs = {}
    if init == "TEXT":
        path = model_path()
        kwargs = dict(prompt_tuning_init_text=text, tokenizer_name_or_path=os.path.dirname(path),
                      tokenizer_kwargs={"gguf_file": os.path.basename(path)})
    config = PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=VIRTUAL_TOKENS, prompt_tuning_init=init,
                                **kwargs)
    model = get_peft_model(model, config)
    model.eval()
    model.save_pretrained(out_dir)
    shape = write_logits(model, os.path.join(out_dir, "logits.f32"))
    return {"adapter_dir": out_dir, "shape": shape}


def check(adapter_dir, out_file, base=None):
    from peft import PeftModel
    from safetensors.torch import load_file
    model = PeftModel.from_pretrained(base if base is not None else base_model(), adapter_dir)
    model.eval()
    saved = load_file(os.path.join(adapter_dir, "adapter_model.safetensors"))
    missing = [] if "prompt_embeddings" in saved else ["prompt_embeddings"]
    unexpected = [k for k in saved if k != "prompt_embeddings"]
    table = model.prompt_encoder["default"].embedding.weight.detach()
    loaded_diff = float((table - saved["prompt_embeddings"]).abs().max()) if not missing else None
    shape = write_logits(model, out_file)
    return {"missing": missing, "unexpected": unexpected, "loaded_max_diff": loaded_diff, "shape": shape}


def batch(lines):
    """Runs the jobs of lines (JSON objects) on one load of the base model; prints a JSON line after each."""
    started = time.time()
    base, rng = seeded_base()
    for index, line in enumerate(line for line in lines if line.strip()):
        job = json.loads(line)
        started = started if index == 0 else time.time()
        model = copy.deepcopy(base)
        if "create" in job:
            result = create(job["create"], job["init"], job.get("text"), (model, rng))
        else:
            result = check(job["check"], job["out"], model)
        result["job"] = index
        result["seconds"] = round(time.time() - started, 1)
        print(json.dumps(result), flush=True)
        del model


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "create":
        print(json.dumps(create(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)))
    elif len(sys.argv) >= 4 and sys.argv[1] == "check":
        print(json.dumps(check(sys.argv[2], sys.argv[3])))
    elif len(sys.argv) == 2 and sys.argv[1] == "batch":
        batch(sys.stdin)
    else:
        sys.exit(__doc__)
