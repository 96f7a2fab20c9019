#!/usr/bin/env python3
"""Expected sliding-window loss for peft4j's PerplexityInteropIT, produced by transformers.

Follows the Hugging Face perplexity guide (https://huggingface.co/docs/transformers/perplexity) but sums the
exact NLL of every predicted token (no per-window averaging), so the result is the token-weighted mean NLL:
for each window [begin, begin + MAX_LENGTH) moved by STRIDE, the tokens after the previous window's end are
scored with the window as context. The model is the SmolLM2 GGUF in fp32.

Usage: ~/.cache/peft4j/venv/bin/python scripts/interop/reference_perplexity.py [GGUF] [OUT_DIR]
"""
import json
import math
import os
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

TEXT = ("The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It is named after "
        "the engineer Gustave Eiffel, whose company designed and built the tower from 1887 to 1889. Locally nicknamed "
        "\"La dame de fer\" (French for \"Iron Lady\"), it was constructed as the centrepiece of the 1889 World's Fair, "
        "and to crown the centennial anniversary of the French Revolution. Although initially criticised by some of "
        "France's leading artists and intellectuals for its design, it has since become a global cultural icon of "
        "France and one of the most recognisable structures in the world.")
WINDOWS = [[64, 32], [48, 48], [512, 256]]


def sliding_loss(model, ids, max_length, stride):
    nll, count, prev_end = 0.0, 0, 0
    n = ids.shape[1]
    for begin in range(0, n, stride):
        end = min(begin + max_length, n)
        first = max(prev_end, begin + 1)
        if first < end:
            with torch.no_grad():
                logits = model(ids[:, begin:end]).logits[0].double()
            logp = torch.log_softmax(logits, -1)
            for k in range(first, end):
                nll -= logp[k - 1 - begin, ids[0, k]].item()
            count += end - first
        prev_end = end
        if end == n:
            break
    return nll / count, count


def main():
    gguf = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
        "PEFT4J_TEST_MODEL", os.path.expanduser("~/.cache/peft4j/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
    out_dir = sys.argv[2] if len(sys.argv) > 2 else "peft-core/src/test/resources/interop"
    folder, name = os.path.split(os.path.abspath(gguf))
    torch.set_num_threads(2)
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32).eval()
    ids = tok(TEXT, return_tensors="pt").input_ids
    results = []
    for max_length, stride in WINDOWS:
        loss, count = sliding_loss(model, ids, max_length, stride)
        results.append({"max_length": max_length, "stride": stride, "loss": loss, "perplexity": math.exp(loss),
                        "tokens": count})
        print(results[-1])
    with open(os.path.join(out_dir, "reference_perplexity.json"), "w") as f:
        json.dump({"model": name, "text": TEXT, "input_ids": ids[0].tolist(), "windows": results}, f, indent=1)


if __name__ == "__main__":
    main()
