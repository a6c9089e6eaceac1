#!/usr/bin/env bash
# Builds the four Lambda functions with cargo-lambda (Zig as the linker) as deployable zips,
# target/lambda/<function>/bootstrap.zip, and checks that no binary needs a glibc symbol version
# newer than 2.34, the glibc of the provided.al2023 runtime.
#
#   scripts/package.sh            for the template's default Architecture (arm64)
#   scripts/package.sh --x86-64   for Architecture=x86_64
#   scripts/package.sh --arm64    for Architecture=arm64
#   scripts/package.sh --check    the glibc check only (this machine's architecture unless one is
#                                 given), on a quicker build (profile lambda-check:
#                                 release without LTO; which glibc symbols a binary needs does
#                                 not depend on LTO); what scripts/test.sh runs
#
# Cross-building needs the target's Rust standard library (`rustup target add
# aarch64-unknown-linux-gnu` or `x86_64-unknown-linux-gnu`); Zig does the linking.
set -euo pipefail
cd "$(dirname "$0")/.."

glibc_limit=2.34
functions=(praxis-api praxis-dispatch praxis-dlr praxis-inbound praxis-invoice praxis-portal praxis-sweeper)

# The template's Architecture parameter decides what is deployed unless overridden.
arch=$(sed -n '/^  Architecture:/,/^  [A-Za-z]/s/^    Default: *//p' template.yaml)
arch=${arch/x86_64/x86-64}
check=false
chosen=
for arg in "$@"; do
  case "$arg" in
    --arm64) chosen=arm64 ;;
    --x86-64) chosen=x86-64 ;;
    --check) check=true ;;
    *)
      echo "usage: $0 [--x86-64 | --arm64] [--check]" >&2
      exit 2
      ;;
  esac
done

if [ -n "$chosen" ]; then
  arch=$chosen
elif $check; then
  # The check builds for this machine's own architecture, whose standard library is always
  # there (CI need not download one); Zig links against the same old glibc stubs either way.
  case $(uname -m) in
    aarch64 | arm64) arch=arm64 ;;
    *) arch=x86-64 ;;
  esac
fi
if [ "$arch" = arm64 ]; then
  triple=aarch64-unknown-linux-gnu
else
  triple=x86_64-unknown-linux-gnu
fi
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$triple"; then
  echo "==> adding the Rust standard library for $triple" >&2
  if ! rustup target add "$triple"; then
    echo "cannot build for $triple here: its Rust standard library is missing and rustup could" >&2
    echo "not install it. Build on a machine where \`rustup target add $triple\` works," >&2
    echo "or deploy with Architecture=x86_64 (scripts/package.sh --x86-64)." >&2
    exit 1
  fi
fi

target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
packages=()
for f in "${functions[@]}"; do
  packages+=(-p "$f")
done

if $check; then
  profile=lambda-check
  lambda_dir=$target_dir/lambda-glibc-check
  build=(--profile lambda-check --lambda-dir "$lambda_dir")
else
  profile=release
  lambda_dir=$target_dir/lambda
  build=(--release --output-format zip)
fi

start=$SECONDS
scripts/cargo-lambda.sh build --locked "--$arch" "${build[@]}" "${packages[@]}"
echo "==> cargo lambda build ($profile, $triple): $((SECONDS - start)) s" >&2

# The highest GLIBC_x.y version any of the binary's symbols is bound to.
glibc_needed() {
  readelf --wide --version-info "$1" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/^GLIBC_//' |
    sort -u -V | tail -n 1
}

# cargo-lambda moves each binary out of target/ into the lambda dir (or its zip): check that.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=false
for f in "${functions[@]}"; do
  if $check; then
    bin=$lambda_dir/$f/bootstrap
  else
    zip=$lambda_dir/$f/bootstrap.zip
    bin=$tmp/$f
    python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read("bootstrap"))' \
      "$zip" >"$bin"
  fi
  needed=$(glibc_needed "$bin")
  if [ "$(printf '%s\n' "$needed" "$glibc_limit" | sort -V | tail -n 1)" = "$glibc_limit" ]; then
    verdict=ok
  else
    verdict="FAIL: newer than $glibc_limit"
    failed=true
  fi
  line="$f ($triple): needs glibc $needed ($verdict), bootstrap $(stat -c %s "$bin") bytes"
  if ! $check; then
    line="$line, $zip $(stat -c %s "$zip") bytes"
  fi
  echo "$line"
done
if $failed; then
  echo "a function needs a glibc newer than provided.al2023's $glibc_limit" >&2
  exit 1
fi
