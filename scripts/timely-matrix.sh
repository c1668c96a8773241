#!/usr/bin/env bash
# `glomers sweep` over every strategy of every workload of our nodes, lin-kv included, at 3
# and 5 nodes, with every fault knob, at the rates of each workload's challenge line (kafka:
# --concurrency 2n --rate 300 --time-limit 10). A sweep fails a seed that is invalid,
# unknown or crashed, and also one whose nodes answered a client after its timeout, twice,
# or were muted for writing to a closed client (the simulator's invariant: MAELSTROM.md
# §1.8, §1.9). Prints a markdown table on stdout, the failing seeds with their replay
# commands on stderr.
#
#   scripts/timely-matrix.sh [--seeds N] [--jobs J] [FILTER]
#
# FILTER (a grep -E pattern) keeps the rows whose "workload strategy" matches, e.g.
# `kafka` or `g-counter seq-kv-fresh`. Exit 1 if any seed failed, 2 for bad arguments.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    echo "usage: scripts/timely-matrix.sh [--seeds N] [--jobs J] [FILTER]" >&2
    exit 2
}
seeds=50
jobs=2
filter=.
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seeds) [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || usage; seeds="$2"; shift 2 ;;
        --jobs) [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || usage; jobs="$2"; shift 2 ;;
        -*) usage ;;
        *) filter="$1"; shift ;;
    esac
done

cargo build --release --bin glomers >&2
glomers="${CARGO_TARGET_DIR:-target}/release/glomers"
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
    "lin-kv||-|--concurrency 4n --time-limit 10 --rate 100"
)

echo "| workload | strategy | nodes | seeds | failed | late | seconds |"
echo "|---|---|---:|---:|---:|---:|---:|"
bad=0
for row in "${rows[@]}"; do
    IFS='|' read -r workload env strategies flags <<<"$row"
    for strategy in $strategies; do
        grep -qE "$filter" <<<"$workload $strategy" || continue
        for nodes in 3 5; do
            vars=()
            [[ -n "$env" ]] && vars=("$env=$strategy")
            started=$(date +%s)
            # shellcheck disable=SC2086 # flag lists split into words
            out=$(env "${vars[@]}" "$glomers" sweep --seeds "$seeds" --jobs "$jobs" --seed 1 \
                -w "$workload" --node-count "$nodes" $flags $faults 2>/dev/null) || bad=1
            grep '^  seed' <<<"$out" | head -n 20 >&2 || true
            failed=$(sed -n 's/^[0-9]* seeds, \([0-9]*\) failed.*/\1/p' <<<"$out")
            late=$(grep -c '^  seed [0-9]* late' <<<"$out" || true)
            echo "| $workload | $strategy | $nodes | $seeds | ${failed:-?} | $late | $(( $(date +%s) - started )) |"
        done
    done
done
exit "$bad"
