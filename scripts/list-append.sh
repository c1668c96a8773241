#!/usr/bin/env bash
# txn-list-append, both strategies (GLOMERS_LIST_APPEND=sequencer | datomic):
#
#   scripts/list-append.sh targets [RUNS]   issue-14 targets, process mode, release binaries:
#                                           --node-count 2 --time-limit 10 --rate 100, RUNS
#                                           runs each (default 3); writes
#                                           txn-list-append.md (msgs-per-op, ok-fraction,
#                                           latency median / p99 / max, valid)
#   scripts/list-append.sh chapters         every command line of Maelstrom's Datomic
#                                           chapters, plus 3 nodes with partitions, process
#                                           mode (about 5 minutes); writes
#                                           txn-list-append-chapters.md; fails on any
#                                           invalid run
#   scripts/list-append.sh sweeps [SEEDS]   --sim sweeps (default 200 seeds) with partitions
#                                           and every fault knob, 2 and 3 nodes, plus a
#                                           high-concurrency variant; fails on any failed seed
#
# Tables go to target/list-append/; with GLOMERS_UPDATE_PERF=1 they replace the committed
# copies in perf/. Needs python3 (to read results.json). Temporary stores are removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
    exit 2
}

mode=${1:-}
count=${2:-}
out=target/list-append
if [[ "${GLOMERS_UPDATE_PERF:-}" == 1 ]]; then out=perf; fi
mkdir -p "$out"
[[ -z "$count" || "$count" =~ ^[0-9]+$ ]] || usage
strategies=(sequencer datomic)
chapter_lines=(
    "--time-limit 10 --node-count 1"
    "--time-limit 30 --node-count 1 --concurrency 10n --rate 100"
    "--time-limit 10 --node-count 2"
    "--time-limit 10 --node-count 2 --rate 100"
    "--time-limit 10 --node-count 2 --rate 1"
    "--time-limit 10 --node-count 2 --rate 10"
    "--time-limit 10 --node-count 2 --rate 100 --consistency-models serializable"
    "--node-count 3 --time-limit 30 --rate 100 --nemesis partition"
)
faults="--nemesis partition --loss 0.1 --duplicate 0.05 --reorder-ms 50 --clock-skew 0.2"
sweep_lines=(
    "--node-count 2 --time-limit 10 --rate 100 --nemesis partition"
    "--node-count 3 --time-limit 10 --rate 100 --nemesis partition"
    "--node-count 2 --time-limit 10 --rate 100 $faults"
    "--node-count 3 --time-limit 10 --rate 100 $faults"
    "--node-count 3 --time-limit 10 --rate 100 --concurrency 4n --nemesis partition --nemesis-interval 2 --loss 0.05 --duplicate 0.2 --reorder-ms 50 --clock-skew 0.2"
)

bin="${CARGO_TARGET_DIR:-target}/release"
store=$(mktemp -d /tmp/glomers-list-append.XXXXXX)
trap 'rm -rf "$store"' EXIT

# One process-mode run; prints "strategy<TAB>valid<TAB>msgs-per-op<TAB>ok<TAB>p50<TAB>p99<TAB>max".
run_once() {
    local strategy=$1 flags=$2 status=0
    rm -rf "$store/runs"
    # shellcheck disable=SC2086 # flags are words
    GLOMERS_LIST_APPEND="$strategy" "$bin/glomers" test -w txn-list-append \
        --bin "$bin/txn-list-append" $flags --store "$store/runs" >"$store/last.log" 2>&1 ||
        status=$?
    python3 - "$strategy" "$store/runs/latest/results.json" "$status" <<'EOF'
import json, sys
strategy, path, status = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    r = json.load(open(path))
    latency = r["perf"]["latencies"]["txn"]
    print("\t".join([strategy, str(r["valid?"]).lower(), "%.2f" % r["net"]["servers"]["msgs-per-op"],
                     "%.3f" % r["availability"]["ok-fraction"], "%.1f" % latency["0.5"],
                     "%.1f" % latency["0.99"], "%.1f" % latency["1"]]))
except Exception as error:
    print("\t".join([strategy, "error (exit %s): %s" % (status, error), "", "", "", "", ""]))
EOF
}

