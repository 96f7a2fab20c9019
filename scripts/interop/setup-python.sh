#!/usr/bin/env bash
# Builds (idempotently) the pinned Python reference venv under ~/.cache/peft4j/venv and prints its python path.
# It is used only by interop tests and peer benchmarks; peft4j itself never runs Python.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
VENV="${PEFT4J_CACHE:-$HOME/.cache/peft4j}/venv"
REQ="$HERE/requirements.txt"
STAMP="$VENV/.peft4j-requirements.sha256"
want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  echo "$VENV/bin/python"; exit 0
fi
echo "building the reference venv in $VENV (pinned: $REQ) ..." >&2
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >&2
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ" >&2
echo "$want" > "$STAMP"
echo "$VENV/bin/python"
