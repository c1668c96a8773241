#!/usr/bin/env bash
# Long seed sweeps of our kafka node in simulation (`glomers sweep`, --sim), both
# strategies (GLOMERS_KAFKA=default and lin-kv), with the partition nemesis, then with
# every fault knob on top (loss, duplicates, reordering, clock skew, one-way partitions),
# then the same at 3 and 5 nodes. Any failing seed is printed with its replay command;
# put it in tests/sim_workloads.rs (kafka_regression_seeds).
#
#   scripts/kafka-sweep.sh [SEEDS]      (default 200 seeds per configuration)
#
# cargo test runs 10 seeds of the 2-node configurations (tests/sim_workloads.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=${1:-200}
[[ "$seeds" =~ ^[0-9]+$ ]] || { echo "SEEDS must be a number" >&2; exit 2; }

cargo build --release --bin glomers >&2
glomers="${CARGO_TARGET_DIR:-target}/release/glomers"
base="-w kafka --concurrency 2n --time-limit 10 --rate 200 --nemesis partition"
faults="--loss 0.1 --duplicate 0.05 --reorder-ms 50 --clock-skew 0.2 --asymmetric-partitions"

failed=0
for strategy in default lin-kv; do
    for nodes in 2 3 5; do
        for extra in "" "$faults"; do
            echo "== GLOMERS_KAFKA=$strategy --node-count $nodes $extra"
            # shellcheck disable=SC2086 # the flag lists are meant to split
            GLOMERS_KAFKA=$strategy "$glomers" sweep --seeds "$seeds" --jobs 2 \
                $base --node-count "$nodes" $extra | tail -n 4 || failed=1
        done
    done
done
exit "$failed"
