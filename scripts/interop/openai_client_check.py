#!/usr/bin/env python3
"""Talks to a running `peft4j serve` with the official `openai` package, as an existing client would.

Lists models, sends a completion, a chat completion, a streamed completion and a streamed chat completion, one
completion per adapter (two adapters), then loads a third adapter at runtime, uses it and unloads it (vLLM's
/v1/load_lora_adapter and /v1/unload_lora_adapter, sent with the client's own HTTP session). Prints one JSON object
on the last stdout line with what came back; exits 1 with a message when any step fails.

usage: openai_client_check.py BASE_URL BASE_MODEL ADAPTER1 ADAPTER2 NEW_NAME NEW_PATH [API_KEY]
"""
import json
import sys

import openai


def main():
    base_url, base, a1, a2, new_name, new_path = sys.argv[1:7]
    key = sys.argv[7] if len(sys.argv) > 7 else "none"
    client = openai.OpenAI(base_url=base_url + "/v1", api_key=key, max_retries=0, timeout=600)
    out = {"openai_version": openai.__version__}

    models = [m.id for m in client.models.list().data]
    out["models"] = models
    assert base in models and a1 in models and a2 in models, models

    c = client.completions.create(model=base, prompt="The capital of France is", max_tokens=4, temperature=0)
    out["completion"] = c.choices[0].text
    out["completion_finish"] = c.choices[0].finish_reason
    assert c.usage.completion_tokens >= 1 and c.choices[0].finish_reason in ("stop", "length"), c

    chat = client.chat.completions.create(model=base, messages=[{"role": "user", "content": "Say hi."}],
                                          max_tokens=4, temperature=0)
    out["chat"] = chat.choices[0].message.content
    assert chat.choices[0].message.role == "assistant", chat

    pieces = [ch.choices[0].text for ch in client.completions.create(
        model=base, prompt="The capital of France is", max_tokens=4, temperature=0, stream=True) if ch.choices]
    out["stream"] = "".join(pieces)
    assert out["stream"] == out["completion"], (out["stream"], out["completion"])

    deltas = [ch.choices[0].delta.content or "" for ch in client.chat.completions.create(
        model=base, messages=[{"role": "user", "content": "Say hi."}], max_tokens=4, temperature=0, stream=True)
        if ch.choices]
    out["chat_stream"] = "".join(deltas)
    assert out["chat_stream"] == out["chat"], (out["chat_stream"], out["chat"])

    out["adapters"] = {}
    for name in (a1, a2):
        r = client.completions.create(model=name, prompt="The capital of France is", max_tokens=4, temperature=0)
        out["adapters"][name] = r.choices[0].text
        assert r.model == name, r

    loaded = client.post("/load_lora_adapter", body={"lora_name": new_name, "lora_path": new_path},
                         cast_to=str)
    out["load"] = loaded
    assert new_name in [m.id for m in client.models.list().data]
    r = client.completions.create(model=new_name, prompt="The capital of France is", max_tokens=4, temperature=0)
    out["adapters"][new_name] = r.choices[0].text
    out["unload"] = client.post("/unload_lora_adapter", body={"lora_name": new_name}, cast_to=str)
    assert new_name not in [m.id for m in client.models.list().data]
    try:
        client.completions.create(model=new_name, prompt="x", max_tokens=1)
        raise AssertionError("an unloaded adapter still answered")
    except openai.NotFoundError as e:
        out["after_unload_status"] = e.status_code
    try:
        client.completions.create(model=base, prompt="x", max_tokens=1, temperature=-3)
        raise AssertionError("temperature -3 was accepted")
    except openai.BadRequestError as e:
        out["bad_request_param"] = e.body.get("param") if isinstance(e.body, dict) else None
    print(json.dumps(out))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # one clear line for the Java test's failure message
        print(f"openai_client_check failed: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
