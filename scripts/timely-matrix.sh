#!/usr/bin/env bash
# scripts/timely-sweep.sh over every strategy of every workload of our nodes (lin-kv
# excepted: its Raft has its own sweeps), at 3 and 5 nodes, with every fault knob, at the
# rates of each workload's challenge line (kafka: --concurrency 2n --rate 300 --time-limit
# 10). Prints a markdown table on stdout: late = seeds with an op ending in net-timeout
# (our node answered late or never), invalid = seeds whose test was not valid (exit 1, 2
# or 255; a reply to a closed client is a crash).
#
#   scripts/timely-matrix.sh [--seeds N] [--jobs J] [FILTER]
#
# FILTER (a grep -E pattern) keeps the rows whose "workload strategy" matches, e.g.
# `kafka` or `g-counter seq-kv-fresh`. Exit 1 if any row was late or invalid.
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=50
jobs=2
filter=.
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seeds) seeds="$2"; shift 2 ;;
        --jobs) jobs="$2"; shift 2 ;;
        *) filter="$1"; shift ;;
    esac
done

faults="--nemesis partition --nemesis-interval 4 --loss 0.15 --duplicate 0.1 --reorder-ms 80 --clock-skew 0.3 --asymmetric-partitions"
# workload | env var | strategies | flags
rows=(
    "echo||-|--time-limit 10"
    "unique-ids||-|--time-limit 30 --rate 1000"
    "broadcast|GLOMERS_BROADCAST|default|--time-limit 20 --rate 10"
    "broadcast|GLOMERS_BROADCAST|3d 3e|--time-limit 20 --rate 100 --latency 100"
    "g-set||-|--time-limit 20 --rate 10"
    "pn-counter||-|--time-limit 20 --rate 10"
    "g-counter|GLOMERS_G_COUNTER|seq-kv seq-kv-fresh crdt|--time-limit 20 --rate 100"
    "kafka|GLOMERS_KAFKA|lin-kv default|--concurrency 2n --time-limit 10 --rate 300"
    "txn-list-append|GLOMERS_LIST_APPEND|sequencer datomic|--time-limit 10 --rate 100"
    "txn-rw-register|GLOMERS_TXN|default eager lazy|--concurrency 2n --time-limit 20 --rate 1000 --consistency-models read-committed"
)

echo "| workload | strategy | nodes | seeds | late seeds (ops) | double | invalid |"
echo "|---|---|---:|---:|---:|---:|---:|"
bad=0
for row in "${rows[@]}"; do
    IFS='|' read -r workload env strategies flags <<<"$row"
    for strategy in $strategies; do
        grep -qE "$filter" <<<"$workload $strategy" || continue
        for nodes in 3 5; do
            echo "== $workload $strategy $nodes nodes" >&2
            vars=()
            [[ -n "$env" ]] && vars=("$env=$strategy")
            # shellcheck disable=SC2086 # flag lists split into words
            out=$(env "${vars[@]}" scripts/timely-sweep.sh --seeds "$seeds" --jobs "$jobs" -- \
                -w "$workload" --node-count "$nodes" $flags $faults) || bad=1
            grep '^seed' <<<"$out" | head -n 20 >&2 || true
            summary=$(grep '^timely:' <<<"$out")
            read -r _ _ _ late _ ops _ double _ invalid _ <<<"$summary"
            echo "| $workload | $strategy | $nodes | $seeds | $late $ops) | $double | $invalid |"
        done
    done
done
exit "$bad"
