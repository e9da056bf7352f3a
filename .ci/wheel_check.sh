#!/usr/bin/env bash
# Install the built wheel as a user would and run the main job from it.
#
# Usage: .ci/wheel_check.sh dist/hftws-*.whl
#
# A fresh virtualenv in a temporary directory outside the source tree, the wheel from its file
# and its dependencies from PyPI pinned by requirements/runtime.txt; then, from another empty
# directory (so nothing can be imported from the checkout): `hftws demo --duration 5 --no-tui`
# must exit 0 with every book in sync and updates counted, and .ci/wheel_smoke.py must pass.
set -euo pipefail

wheel=$(realpath "${1:?usage: $0 WHEEL}")
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hftws-wheel-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

"$python" -m venv "$tmp/venv"
start=$(date +%s%N)
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -c "$root/requirements/runtime.txt" "$wheel"
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
printf 'wheel: %s (%s bytes), installed in %d.%03d s\n' "$(basename "$wheel")" \
    "$(stat -c %s "$wheel")" $((ms / 1000)) $((ms % 1000))

mkdir "$tmp/run"
cd "$tmp/run"
# bounded: the demo runs 5 s plus at most 5 s of settling; 120 s covers a loaded machine.
set +e
timeout 120 "$tmp/venv/bin/hftws" demo --duration 5 --no-tui --summary-json summary.json \
    > demo.log 2>&1
rc=$?
set -e
tail -n 40 demo.log  # the whole summary table and the events
if [ "$rc" -ne 0 ]; then
    echo "wheel check: hftws demo exited with $rc" >&2
    exit 1
fi
"$tmp/venv/bin/python" - summary.json <<'PY'
import json, sys

summary = json.load(open(sys.argv[1]))
books = summary.get("books", [])
problems = []
if not summary.get("all_in_sync"):
    problems.append("not every book ended in sync")
if summary.get("updates", 0) <= 0:
    problems.append("no book updates counted")
if len(books) < 6:
    problems.append(f"{len(books)} books, expected 6 (3 exchanges x BTC, ETH)")
if problems:
    sys.exit("wheel check: demo summary: " + "; ".join(problems))
print(f"wheel check: demo ok, {len(books)} books in sync, {summary['updates']:,} updates")
PY
"$tmp/venv/bin/python" "$root/.ci/wheel_smoke.py"
