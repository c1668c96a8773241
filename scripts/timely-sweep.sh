#!/usr/bin/env bash
# Seed sweep that checks our nodes answer every client request in time (issue 23).
#
# Maelstrom's clients give up after 5 s (lin-kv: max(10 × latency, 1000) ms), and the real
# Maelstrom mutes a node for the rest of the run once it replies to a client that already
# timed out and was closed (MAELSTROM.md §1.8, §2.3). Under `--sim` client messages get
# no network faults and no latency, so any op in the history that completes with
# `net-timeout` means our node answered late or never. `glomers sweep` only reports
# validity, so this script runs `glomers test --sim` once per seed into a temporary store,
# counts those completions, and removes the store.
#
# With --journal it also keeps the network journal and flags a node that sent a client
# two replies to the same request (same client, same in_reply_to). Journals are large:
# use it on fewer seeds.
#
#   GLOMERS_KAFKA=lin-kv scripts/timely-sweep.sh [--seeds N] [--seed S] [--jobs J] \
#       [--journal] -- -w kafka --node-count 3 --concurrency 2n --rate 300 …
#
# Prints one line per bad seed (late ops, double replies, or not valid: exit status of
# `glomers test`), then a summary:
#   `timely: SEEDS seeds, LATE_SEEDS late (LATE_OPS ops), DOUBLE double-reply, INVALID invalid`
# Exit 0 when every seed was valid and timely, 1 otherwise, 2 bad arguments.
# The strategy variables (GLOMERS_*) pass through the environment; GLOMERS_BIN names the
# glomers binary (default: target/release/glomers).
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=50
first=1
jobs=2
journal=0
usage() {
    echo "usage: scripts/timely-sweep.sh [--seeds N] [--seed S] [--jobs J] [--journal] -- TEST FLAGS…" >&2
    exit 2
}
number() { [[ "${1:-}" =~ ^[0-9]+$ ]] || usage; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seeds) number "${2:-}"; seeds="$2"; shift 2 ;;
        --seed) number "${2:-}"; first="$2"; shift 2 ;;
        --jobs) number "${2:-}"; jobs="$2"; shift 2 ;;
        --journal) journal=1; shift ;;
        --) shift; break ;;
        *) usage ;;
    esac
done
[[ $# -gt 0 && "$seeds" -ge 1 && "$jobs" -ge 1 ]] || usage

# GLOMERS_BIN picks another build (e.g. a copy from before a fix, to compare).
glomers="${GLOMERS_BIN:-${CARGO_TARGET_DIR:-target}/release/glomers}"
[[ -x "$glomers" ]] || { echo "build first: cargo build --release --bin glomers" >&2; exit 2; }

# Everything this script writes lives under one temporary directory, removed on exit.
work=$(mktemp -d "${TMPDIR:-/tmp}/timely-sweep.XXXXXX")
trap 'rm -rf "$work"' EXIT

# one SEED: runs the seed, prints "SEED STATUS LATE DOUBLE" on stdout.
one() {
    local seed="$1" store="$work/$1" status=0 late=0 double=0 history journal_flag=--no-journal
    shift
    [[ "$journal" == 1 ]] && journal_flag=
    mkdir -p "$store"
    # shellcheck disable=SC2086 # journal_flag is empty or one word
    "$glomers" test --sim --seed "$seed" --store "$store" $journal_flag "$@" \
        >"$store/console" 2>&1 || status=$?
    history=$(find "$store" -name history.edn -print -quit)
    if [[ -n "$history" ]]; then
        late=$(grep -c 'net-timeout' "$history" || true)
    fi
    if [[ "$journal" == 1 ]]; then
        local file
        file=$(find "$store" -name net-journal.jsonl -print -quit)
        if [[ -n "$file" ]]; then
            double=$(jq -r 'select(.type == "send" and (.message.dest | startswith("c"))
                    and .message.body.in_reply_to != null)
                | "\(.message.dest) \(.message.body.in_reply_to)"' "$file" |
                sort | uniq -d | wc -l)
        fi
    fi
    rm -rf "$store"
    echo "$seed $status $late $double"
}
export -f one
export glomers work journal

results=$(seq "$first" $((first + seeds - 1)) |
    xargs -P "$jobs" -I{} bash -c 'one "$@"' _ {} "$@" | sort -n)

bad=0 late_seeds=0 late_ops=0 doubles=0 invalid=0
while read -r seed status late double; do
    if [[ "$status" != 0 || "$late" != 0 || "$double" != 0 ]]; then
        bad=1
        echo "seed $seed: exit $status, $late net-timeout ops, $double double replies"
    fi
    [[ "$status" == 0 ]] || invalid=$((invalid + 1))
    [[ "$late" == 0 ]] || late_seeds=$((late_seeds + 1))
    late_ops=$((late_ops + late))
    doubles=$((doubles + double))
done <<<"$results"
echo "timely: $seeds seeds, $late_seeds late ($late_ops ops), $doubles double-reply, $invalid invalid"
[[ "$bad" == 0 ]]
