#!/usr/bin/env python3
"""llama.cpp's single-stream decode on the GGUF, prompt and thread count `peft4j bench decode` measures.

Loads the GGUF with llama-cpp-python (Llama(model_path, n_threads=T, n_threads_batch=T, n_ctx=prompt+new+8)),
then per run: reset, eval the prompt ids (prefill, timed), then NEW greedy tokens one at a time (argmax of the
last logits, eval the token; timed from the first to the last new token, as peft4j's bench does). One warm-up,
median of ITERS. Peak RSS is this process's VmHWM: not ru_maxrss, which Linux carries over from the JVM that
spawned this process (exec keeps the parent's high-water mark when the JVM forks with vfork semantics), so it
reported the JVM's own peak. The last stdout line is one JSON object.

llama-cpp-python is pinned in requirements-llamacpp.txt, not requirements.txt: PyPI ships only its source, and
building llama.cpp takes 10-15 minutes of the 2-core CI machine. `bash scripts/interop/setup-python.sh
--with-llama-cpp` installs it into the reference venv; without it this script prints {"skipped": "..."} and exits 0,
and the bench says why there is no ratio.

Usage: python bench_llamacpp.py --model GGUF --prompt-ids 1,2,3 [--new-tokens 64] [--threads 2] [--iters 3]
"""
import argparse
import json
import statistics
import time


def peak_rss_mb():
    """VmHWM of this process in MiB (the peak resident set of this program's own address space)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--prompt-ids", required=True)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=3)
    a = ap.parse_args()
    try:
        from llama_cpp import Llama
        import llama_cpp
    except ImportError:
        print(json.dumps({"skipped": "llama-cpp-python is not installed in the reference venv: run "
                                     "bash scripts/interop/setup-python.sh --with-llama-cpp (a source build "
                                     "of llama.cpp, 10-15 minutes the first time)"}))
        return
    import numpy as np

    ids = [int(t) for t in a.prompt_ids.split(",")]
    llm = Llama(model_path=a.model, n_threads=a.threads, n_threads_batch=a.threads,
                n_ctx=len(ids) + a.new_tokens + 8, n_batch=512, verbose=False, logits_all=False)

    def run():
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(ids)
        tok = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        t_first = time.perf_counter()
        for _ in range(a.new_tokens - 1):
            llm.eval([tok])
            tok = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        t_last = time.perf_counter()
        return t_first - t0, t_last - t_first

    run()
    runs = [run() for _ in range(a.iters)]
    prefill = statistics.median(r[0] for r in runs)
    decode = statistics.median(r[1] for r in runs)
    print(json.dumps({
        "version": llama_cpp.__version__,
        "prefill_tokens_per_s": len(ids) / prefill,
        "decode_tokens_per_s": (a.new_tokens - 1) / decode,
        "peak_rss_mb": peak_rss_mb(),
    }))


if __name__ == "__main__":
    main()
