#!/usr/bin/env bash
# Why this file exists: one command builds Picket's fuzz targets and runs each in turn for a
# fixed time, with a summary per target, so a long run and CI's smoke run are the same thing
# (docs/FUZZING.md).
#
#   fuzz/run.sh [SECONDS]          each target SECONDS (default 600), one after another
#   fuzz/run.sh --smoke [SECONDS]  each target SECONDS (default 5): for CI
#   FUZZ_TARGETS="activity object" fuzz/run.sh 60   only those targets
#   FUZZ_TARGET_DIR=/some/cache fuzz/run.sh --smoke  build there (default fuzz/target), so a
#                                  fresh clone on a machine that ran it before skips the build
#   FUZZ_SANITIZER=none fuzz/run.sh  without AddressSanitizer (default: address)
#
# Exits 1 when any target found a crash (panic, sanitizer report, timeout or out-of-memory),
# 2 when it cannot build or run. One fuzzing process at a time (no -jobs/-workers): the
# machine has two cores and shares them.
set -euo pipefail
cd "$(dirname "$0")"

seconds=600
if [[ "${1:-}" == "--smoke" ]]; then
    seconds=5
    shift
fi
if [[ $# -gt 0 ]]; then
    seconds="$1"
fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [[ "$seconds" -lt 1 ]]; then
    echo "usage: fuzz/run.sh [--smoke] [SECONDS]" >&2
    exit 2
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is not installed: cargo install cargo-fuzz --version 0.13.2 --locked" >&2
    exit 2
fi

# cargo-fuzz passes nightly flags (-Zsanitizer, -Cpasses=sancov-module, ...); RUSTC_BOOTSTRAP
# lets the stable toolchain take them. No nightly toolchain is needed.
export RUSTC_BOOTSTRAP=1
# Bounded build parallelism unless the caller says otherwise.
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
sanitizer="${FUZZ_SANITIZER:-address}"

targets="${FUZZ_TARGETS:-activity object signature api_input}"
build_args=(--sanitizer "$sanitizer")
if [[ -n "${FUZZ_TARGET_DIR:-}" ]]; then
    build_args+=(--target-dir "$FUZZ_TARGET_DIR")
fi

echo "== building fuzz targets (sanitizer: $sanitizer)"
build_start=$(date +%s)
if ! cargo fuzz build "${build_args[@]}"; then
    echo "fuzz: build failed" >&2
    exit 2
fi
echo "== built in $(($(date +%s) - build_start)) s"

# Tokens the targets' formats are made of (fuzz/dict/), one dictionary per target.
dictionary() {
    case "$1" in
        activity | object) echo dict/json.dict ;;
        api_input)
            cat dict/json.dict dict/api_input.dict >target/dict/api_input.dict
            echo target/dict/api_input.dict
            ;;
        *) [[ -f "dict/$1.dict" ]] && echo "dict/$1.dict" ;;
    esac
}

mkdir -p target/fuzz-logs target/corpus-work target/dict
failed=()
summary=()
for target in $targets; do
    # New inputs go to a scratch corpus under target/ (kept between runs, never committed);
    # the committed seeds in corpus/<target>/ are only read.
    work="target/corpus-work/$target"
    log="target/fuzz-logs/$target.log"
    mkdir -p "$work" "artifacts/$target"
    before=$(find "artifacts/$target" -type f | wc -l)
    echo "== $target: ${seconds}s (log: fuzz/$log)"
    flags=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536
        -print_final_stats=1)
    dict=$(dictionary "$target" || true)
    if [[ -n "$dict" ]]; then
        flags+=(-dict="$dict")
    fi
    start=$(date +%s)
    set +e
    cargo fuzz run "${build_args[@]}" "$target" "$work" "corpus/$target" -- "${flags[@]}" \
        >"$log" 2>&1
    status=$?
    set -e
    elapsed=$(($(date +%s) - start))
    after=$(find "artifacts/$target" -type f | wc -l)
    found=$((after - before))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [[ -z "$execs" ]]; then
        execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$log" | tail -1)
    fi
    execs="${execs:-0}"
    line="$target: executions $execs, crashes $found, time ${elapsed}s"
    if [[ $status -ne 0 || $found -gt 0 ]]; then
        line="$line, FAILED (exit $status)"
        failed+=("$target")
        # What libFuzzer said about it, and where the input is.
        {
            grep -E -A1 "panicked at" "$log" | head -6
            grep -E "ERROR: |SUMMARY: |Test unit written to" "$log" | head -10
        } | sed 's/^/    /' || true
        if [[ $found -eq 0 ]]; then
            tail -20 "$log" | sed 's/^/    /'
        fi
    fi
    echo "$line"
    summary+=("$line")
done

echo "== fuzz summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz: crashes in: ${failed[*]} (inputs under fuzz/artifacts/; see docs/FUZZING.md to reproduce)" >&2
    exit 1
fi
echo "fuzz: no crash"
