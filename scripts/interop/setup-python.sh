#!/usr/bin/env bash
# Builds (idempotently) the pinned Python reference venv under ~/.cache/peft4j/venv and prints its python path.
# It is used only by interop tests and peer benchmarks; peft4j itself never runs Python.
# --with-llama-cpp also installs the pinned llama.cpp peer of `bench decode` (requirements-llamacpp.txt; a source
# build of 10-15 minutes the first time, so CI does not ask for it).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
VENV="${PEFT4J_CACHE:-$HOME/.cache/peft4j}/venv"
REQ="$HERE/requirements.txt"
STAMP="$VENV/.peft4j-requirements.sha256"
want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if ! { [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; }; then
  echo "building the reference venv in $VENV (pinned: $REQ) ..." >&2
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ" >&2
  echo "$want" > "$STAMP"
fi
if [ "${1:-}" = "--with-llama-cpp" ] && ! "$VENV/bin/python" -c "import llama_cpp" 2>/dev/null; then
  echo "installing llama-cpp-python into $VENV (a source build: 10-15 minutes the first time) ..." >&2
  CMAKE_ARGS="${CMAKE_ARGS:--DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF}" \
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$HERE/requirements-llamacpp.txt" >&2
fi
echo "$VENV/bin/python"
