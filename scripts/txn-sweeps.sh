#!/usr/bin/env bash
# Long simulator sweeps of txn-rw-register at Gossip Glomers 6c's consistency flags
# (read committed, total availability, partitions), shortened to 10 s at rate 200 so a
# seed takes a fraction of a second: 2 and 3 nodes, each plain and with every fault knob
# (loss, duplication, reordering, clock skew, one-way partitions). Every seed must pass;
# a failing one is printed with its replay command (put it in a regression test).
#
# Usage: scripts/txn-sweeps.sh [--seeds N] [--jobs J] [--strategy GLOMERS_TXN-value]
# (defaults: 200 seeds, 2 jobs, the default strategy). Exit 1 if any seed failed.
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=200
jobs=2
strategy="default"
usage() { echo "usage: scripts/txn-sweeps.sh [--seeds N] [--jobs J] [--strategy S]" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
    [[ $# -ge 2 ]] || usage
    case "$1" in
        --seeds) seeds="$2" ;;
        --jobs) jobs="$2" ;;
        --strategy) strategy="$2" ;;
        *) usage ;;
    esac
    shift 2
done
[[ "$seeds" =~ ^[1-9][0-9]*$ && "$jobs" =~ ^[1-9][0-9]*$ ]] || usage

cargo build --release --quiet --bin glomers
glomers="${CARGO_TARGET_DIR:-target}/release/glomers"
base="-w txn-rw-register --concurrency 2n --time-limit 10 --rate 200 --consistency-models read-committed --availability total --nemesis partition"
faults="--loss 0.1 --duplicate 0.05 --reorder-ms 50 --clock-skew 0.2 --asymmetric-partitions"
failed=0
for nodes in 2 3; do
    for extra in "" "$faults"; do
        echo "== GLOMERS_TXN=$strategy --node-count $nodes ${extra:-(no faults)}"
        # shellcheck disable=SC2086 # the flag lists are meant to split
        GLOMERS_TXN="$strategy" "$glomers" sweep --seeds "$seeds" --jobs "$jobs" \
            $base --node-count "$nodes" $extra || failed=1
    done
done
exit "$failed"
