#!/usr/bin/env bash
# Profiles one workload binary while it handles a generated load, and renders a
# flamegraph SVG into target/flamegraphs/WORKLOAD.svg — or, with --update, over the
# committed flamegraphs/WORKLOAD.svg. The SVG's title holds the exact command.
#
#   scripts/profile.sh [--update] WORKLOAD [REQUESTS]     (default 300000 requests)
#   WORKLOAD: echo unique-ids broadcast g-set g-counter pn-counter kafka txn-rw-register
#             txn-list-append
# The load is perf/load.rs's session for the workload (make-load), and the node runs with
# the environment of its throughput case (`make-load --env`, e.g. GLOMERS_G_COUNTER=crdt).
#
# Needs `perf` (Debian: linux-perf) and inferno (installed from crates.io if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
    exit 2
}
command_line="scripts/profile.sh $*"
out=target/flamegraphs
if [[ "${1:-}" == --update ]]; then
    out=flamegraphs
    shift
fi
[[ $# -ge 1 && "$1" != -h && "$1" != --help ]] || usage
workload=$1
requests=${2:-300000}
case "$workload" in
    echo|unique-ids|broadcast|g-set|g-counter|pn-counter|kafka|txn-rw-register|txn-list-append) ;;
    *) echo "no load generator for workload '$workload'" >&2; usage ;;
esac
[[ "$requests" =~ ^[0-9]+$ ]] || { echo "REQUESTS must be a number, got '$requests'" >&2; exit 2; }

if ! command -v perf >/dev/null 2>&1; then
    echo "perf not found: install it (Debian: apt-get install linux-perf)" >&2
    exit 3
fi
if ! command -v inferno-flamegraph >/dev/null 2>&1; then
    echo "installing inferno (flamegraph renderer) from crates.io…" >&2
    cargo install --quiet --locked inferno
fi

cargo build --release --quiet --bin "$workload" --example make-load
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
./target/release/examples/make-load --workload "$workload" --requests "$requests" > "$work/load.jsonl"
read -r -a node_env <<<"$(./target/release/examples/make-load --workload "$workload" --env | tr '\n' ' ')"
env "${node_env[@]}" perf record --quiet -F 4999 --call-graph dwarf,16384 -o "$work/perf.data" -- \
    "./target/release/$workload" < "$work/load.jsonl" > /dev/null 2> "$work/node.stderr"
perf script -i "$work/perf.data" 2>/dev/null | inferno-collapse-perf > "$work/collapsed.txt"
mkdir -p "$out"
inferno-flamegraph --title "glomers $workload: $requests requests through one node ($command_line)" \
    < "$work/collapsed.txt" > "$out/$workload.svg"
echo "wrote $out/$workload.svg ($(wc -l < "$work/collapsed.txt") distinct stacks)"
