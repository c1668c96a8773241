#!/usr/bin/env bash
# Our nodes against every check beyond Maelstrom's (issue 24): `glomers sweep
# --extra-checks` per workload and strategy, 3 nodes, partitions and every fault knob,
# 10 s runs. Prints one table row per sweep: seeds, Maelstrom failures (invalid, unknown,
# crashed), late-reply seeds (SeedResult::Late, reported apart) and extra-check failures.
#
# Usage: scripts/extra-sweep.sh [--seeds N] [--jobs J]   (defaults: 200 seeds, 2 jobs)
# Exit 1 if any seed failed a check (late seeds included).
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=200
jobs=2
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seeds) seeds="$2"; shift 2 ;;
        --jobs) jobs="$2"; shift 2 ;;
        *) echo "usage: scripts/extra-sweep.sh [--seeds N] [--jobs J]" >&2; exit 2 ;;
    esac
done

cargo build --release --bin glomers >&2
glomers="${CARGO_TARGET_DIR:-target}/release/glomers"
faults="--node-count 3 --time-limit 10 --nemesis partition --loss 0.1 --duplicate 0.05 --reorder-ms 50 --clock-skew 0.2 --asymmetric-partitions"

# WORKLOAD ENV=STRATEGY FLAGS…
rows=(
    "broadcast GLOMERS_BROADCAST=default --rate 50"
    "broadcast GLOMERS_BROADCAST=flood --rate 50"
    "broadcast GLOMERS_BROADCAST=tree --rate 50"
    "broadcast GLOMERS_BROADCAST=star --rate 50"
    "g-set - --rate 50"
    "g-counter GLOMERS_G_COUNTER=seq-kv --rate 50"
    "g-counter GLOMERS_G_COUNTER=seq-kv-fresh --rate 50"
    "g-counter GLOMERS_G_COUNTER=crdt --rate 50"
    "pn-counter - --rate 50"
    "kafka GLOMERS_KAFKA=default --concurrency 2n --rate 200"
    "kafka GLOMERS_KAFKA=lin-kv --concurrency 2n --rate 200"
    "txn-rw-register GLOMERS_TXN=default --concurrency 2n --rate 200 --consistency-models read-committed --availability total"
    "txn-rw-register GLOMERS_TXN=lazy --concurrency 2n --rate 200 --consistency-models read-committed --availability total"
    "txn-list-append GLOMERS_LIST_APPEND=sequencer --rate 100"
    "txn-list-append GLOMERS_LIST_APPEND=datomic --rate 100"
)

echo "Seeds 1–$seeds per row; every row: glomers sweep --extra-checks --jobs $jobs $faults"
echo
echo "| workload | strategy | flags | seeds | Maelstrom failed | late | extra-checks failed | s |"
echo "|---|---|---|---|---|---|---|---|"
status=0
for row in "${rows[@]}"; do
    read -r workload env flags <<<"$row"
    envs=()
    [[ "$env" != - ]] && envs=("$env")
    start=$(date +%s)
    log=$(env "${envs[@]}" "$glomers" sweep --extra-checks --seeds "$seeds" --seed 1 --jobs "$jobs" \
        -w "$workload" $faults $flags 2>&1) || status=1
    took=$(( $(date +%s) - start ))
    echo "$log" | grep -E "^seed [0-9]+: " >&2 || true
    count() { echo "$log" | grep -cE "^seed [0-9]+: ($1)" || true; }
    echo "| $workload | ${env#*=} | $flags | $seeds | $(count 'invalid|unknown|crashed') | $(count 'answered late') | $(count 'extra checks') | $took |"
done
exit $status
