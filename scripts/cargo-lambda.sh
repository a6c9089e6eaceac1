#!/usr/bin/env bash
# Runs `cargo lambda` from a cached venv: installs cargo-lambda and Zig (its linker, from the
# `ziglang` package) from PyPI, pinned, on first use, then runs `cargo lambda "$@"`.
#
#   scripts/cargo-lambda.sh build --release --x86-64 --output-format zip
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

cargo_lambda_version=1.9.2
ziglang_version=0.14.1
cache=${PRAXIS_TEST_CACHE:-$root/target/test-deps}
venv=$cache/cargo-lambda-venv
mkdir -p "$cache"

installed() {
  [ -x "$venv/bin/cargo-lambda" ] &&
    "$venv/bin/cargo-lambda" lambda --version 2>/dev/null | grep -qF "cargo-lambda $cargo_lambda_version " &&
    [ "$("$venv/bin/python" -m ziglang version 2>/dev/null)" = "$ziglang_version" ]
}
if ! installed; then
  echo "==> installing cargo-lambda==$cargo_lambda_version and ziglang==$ziglang_version into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "cargo-lambda==$cargo_lambda_version" "ziglang==$ziglang_version"
fi

# cargo-lambda finds Zig as `python3 -m ziglang`, so the venv's python3 goes first on PATH.
export PATH="$venv/bin:$PATH"
exec "$venv/bin/cargo-lambda" lambda "$@"
