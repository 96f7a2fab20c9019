#!/usr/bin/env python3
"""Expected chat-template renders from Python transformers' apply_chat_template (tokenize=False).

Renders the SmolLM2 GGUF's template (tokenizer.chat_template read with the gguf package), TinyLlama's template
(tokenizer_config.json of ../shared/tokenizers/llama2-32k), peft4j's built-in templates and a stress template that
exercises what real templates use (namespace, loop controls, strip/lstrip/rstrip, startswith/endswith, split,
ternaries, negative indexing, raise_exception) over synthetic conversations and the ShareGPT sample.
Synthetic cases store the full expected text; ShareGPT cases (9 KB each) store sha256 + length + head.

usage: ~/.cache/peft4j/venv/bin/python scripts/interop/chat_template_reference.py \
           [--shared ../shared] [--gguf ~/.cache/peft4j/models/SmolLM2-135M-Instruct.Q4_1.gguf] \
           > instruction-datasets/src/test/resources/interop/chat_templates.json
"""
import argparse
import hashlib
import json
import os
import sys

from gguf import GGUFReader
from transformers import AutoTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILT_IN = ["alpaca", "chatml", "llama-2", "llama-3", "mistral", "vicuna", "zephyr"]

STRESS = (
    "{%- set ns = namespace(system='', count=0, last_user=-1) -%}"
    "{%- for m in messages -%}"
    "{%- if m['role'] == 'system' -%}{%- set ns.system = m['content'].strip() -%}{%- continue -%}{%- endif -%}"
    "{%- set ns.count = ns.count + 1 -%}"
    "{%- if m['role'] == 'user' -%}{%- set ns.last_user = loop.index0 -%}{%- endif -%}"
    "{%- endfor -%}\n"
    "{{- bos_token -}}\n"
    "{%- if ns.system -%}[SYS:{{ ns.system|upper }}]{{ '\\n' }}{%- endif -%}\n"
    "{%- for m in messages -%}\n"
    "  {%- if loop.index0 > 40 -%}{%- break -%}{%- endif -%}\n"
    "  {%- if m['role'] == 'system' -%}{%- continue -%}{%- endif -%}\n"
    "  {%- if m['role'] == 'user' -%}\n"
    "    {{- '<u ' ~ loop.index ~ '/' ~ (messages|length) ~ '>' + m['content'].lstrip() + '</u>' -}}\n"
    "  {%- elif m['role'] == 'assistant' -%}\n"
    "    {{- '<a' + (' last' if loop.last else '') + '>' + m['content'].rstrip() -}}\n"
    "    {%- if m['content'].startswith('Yes') %} [affirm]{% endif -%}\n"
    "    {%- if m['content'].endswith('?') %} [question]{% endif -%}\n"
    "    {{- '</a>' + eos_token -}}\n"
    "  {%- else -%}\n"
    "    {{- raise_exception('unknown role: ' + m['role']) -}}\n"
    "  {%- endif -%}\n"
    "  {{- '\\n' -}}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}<a>{%- endif -%}\n"
    "[last={{ messages[-1]['role'] }} words={{ messages[-1]['content'].split()|length }}"
    " tail={{ messages[-1]['content'].split('.')[-1]|trim }} first={{ messages[0]['content'].split(' ')[0] }}"
    " n={{ ns.count }} lu={{ ns.last_user }} up={{ messages[0]['role'].title() }}]\n"
)

SYNTHETIC = {
    "single": {"messages": [{"role": "user", "content": "What is 2+2?"},
                            {"role": "assistant", "content": "4"}], "input": ""},
    "system_multi": {"messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Name a prime."},
        {"role": "assistant", "content": "Yes: 7."},
        {"role": "user", "content": "  Another one?  "},
        {"role": "assistant", "content": "Sure, 11. Want more?"}], "input": ""},
    "prompt_only": {"messages": [{"role": "user", "content": "Write a haiku about rain."}], "input": ""},
    "system_prompt_only": {"messages": [{"role": "system", "content": "Be kind."},
                                        {"role": "user", "content": "Hello there"}], "input": ""},
    "tricky_text": {"messages": [
        {"role": "user", "content": "Literal {{ braces }} and {% tags %}, unicode \u00e9\u4e2d\u6587 \U0001F600,\n"
                                    "tabs\tand\nnewlines"},
        {"role": "assistant", "content": "\n  Indented answer with trailing spaces   \n"}], "input": ""},
    "alpaca_input": {"messages": [{"role": "user", "content": "Translate to French."},
                                  {"role": "assistant", "content": "Bonjour le monde."}],
                     "input": "Hello world."},
    "bad_roles": {"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], "input": ""},
}


def gguf_template(path):
    reader = GGUFReader(path)
    field = reader.fields["tokenizer.chat_template"]
    return bytes(field.parts[field.data[0]]).decode("utf-8")


def folded(conv):
    """peft4j's rule: non-alpaca templates get the input appended to the first user message."""
    msgs = [dict(m) for m in conv["messages"]]
    if conv["input"]:
        for m in msgs:
            if m["role"] == "user":
                m["content"] = m["content"] + "\n\n" + conv["input"]
                break
    return msgs


def render(tok, name, source, conv, gen):
    msgs = conv["messages"] if name == "alpaca" else folded(conv)
    try:
        text = tok.apply_chat_template(msgs, chat_template=source, tokenize=False, add_generation_prompt=gen,
                                       input=conv["input"])
        return {"expected": text}
    except Exception as e:  # jinja2 TemplateError from raise_exception
        return {"error": str(e)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.environ.get("PEFT4J_SHARED", os.path.join(ROOT, "..", "shared")))
    ap.add_argument("--gguf", default=os.environ.get("PEFT4J_TEST_MODEL", os.path.expanduser(
        "~/.cache/peft4j/models/SmolLM2-135M-Instruct.Q4_1.gguf")))
    args = ap.parse_args()
    tok_dir = os.path.join(args.shared, "tokenizers", "llama2-32k")
    tok = AutoTokenizer.from_pretrained(tok_dir)
    with open(os.path.join(tok_dir, "tokenizer_config.json")) as f:
        tinyllama = json.load(f)["chat_template"]
    templates = {"smollm2": gguf_template(args.gguf), "tinyllama": tinyllama, "stress": STRESS}
    for name in BUILT_IN:
        with open(os.path.join(ROOT, "instruction-datasets", "src", "main", "resources", "io", "peft4j",
                               "datasets", "templates", name + ".jinja")) as f:
            templates[name] = f.read()
    with open(os.path.join(args.shared, "datasets", "sharegpt-sample", "conversation.json")) as f:
        roles = {"human": "user", "gpt": "assistant", "system": "system"}
        share = {"messages": [{"role": roles[t["from"]], "content": t["value"]}
                              for t in json.load(f)["conversations"]], "input": ""}
    cases = []
    for name, source in templates.items():
        for conv_id, conv in list(SYNTHETIC.items()) + [("sharegpt", share)]:
            for gen in (False, True):
                case = {"template": name, "conversation": conv_id, "add_generation_prompt": gen}
                result = render(tok, name, source, conv, gen)
                if conv_id == "sharegpt" and "expected" in result:
                    text = result.pop("expected")
                    result.update({"expected_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                                   "expected_length": len(text), "expected_head": text[:120]})
                case.update(result)
                cases.append(case)
    out = {"generator": "scripts/interop/chat_template_reference.py",
           "transformers": __import__("transformers").__version__, "jinja2": __import__("jinja2").__version__,
           "bos_token": tok.bos_token, "eos_token": tok.eos_token,
           "templates": templates, "conversations": SYNTHETIC, "cases": cases}
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