case "$mode" in
    targets)
        runs=${count:-3}
        cargo build --release --bin glomers --bin txn-list-append >&2
        rows="$store/rows.tsv"
        : >"$rows"
        for strategy in "${strategies[@]}"; do
            for _ in $(seq "$runs"); do
                run_once "$strategy" "--node-count 2 --time-limit 10 --rate 100" | tee -a "$rows" >&2
            done
        done
        python3 - "$rows" "$runs" >"$out/txn-list-append.md" <<'EOF'
import sys, datetime
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
print("# txn-list-append strategies\n")
print("`scripts/list-append.sh targets %s` on %s: `glomers test -w txn-list-append --bin"
      " target/release/txn-list-append --node-count 2 --time-limit 10 --rate 100`, process mode,"
      " one row per run. Targets (issue 14): default (sequencer) ≤ 2 servers msgs-per-op,"
      " `datomic` ≤ 6.\n" % (sys.argv[2], datetime.date.today()))
print("| `GLOMERS_LIST_APPEND` | valid | servers msgs-per-op | ok-fraction | latency median / p99 / max (ms) |")
print("|---|---|---:|---:|---:|")
for s, valid, mpo, ok, p50, p99, top in rows:
    print("| %s | %s | %s | %s | %s / %s / %s |" % (s, valid, mpo, ok, p50, p99, top))
print("\nEvery command line of the Datomic chapters, both strategies:"
      " perf/txn-list-append-chapters.md (`scripts/list-append.sh chapters`).")
EOF
        cat "$out/txn-list-append.md"
        ;;
    chapters)
        cargo build --release --bin glomers --bin txn-list-append >&2
        failed=0
        rows="$store/rows.tsv"
        : >"$rows"
        for strategy in "${strategies[@]}"; do
            for flags in "${chapter_lines[@]}"; do
                row=$(run_once "$strategy" "$flags")
                printf '%s\t%s\n' "$row" "$flags" | tee -a "$rows" >&2
                [[ "$(cut -f2 <<<"$row")" == true ]] || failed=1
            done
        done
        python3 - "$rows" >"$out/txn-list-append-chapters.md" <<'EOF'
import sys, datetime
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
valid = sum(r[1] == "true" for r in rows)
print("# txn-list-append: every command line of the Datomic chapters\n")
print("`scripts/list-append.sh chapters` on %s (process mode, release binaries; the last"
      " line is beyond the chapters: 3 nodes with partitions). %d of %d runs valid.\n"
      % (datetime.date.today(), valid, len(rows)))
print("| `GLOMERS_LIST_APPEND` | flags after `-w txn-list-append` | valid | servers msgs-per-op"
      " | ok-fraction | latency median / p99 / max (ms) |")
print("|---|---|---|---:|---:|---:|")
for s, run_valid, mpo, ok, p50, p99, top, flags in rows:
    print("| %s | `%s` | %s | %s | %s | %s / %s / %s |" % (s, flags, run_valid, mpo, ok, p50, p99, top))
EOF
        cat "$out/txn-list-append-chapters.md"
        exit "$failed"
        ;;
    sweeps)
        seeds=${count:-200}
        cargo build --release --bin glomers >&2
        failed=0
        for strategy in "${strategies[@]}"; do
            for flags in "${sweep_lines[@]}"; do
                echo "== GLOMERS_LIST_APPEND=$strategy $flags"
                # shellcheck disable=SC2086
                GLOMERS_LIST_APPEND="$strategy" "$bin/glomers" sweep --seeds "$seeds" --jobs 2 \
                    --seed 1 -w txn-list-append $flags | tail -n 3 || failed=1
            done
        done
        exit "$failed"
        ;;
    *) usage ;;
esac
