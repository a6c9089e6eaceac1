#!/usr/bin/env bash
# openapi.yaml as practice software teams use it: generates the Python client with
# openapi-python-client and runs a short session with it against `praxis-sms serve` on a fresh
# data dir (tests/clients/smoke.py), and generates TypeScript types with openapi-typescript and
# type-checks tests/clients/check.ts against them. Versions are pinned (a venv, and npm ci from
# tests/clients/package-lock.json) under the test cache. Needs a built `praxis-sms` (debug),
# Python 3 with venv, and Node.js with npm.
#
#   tests/generated_clients.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cache=${PRAXIS_TEST_CACHE:-$root/target/test-deps}

. tests/lib/venv.sh
venv=$(pinned_venv openapi-client-venv openapi-python-client 0.29.1)

npm_dir=$cache/clients-npm
if ! cmp -s tests/clients/package-lock.json "$npm_dir/package-lock.json" || [ ! -x "$npm_dir/node_modules/.bin/tsc" ]; then
  mkdir -p "$npm_dir"
  cp tests/clients/package.json tests/clients/package-lock.json "$npm_dir/"
  npm ci --prefix "$npm_dir" --no-audit --no-fund --loglevel=error
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "TypeScript: openapi-typescript, then tsc --strict on tests/clients/check.ts"
cp tests/clients/check.ts "$work/"
"$npm_dir/node_modules/.bin/openapi-typescript" openapi.yaml -o "$work/api.d.ts" >/dev/null
"$npm_dir/node_modules/.bin/tsc" --strict --noEmit --target es2022 --module es2022 --moduleResolution bundler \
  "$work/check.ts"
echo "  ok  check.ts type-checks against the generated types"

echo "Python: openapi-python-client, then tests/clients/smoke.py against a live serve"
"$venv/bin/openapi-python-client" generate --path openapi.yaml --meta none \
  --config tests/clients/openapi-python-client.yaml --output-path "$work/praxis_sms_client" >"$work/generate.log" 2>&1 ||
  { cat "$work/generate.log" >&2; exit 1; }
if grep -q "Warning" "$work/generate.log"; then cat "$work/generate.log" >&2; exit 1; fi

python=$venv/bin/python
. tests/lib/serve.sh
start_serve
trap 'stop_serve; rm -rf "$work"' EXIT
PYTHONPATH=$work "$python" tests/clients/smoke.py --url "$url" --key "$key"
