#!/usr/bin/env python3
"""Expected token ids for peft4j's TokenizerInteropIT, produced by Python transformers.

Encodes a fixed sample list with
  * the SmolLM2 GGUF tokenizer: AutoTokenizer.from_pretrained(folder, gguf_file=name)
  * ../shared/tokenizers/llama2-32k: AutoTokenizer.from_pretrained(folder)
  * a synthetic SentencePiece ("llama") GGUF written here from llama2-32k's vocabulary with made-up scores,
    so the merges-from-scores path of transformers' GGUF converter is checked too (the rule for the
    synthetic scores/types is repeated in the Java test)
with and without special tokens, plus decode with and without skipping special tokens.

Usage: ~/.cache/peft4j/venv/bin/python scripts/interop/tokenizer_reference.py [GGUF] [SHARED] [OUT]
"""
import json
import os
import sys
import tempfile

import transformers
from transformers import AutoTokenizer

SAMPLES = [
    "Hello world! This is a test.",
    "Café naïve résumé façade, Zürich, São Paulo, Ångström.",
    "日本語のテキストと中文文本。한국어도 있어요.",
    "Emoji: 😀👍🏽 🚀 ❤️ 🇫🇷",
    "def add(a, b):\n\treturn a + b\n\nprint(add(1, 2))\n",
    "many    spaces\t\ttabs\n\n\nnewlines   ",
    "   leading and trailing spaces   ",
    "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
    "<s>Hello</s> world</s>",
    "12345 3.14159 and 1,000,000",
    "unknown <unk> token and <|endoftext|> marker",
    " ",
    "",
]


def encode_all(tok):
    out = []
    for text in SAMPLES:
        with_special = tok(text, add_special_tokens=True)["input_ids"]
        without = tok(text, add_special_tokens=False)["input_ids"]
        out.append({
            "text": text,
            "ids": with_special,
            "ids_no_special": without,
            "decode": tok.decode(with_special, skip_special_tokens=False),
            "decode_skip_special": tok.decode(with_special, skip_special_tokens=True),
        })
    return out


def describe(tok):
    return {
        "vocab_size": len(tok),
        "bos_token_id": tok.bos_token_id,
        "eos_token_id": tok.eos_token_id,
        "pad_token_id": tok.pad_token_id,
        "chat_template": tok.chat_template,
        "encodings": encode_all(tok),
    }


def synthetic_llama_gguf(llama_dir, folder):
    """A tokenizer-only GGUF from llama2-32k's vocabulary. Rule (mirrored in the Java test): token_type 2 for
    <unk>, 3 for <s> and </s>, 6 for <0xNN> byte tokens, 1 otherwise; score 0 for types 2/3/6, else -id."""
    import gguf

    with open(os.path.join(llama_dir, "tokenizer.json"), encoding="utf-8") as f:
        vocab = json.load(f)["model"]["vocab"]
    tokens = [None] * len(vocab)
    for token, index in vocab.items():
        tokens[index] = token
    types, scores = [], []
    for index, token in enumerate(tokens):
        if token == "<unk>":
            kind = 2
        elif token in ("<s>", "</s>"):
            kind = 3
        elif len(token) == 6 and token.startswith("<0x") and token.endswith(">"):
            kind = 6
        else:
            kind = 1
        types.append(kind)
        scores.append(0.0 if kind != 1 else float(-index))
    path = os.path.join(folder, "synthetic-llama.gguf")
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def main():
    gguf_path = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser(
        "~/.cache/peft4j/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    shared = sys.argv[2] if len(sys.argv) > 2 else "../shared"
    out = sys.argv[3] if len(sys.argv) > 3 else "peft-core/src/test/resources/interop/tokenizer_reference.json"
    llama_dir = os.path.join(shared, "tokenizers", "llama2-32k")

    gguf_tok = AutoTokenizer.from_pretrained(os.path.dirname(os.path.abspath(gguf_path)),
                                             gguf_file=os.path.basename(gguf_path))
    llama_tok = AutoTokenizer.from_pretrained(llama_dir)
    with tempfile.TemporaryDirectory() as folder:
        synthetic = synthetic_llama_gguf(llama_dir, folder)
        synthetic_tok = AutoTokenizer.from_pretrained(folder, gguf_file=os.path.basename(synthetic))
        synthetic_result = describe(synthetic_tok)

    result = {
        "generator": "scripts/interop/tokenizer_reference.py",
        "transformers": transformers.__version__,
        "samples": SAMPLES,
        "gguf": dict(describe(gguf_tok), file=os.path.basename(gguf_path)),
        "llama2-32k": describe(llama_tok),
        "synthetic-llama-gguf": synthetic_result,
    }
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=True, indent=1)
    print(out)


if __name__ == "__main__":
    main()
