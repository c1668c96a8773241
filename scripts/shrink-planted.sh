#!/usr/bin/env bash
# `glomers shrink` and `glomers sweep --swarm` on the planted bugs (docs/planted-bugs.md,
# issue 25). For each bug:
#   * the sweep with the flags that find it (docs/planted-bugs.md): its first failing seed;
#   * that seed's size (ops, messages, nodes, faults) before and after `glomers shrink`
#     (pinned to one core with taskset when there is one), the shrink's time and runs, and
#     the failure class it kept;
#   * seeds to the first failure when only the challenge's flags are known (no faults):
#     a plain sweep of those flags, and a --swarm sweep (each seed draws nodes, rate and
#     faults), with how many of the seeds failed.
# Prints a markdown table on stdout; progress on stderr. Builds the planted-bugs binary in
# its own target directory (the default build never has the planted bugs).
#
#   scripts/shrink-planted.sh [--seeds N] [--max-seconds S] [FILTER]
#
# FILTER (a grep -E pattern) keeps the rows whose variable matches, e.g. `KAFKA`.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    echo "usage: scripts/shrink-planted.sh [--seeds N] [--max-seconds S] [FILTER]" >&2
    exit 2
}
seeds=100
max_seconds=120
filter=.
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seeds) [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || usage; seeds="$2"; shift 2 ;;
        --max-seconds) [[ $# -ge 2 && "$2" =~ ^[0-9.]+$ ]] || usage; max_seconds="$2"; shift 2 ;;
        -*) usage ;;
        *) filter="$1"; shift ;;
    esac
done

target=${GLOMERS_PLANTED_TARGET:-target/planted-bugs}
cargo build --release --quiet --features planted-bugs --target-dir "$target" --bin glomers
bin="$target/release/glomers"
store=$(mktemp -d)
trap 'rm -rf "$store"' EXIT
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 0); fi

# variable=value | flags that find it | the challenge's flags alone (no faults)
rows=(
    "GLOMERS_BROADCAST=planted-ack-all|-w broadcast --node-count 5 --time-limit 10 --rate 10 --nemesis partition --loss 0.1|-w broadcast --node-count 5 --time-limit 10 --rate 10"
    "GLOMERS_G_COUNTER=planted-overwrite|-w g-counter --node-count 5 --rate 100 --time-limit 10 --nemesis partition --reorder-ms 100|-w g-counter --node-count 5 --rate 100 --time-limit 10"
    "GLOMERS_LIN_KV=planted-local-read|-w lin-kv --node-count 3 --concurrency 4n --time-limit 10 --rate 100 --nemesis partition --nemesis-interval 4|-w lin-kv --node-count 3 --concurrency 4n --time-limit 10 --rate 100"
    "GLOMERS_KAFKA=planted-takeover|-w kafka --node-count 2 --concurrency 2n --time-limit 10 --rate 300 --nemesis partition|-w kafka --node-count 2 --concurrency 2n --time-limit 10 --rate 300"
    "GLOMERS_TXN=planted-every-write|-w txn-rw-register --node-count 2 --concurrency 2n --time-limit 10 --rate 100 --consistency-models read-committed --availability total --nemesis partition|-w txn-rw-register --node-count 2 --concurrency 2n --time-limit 10 --rate 100 --consistency-models read-committed --availability total"
)

# first_failure VAR=value SWEEP-ARGS…: prints "seed failed" of a sweep from --seed 1.
first_failure() {
    local assignment=$1
    shift
    local out
    out=$(env "$assignment" "$bin" sweep --seeds "$seeds" --jobs 2 --seed 1 "$@" 2>/dev/null || true)
    local first failed
    first=$(sed -n 's/^First failure: seed \([0-9]*\),.*/\1/p' <<<"$out")
    failed=$(sed -n 's/^[0-9]* seeds, \([0-9]*\) failed.*/\1/p' <<<"$out")
    echo "${first:-none} ${failed:-0}"
}

echo "| bug | flags that find it | failing seed | before | after \`glomers shrink\` | time, runs | failure class kept | seeds to 1st failure: plain / swarm (failed of $seeds) |"
echo "|---|---|---|---|---|---|---|---|"
for row in "${rows[@]}"; do
    IFS='|' read -r assignment flags base <<<"$row"
    grep -qE "$filter" <<<"$assignment" || continue
    echo "== $assignment" >&2
    read -r seed _ < <(first_failure "$assignment" $flags)
    if [[ $seed == none ]]; then
        echo "| \`$assignment\` | \`$flags\` | none in $seeds seeds | | | | | |"
        continue
    fi
    shrink_out=$(env "$assignment" "${pin[@]}" "$bin" shrink --max-seconds "$max_seconds" \
        glomers test $flags --sim --seed "$seed" --store "$store" 2>&1 >/dev/null || true)
    summary=$(grep -E '^(Shrunk|Not shrunk) in' <<<"$shrink_out" || echo "shrink failed: $(tail -1 <<<"$shrink_out")")
    # "Shrunk in 3.2 s (212 runs): A → B; fails as: C."
    time_runs=$(sed -n 's/^.*in \([0-9.]* s\) (\([0-9]*\) runs).*/\1, \2/p' <<<"$summary")
    before=$(sed -n 's/^.*runs): \(.*\) → .*/\1/p' <<<"$summary")
    after=$(sed -n 's/^.* → \(.*\); fails as: .*/\1/p' <<<"$summary")
    class=$(sed -n 's/^.*; fails as: \(.*\)\.$/\1/p' <<<"$summary")
    read -r plain_first plain_failed < <(first_failure "$assignment" $base)
    read -r swarm_first swarm_failed < <(first_failure "$assignment" --swarm $base)
    echo "$summary" >&2
    echo "| \`$assignment\` | \`$flags\` | $seed | $before | $after | $time_runs | $class | $plain_first ($plain_failed) / $swarm_first ($swarm_failed) |"
done
