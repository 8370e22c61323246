#!/usr/bin/env bash
# Install Amparo into .venv. `--dev` adds the test/bench tools and the browser for the UI tests.
# Idempotent: re-running only installs what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
dev=0
[ "${1:-}" = "--dev" ] && dev=1

py=${PYTHON:-python3}
if ! "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "Amparo needs Python >= 3.11 (found: $("$py" --version 2>&1))" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$py" -m venv .venv
export PIP_DISABLE_PIP_VERSION_CHECK=1
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
if [ "$dev" = 1 ]; then
  .venv/bin/python -m pip install -q -e ".[dev]"
  # invisible-watermark is the watermark bench's baseline and a cross-check in the tests. Without
  # --no-deps it pulls torch (GBs); its dwt* methods need only opencv and PyWavelets.
  .venv/bin/python -m pip install -q --no-deps "invisible-watermark==0.2.0"
  if [ -x scripts/setup_browser.sh ] || [ -f scripts/setup_browser.sh ]; then
    if ! command -v chromium >/dev/null 2>&1; then
      if [ "$(id -u)" = 0 ]; then
        (apt-get update -qq >/dev/null 2>&1 || true)
        bash scripts/setup_browser.sh >/dev/null
      else
        echo "note: Debian's chromium + chromium-driver are needed for the browser tests (run scripts/setup_browser.sh as root)" >&2
      fi
    fi
  fi
else
  .venv/bin/python -m pip install -q -e ".[all]"
fi
# Compile the PDQ index kernels once (numba caches them beside the code; 10-20 s on a new machine),
# so the first lookup of a fresh install does not pay for it.
.venv/bin/python -c "
import tempfile, numpy as np
from amparo.matching.pdq_index import PDQIndex
with tempfile.TemporaryDirectory() as d:
    i = PDQIndex.build(d + '/i', np.arange(3, dtype=np.int64), np.zeros((3, 32), np.uint8))
    i.search(bytes(32), 31); i.apply(added=[(9, bytes(32))], removed=[1], seq=1); i.search(bytes(32), 31); i.close()
"
if [ -f scripts/fetch_models.py ]; then
  .venv/bin/python scripts/fetch_models.py
fi
echo "Amparo installed in .venv ($(.venv/bin/amparo --help >/dev/null && echo ok))" >&2
