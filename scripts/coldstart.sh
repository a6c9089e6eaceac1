#!/usr/bin/env bash
# Cold-start benchmark of the Lambda functions (issue 3). Builds the four functions and the
# hello-world baseline (tools/hello-lambda) as they are built for deployment (`cargo lambda
# build --release`, the host's architecture), then starts each against a Lambda Runtime API
# emulator on loopback and prints the time to its first /next, its size, whether it touched the
# network during init, and praxis-api's answer to GET /v1/key-check without a key
# (scripts/coldstart/bench.py). Prints figures: it fails on a broken binary, never on a timing.
#
#   scripts/coldstart.sh [--runs N] [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

runs=30
build=true
while [ "$#" -gt 0 ]; do
  case "$1" in
    --runs)
      runs=$2
      shift 2
      ;;
    --no-build)
      build=false
      shift
      ;;
    *)
      echo "usage: $0 [--runs N] [--no-build]" >&2
      exit 2
      ;;
  esac
done

case "$(uname -m)" in
  aarch64 | arm64) arch=--arm64 ;;
  *) arch=--x86-64 ;;
esac
functions=(praxis-api praxis-dispatch praxis-dlr praxis-inbound praxis-invoice praxis-portal praxis-sweeper)

if $build; then
  packages=()
  for f in "${functions[@]}"; do
    packages+=(-p "$f")
  done
  scripts/cargo-lambda.sh build --locked --release "$arch" "${packages[@]}"
  # Alone, so that it is the plain hello world (no features the functions switch on).
  scripts/cargo-lambda.sh build --locked --release "$arch" -p hello-lambda
fi

target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
binaries=("hello-lambda=$target_dir/lambda/hello-lambda/bootstrap")
for f in "${functions[@]}"; do
  binaries+=("$f=$target_dir/lambda/$f/bootstrap")
done
for b in "${binaries[@]}"; do
  if readelf --wide --sections "${b#*=}" | grep -q ' \.symtab '; then
    echo "warning: ${b#*=} is not stripped (the release profile strips)" >&2
  fi
done

python3 scripts/coldstart/bench.py --runs "$runs" --template template.yaml --events events \
  "${binaries[@]}"
