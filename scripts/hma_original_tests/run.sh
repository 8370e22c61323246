#!/usr/bin/env bash
# Run HMA's own API tests against a live Amparo over HTTP, outside this repository.
#   scripts/hma_original_tests/run.sh /path/to/ThreatExchange[.git] [--pg]
# The test files come unchanged from the ThreatExchange checkout (git dir or work tree); only the
# app/client fixtures are replaced (patch_utils.py), and HMA-internal storage calls go through shims/.
# Needs threatexchange (Amparo's dev extra) and flask (installed into the run folder if missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
src=${1:?path to a facebook/ThreatExchange checkout or git dir}
py=${PYTHON:-$repo/.venv/bin/python}
run=$(mktemp -d /tmp/hma-original-tests.XXXXXX)
rel=hasher-matcher-actioner/src/OpenMediaMatch/tests
mkdir -p "$run/OpenMediaMatch/tests"
for f in __init__.py utils.py test_api_banks.py test_match_api.py test_e2e_workflow.py; do
  if [ -d "$src/$rel" ]; then cp "$src/$rel/$f" "$run/OpenMediaMatch/tests/$f"
  else git --git-dir="$src" show "HEAD:$rel/$f" >"$run/OpenMediaMatch/tests/$f"; fi
done
cp -r "$here/shims/OpenMediaMatch/." "$run/OpenMediaMatch/"
"$py" "$here/patch_utils.py" "$run/OpenMediaMatch/tests/utils.py"
"$py" -c 'import flask' 2>/dev/null || "$py" -m pip install -q --target "$run/deps" flask
[ "${2:-}" = "--pg" ] && export HARNESS_PG=1
cd "$run"
AMPARO_REPO=$repo OMP_NUM_THREADS=1 PYTHONPATH="$run:$run/deps:$repo/src" \
  "$py" -m pytest -p no:cacheprovider -q -rA --rootdir="$run" OpenMediaMatch/tests
