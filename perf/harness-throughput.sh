#!/usr/bin/env bash
# Harness throughput: how many client ops/s `glomers test` sustains against 25 nodes of our
# echo (the harness must not be the bottleneck; Maelstrom tops out around 4k ops/s).
#   perf/harness-throughput.sh [SECONDS]      (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
cargo build --release --quiet --bin glomers --bin echo
./target/release/glomers test -w echo --bin target/release/echo --node-count 25 \
    --concurrency 4n --time-limit "$seconds" --rate 1000000 > /dev/null 2>&1 || true
python3 - "$seconds" <<'PY'
import json, sys
seconds = float(sys.argv[1])
results = json.load(open("store/latest/results.json"))
stats = results["stats"]
print(f"{stats['count']} ops ({stats['ok-count']} ok) in {seconds:.0f} s: "
      f"{stats['count'] / seconds:,.0f} client ops/s, valid? {results['valid?']}")
PY
