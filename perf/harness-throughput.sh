#!/usr/bin/env bash
# Harness throughput: how many client ops/s `glomers test` sustains against 25 nodes of our
# echo (the harness must not be the bottleneck; Maelstrom tops out around 4k ops/s).
#
#   perf/harness-throughput.sh [SECONDS]      (default 10)
#
# The run's store goes to a temporary directory, removed at exit (a 10 s run writes
# ~900 MB of history and journal). Exits non-zero when the run itself fails.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
    exit "${1:-2}"
}
[[ "${1:-}" != -h && "${1:-}" != --help ]] || usage 0
seconds=${1:-10}
[[ "$seconds" =~ ^[0-9]+$ && "$seconds" -gt 0 ]] || { echo "SECONDS must be a positive number, got '$seconds'" >&2; exit 2; }

cargo build --release --quiet --bin glomers --bin echo
store=$(mktemp -d /tmp/glomers-harness-throughput.XXXXXX)
trap 'rm -rf "$store"' EXIT
status=0
./target/release/glomers test -w echo --bin target/release/echo --node-count 25 \
    --concurrency 4n --time-limit "$seconds" --rate 1000000 --store "$store" \
    > "$store/console.txt" 2>&1 || status=$?
if [[ "$status" -ne 0 ]]; then
    echo "the run failed (exit $status); its last lines:" >&2
    tail -n 20 "$store/console.txt" >&2
    exit "$status"
fi
python3 - "$seconds" "$store/latest/results.json" <<'PY'
import json, sys
seconds, path = float(sys.argv[1]), sys.argv[2]
results = json.load(open(path))
stats = results["stats"]
print(f"{stats['count']} ops ({stats['ok-count']} ok) in {seconds:.0f} s: "
      f"{stats['count'] / seconds:,.0f} client ops/s, valid? {results['valid?']}")
PY
