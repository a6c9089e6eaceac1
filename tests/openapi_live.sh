#!/usr/bin/env bash
# openapi.yaml against the real thing: validates the document as OpenAPI 3.1 and its examples
# against their schemas, then starts `praxis-sms serve` on a fresh data dir and checks every live
# answer of a scripted session (tests/openapi_check.py) against the schema the document gives for
# that route and status. Needs a built `praxis-sms` (debug) and Python 3 with venv.
#
#   tests/openapi_live.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

cache=${PRAXIS_TEST_CACHE:-$root/target/test-deps}
venv=$cache/openapi-venv
version=0.8.5
if [ ! -x "$venv/bin/python" ] ||
  ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('openapi-spec-validator') != '$version')" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "openapi-spec-validator==$version"
fi

target_dir=${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')}
bin=$target_dir/debug/praxis-sms
[ -x "$bin" ] || { echo "no $bin; run cargo build --bin praxis-sms first" >&2; exit 2; }

data=$(mktemp -d)
out=$data/serve.out
"$bin" serve --data-dir "$data/data" --addr 127.0.0.1:0 >"$out" 2>"$data/serve.err" &
pid=$!
stop() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$data"
}
trap stop EXIT

for _ in $(seq 1 200); do
  grep -q '"event":"listening"' "$out" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$data/serve.err" >&2; exit 1; }
  sleep 0.1
done
read -r url key org < <("$venv/bin/python" - "$out" <<'PY'
import json, sys
url = key = org = None
for line in open(sys.argv[1]):
    event = json.loads(line)
    if event.get("event") == "demo_practice":
        key = event["practice"]["api_key"]
        org = event["practice"]["id"]
    if event.get("event") == "listening":
        url = event["url"]
print(url, key, org)
PY
)
[ "$url" != None ] && [ "$key" != None ] || { echo "serve did not start: $(cat "$out")" >&2; exit 1; }

# A patient opts out of the demo practice's SMS by answering its reply number with STOP.
patient=+4917612349876
"$bin" org update --data-dir "$data/data" --org "$org" --reply-number +4915112340000 >/dev/null
"$bin" sim inbound --data-dir "$data/data" --addr "$url" --to +4915112340000 --from "$patient" \
  --text STOP >/dev/null

"$venv/bin/python" tests/openapi_check.py --url "$url" --key "$key" --opted-out "$patient"
