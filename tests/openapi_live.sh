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

. tests/lib/venv.sh
venv=$(pinned_venv openapi-venv openapi-spec-validator 0.8.5)

python=$venv/bin/python
. tests/lib/serve.sh
start_serve

# A patient opts out of the demo practice's SMS by answering its reply number with STOP.
patient=+4917612349876
"$bin" org update --data-dir "$data_dir" --org "$org" --reply-number +4915112340000 >/dev/null
"$bin" sim inbound --data-dir "$data_dir" --addr "$url" --to +4915112340000 --from "$patient" \
  --text STOP >/dev/null

"$python" tests/openapi_check.py --url "$url" --key "$key" --opted-out "$patient"
