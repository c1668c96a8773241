#!/usr/bin/env bash
# Checks how simd-json's stage 2, as compiled into the release `echo`, reloads each string
# that `parse_str` returns through memory: as two 8-byte words (forwarded from the two
# stores that wrote them: fast) or as one 16-byte word (not forwardable: a stall on every
# string, twice the stage-2 time; see src/wire/parse.rs). Run it after changing
# src/wire/parse.rs or upgrading rustc or simd-json.
#
#   perf/stage2-reloads.sh            (builds target/release/echo first)
#
# Exit status 1 if any 16-byte reload follows a call through a function pointer.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -j1 --bin echo
objdump -d --no-show-raw-insn -C target/release/echo | awk '
    /^[0-9a-f]+ <.*>:$/ { function_name = $0 }
    /call +\*0x[0-9a-f]+\(%rsp\)/ { window = 6; next }
    window > 0 {
        window--
        if ($0 ~ /mov(dq|up)u? +0x[0-9a-f]+\(%rsp\),%xmm/) wide[function_name]++
        if ($0 ~ /mov +0x[0-9a-f]+\(%rsp\),%r[0-9a-z]+$/) narrow[function_name]++
    }
    END {
        for (f in narrow) printf "%3d 8-byte reloads after a call through a pointer in %s\n", narrow[f], f
        for (f in wide) { printf "%3d 16-byte reloads after a call through a pointer in %s\n", wide[f], f; bad = 1 }
        exit bad
    }'
