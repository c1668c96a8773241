#!/usr/bin/env bash
# Runs one Gossip Glomers challenge with its exact flags, under the real Maelstrom
# (default) or under glomers' own harness (--harness), then prints a short summary:
# valid?, servers msgs-per-op, stable latency median/max (broadcast), per-op latencies.
#
#   scripts/maelstrom.sh [--harness] CHALLENGE [extra maelstrom flags…]
#   CHALLENGE: 1 2 3a 3b 3c 3d 3e 4 5a 5b 5c 6a 6b 6b-partition 6c
#              pn-counter g-set lin-kv txn-list-append
#
# Maelstrom is found via $MAELSTROM (the `maelstrom` launcher script) or PATH.
# 3d and 3e run the same command; they select our broadcast preset of that name through
# GLOMERS_BROADCAST unless you set it yourself.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
    exit 2
}

runner=maelstrom
if [[ "${1:-}" == "--harness" ]]; then
    runner=harness
    shift
fi
[[ $# -ge 1 ]] || usage
challenge=$1
shift

# challenge → binary and the challenge's exact flags (MAELSTROM.md §6).
case "$challenge" in
    1) bin=echo; flags="-w echo --node-count 1 --time-limit 10" ;;
    2) bin=unique-ids; flags="-w unique-ids --time-limit 30 --rate 1000 --node-count 3 --availability total --nemesis partition" ;;
    3a) bin=broadcast; flags="-w broadcast --node-count 1 --time-limit 20 --rate 10" ;;
    3b) bin=broadcast; flags="-w broadcast --node-count 5 --time-limit 20 --rate 10" ;;
    3c) bin=broadcast; flags="-w broadcast --node-count 5 --time-limit 20 --rate 10 --nemesis partition" ;;
    3d|3e) bin=broadcast; flags="-w broadcast --node-count 25 --time-limit 20 --rate 100 --latency 100"
        export GLOMERS_BROADCAST="${GLOMERS_BROADCAST:-$challenge}" ;;
    4) bin=g-counter; flags="-w g-counter --node-count 3 --rate 100 --time-limit 20 --nemesis partition" ;;
    5a) bin=kafka; flags="-w kafka --node-count 1 --concurrency 2n --time-limit 20 --rate 1000" ;;
    5b|5c) bin=kafka; flags="-w kafka --node-count 2 --concurrency 2n --time-limit 20 --rate 1000" ;;
    6a) bin=txn-rw-register; flags="-w txn-rw-register --node-count 1 --time-limit 20 --rate 1000 --concurrency 2n --consistency-models read-uncommitted --availability total" ;;
    6b) bin=txn-rw-register; flags="-w txn-rw-register --node-count 2 --concurrency 2n --time-limit 20 --rate 1000 --consistency-models read-uncommitted" ;;
    6b-partition) bin=txn-rw-register; flags="-w txn-rw-register --node-count 2 --concurrency 2n --time-limit 20 --rate 1000 --consistency-models read-uncommitted --availability total --nemesis partition" ;;
    6c) bin=txn-rw-register; flags="-w txn-rw-register --node-count 2 --concurrency 2n --time-limit 20 --rate 1000 --consistency-models read-committed --availability total --nemesis partition" ;;
    pn-counter) bin=pn-counter; flags="-w pn-counter --node-count 3 --time-limit 20 --rate 10 --nemesis partition" ;;
    g-set) bin=g-set; flags="-w g-set --node-count 5 --time-limit 20 --rate 10 --nemesis partition" ;;
    lin-kv) bin=lin-kv; flags="-w lin-kv --node-count 3 --concurrency 2n --time-limit 20 --rate 10 --nemesis partition" ;;
    txn-list-append) bin=txn-list-append; flags="-w txn-list-append --node-count 2 --time-limit 10 --rate 100" ;;
    -h|--help) usage ;;
    *) echo "unknown challenge '$challenge'" >&2; usage ;;
esac

if [[ "$runner" == maelstrom ]]; then
    maelstrom="${MAELSTROM:-$(command -v maelstrom || true)}"
    if [[ -z "$maelstrom" || ! -x "$maelstrom" ]]; then
        cat >&2 <<'MSG'
Maelstrom not found. Set $MAELSTROM to the `maelstrom` launcher or put it on PATH.
Get it from Maelstrom's releases page on GitHub (jepsen-io/maelstrom, maelstrom.tar.bz2);
it needs a JDK (e.g. `apt-get install openjdk-17-jdk`) plus graphviz and gnuplot.
Or run the same challenge under glomers' own harness: scripts/maelstrom.sh --harness CHALLENGE
MSG
        exit 3
    fi
fi

cargo build --release --quiet --bin "$bin" --bin glomers
binary="$PWD/target/release/$bin"
# The nodes' strategy variables (GLOMERS_*) change what they do: show them with the command.
strategy="$(env | grep '^GLOMERS_' | sort | tr '\n' ' ' || true)"
# shellcheck disable=SC2086 # $flags is a list of words on purpose
if [[ "$runner" == maelstrom ]]; then
    echo "+ ${strategy}maelstrom test $flags --bin $binary $*" >&2
    store_root="$(dirname "$maelstrom")/store"
    (cd "$(dirname "$maelstrom")" && "$maelstrom" test $flags --bin "$binary" "$@") && status=0 || status=$?
else
    echo "+ ${strategy}glomers test $flags --bin $binary $*" >&2
    store_root="$PWD/store"
    ./target/release/glomers test $flags --bin "$binary" "$@" && status=0 || status=$?
fi

if [[ -d "$store_root/latest" ]]; then
    echo
    ./target/release/glomers report --brief "$store_root/latest" || true
fi
exit "$status"
