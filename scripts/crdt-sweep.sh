#!/usr/bin/env bash
# Seed sweeps of the counters and the g-set in the simulator (issue 11), printed as a
# markdown table on stdout (progress on stderr):
#
#   * the PeerSync CRDTs — g-set, pn-counter, g-counter with GLOMERS_G_COUNTER=crdt — at
#     2, 3 and 5 nodes, (a) `--nemesis partition` and (b) partitions plus every fault knob
#     (`--loss 0.2 --duplicate 0.1 --reorder-ms 50 --clock-skew 0.2 --asymmetric-partitions`);
#   * g-counter on seq-kv at 2, 3 and 5 nodes with `--duplicate 0.1 --loss 0.1 --nemesis
#     partition`: the default strategy (`seq-kv`, per-node keys, bounded-staleness reads)
#     also with `--reorder-ms 50 --clock-skew 0.2`, and the fresh-read `seq-kv-fresh`.
#
# Every run is `glomers sweep --rate 50 --time-limit S`; S is 20 s unless --time-limit says
# otherwise (the table's heading names it). Exits 1 if any seed failed; replay a failing
# seed with the command `glomers sweep` prints (in the stderr log).
#
# Usage: scripts/crdt-sweep.sh [--seeds N] [--jobs J] [--time-limit S]
#   --seeds N       seeds per row, from 1 (default 500)
#   --jobs J        seeds run at once (default 2; use 1 while other builds run)
#   --time-limit S  seconds of each simulated test (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=500
jobs=2
time_limit=20
usage() {
    echo "usage: scripts/crdt-sweep.sh [--seeds N] [--jobs J] [--time-limit S]" >&2
    exit 2
}
number() { [[ "${1:-}" =~ ^[1-9][0-9]*$ ]] || usage; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seeds) number "${2:-}"; seeds="$2"; shift 2 ;;
        --jobs) number "${2:-}"; jobs="$2"; shift 2 ;;
        --time-limit) number "${2:-}"; time_limit="$2"; shift 2 ;;
        *) usage ;;
    esac
done

cargo build --release --bin glomers >&2
glomers="${CARGO_TARGET_DIR:-target}/release/glomers"

all_faults="--nemesis partition --loss 0.2 --duplicate 0.1 --reorder-ms 50 --clock-skew 0.2 --asymmetric-partitions"
failed_rows=0

# row WORKLOAD G_COUNTER_STRATEGY NODES CONFIG_NAME FLAGS…: one sweep, one table row.
row() {
    local workload="$1" strategy="$2" nodes="$3" config="$4"
    shift 4
    local label="$workload"
    [[ "$workload" == g-counter ]] && label="g-counter ($strategy)"
    echo "== $label, $nodes nodes, $config" >&2
    local log status=0
    log=$(GLOMERS_G_COUNTER="$strategy" "$glomers" sweep --seeds "$seeds" --jobs "$jobs" \
        --seed 1 -w "$workload" --node-count "$nodes" --time-limit "$time_limit" \
        --rate 50 "$@" 2>&1) || status=$?
    echo "$log" | grep -E "invalid|crash|failed" >&2 || true
    # The summary line: "500 seeds, 0 failed (12.34 s, 24.7 ms/seed)".
    local summary failures time
    summary=$(echo "$log" | grep -E '^[0-9]+ seeds, [0-9]+ failed' | tail -1)
    failures=$(echo "$summary" | sed -E 's/^[0-9]+ seeds, ([0-9]+) failed.*/\1/')
    time=$(echo "$summary" | sed -E 's/.*\(([0-9.]+ s),.*/\1/')
    if [[ -z "$summary" ]]; then
        failures="sweep error (exit $status)"
        time="-"
    fi
    [[ "$failures" == 0 ]] || failed_rows=$((failed_rows + 1))
    echo "| $label | $nodes | $config | $seeds | $failures | $time |"
}

echo "Seeds 1–$seeds per row, --rate 50 --time-limit $time_limit, --jobs $jobs" \
    "(glomers sweep, simulated; time is wall-clock)."
echo
echo "| workload | nodes | config | seeds | failures | time |"
echo "|---|---:|---|---:|---:|---:|"
for workload in g-set pn-counter g-counter; do
    for nodes in 2 3 5; do
        row "$workload" crdt "$nodes" "partition" --nemesis partition
        # shellcheck disable=SC2086 # the fault flags are words
        row "$workload" crdt "$nodes" "partition + all faults" $all_faults
    done
done
for nodes in 2 3 5; do
    for strategy in seq-kv seq-kv-fresh; do
        row g-counter "$strategy" "$nodes" "partition + duplicate 0.1 + loss 0.1" \
            --nemesis partition --duplicate 0.1 --loss 0.1
    done
    row g-counter seq-kv "$nodes" "partition + duplicate 0.1 + loss 0.1 + reorder 50 + skew 0.2" \
        --nemesis partition --duplicate 0.1 --loss 0.1 --reorder-ms 50 --clock-skew 0.2
done

if [[ $failed_rows -gt 0 ]]; then
    echo "$failed_rows row(s) with failures" >&2
    exit 1
fi
