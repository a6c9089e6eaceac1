#!/usr/bin/env bash
# Builds the fuzz targets of fuzz/ and runs each for SECONDS (default 60) with libFuzzer, on the
# stable toolchain: libfuzzer-sys links libFuzzer, and rustc's stable coverage flags (the sancov
# pass, 8-bit counters, comparison tracing) instrument the code as `cargo fuzz` does. No
# sanitizer: the targets are safe Rust, what they look for is panics (debug assertions and
# overflow checks are on), hangs and broken invariants. Each target starts from its seeds in
# fuzz/seeds/<target> (inputs of the tests) and keeps what it finds in target/fuzz/corpus/;
# a finding is written to target/fuzz/artifacts/<target>/ and fails the script.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      (default: every target)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(text phone sender webhooks api)

out=$root/target/fuzz
export CARGO_TARGET_DIR=$out/build
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
# With an explicit --target the flags instrument the targets only, not build scripts and proc
# macros (which would not link without libFuzzer), as `cargo fuzz` does.
host=$(rustc -vV | sed -n 's/^host: //p')
printf '==> building the fuzz targets\n' >&2
cargo build --manifest-path fuzz/Cargo.toml --release --locked --bins --target "$host"
bin=$CARGO_TARGET_DIR/$host/release

# Long enough for ten SMS parts of three-byte characters; the API target needs room for batches.
declare -A max_len=([text]=16384 [phone]=256 [sender]=256 [webhooks]=8192 [api]=16384)
failed=()
for t in "${targets[@]}"; do
  corpus=$out/corpus/$t artifacts=$out/artifacts/$t/
  mkdir -p "$corpus" "$artifacts"
  log=$out/$t.log
  printf '==> %s: %ss\n' "$t" "$seconds" >&2
  if "$bin/$t" "$corpus" "fuzz/seeds/$t" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="${max_len[$t]}" \
    -artifact_prefix="$artifacts" -print_final_stats=1 >"$log" 2>&1; then
    result=ok
  else
    result=FINDING
    failed+=("$t")
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  printf '%-8s %-7s %s runs in %ss, %s, corpus %s inputs\n' "$t" "$result" "${runs:-?}" "$seconds" \
    "${cov:-cov: ?}" "$(ls "$corpus" | wc -l)"
  [ "$result" = ok ] || tail -30 "$log" >&2
done
[ ${#failed[@]} -eq 0 ] || { echo "findings in: ${failed[*]} (see $out/artifacts)" >&2; exit 1; }
