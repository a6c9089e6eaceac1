#!/usr/bin/env bash
# Schema-driven testing: schemathesis generates requests for every operation of openapi.yaml
# (positive and negative data, the document's examples, stateful send-then-get through its
# links) against `praxis-sms serve` on a fresh data dir with the demo practice's key, and runs
# all of its checks on every answer. The webhooks are in the same run, without signatures: they
# must answer 401 and nothing else. Seed and example count are fixed, so a run is repeatable.
# Needs a built `praxis-sms` (debug) and Python 3 with venv.
#
#   tests/schemathesis.sh [MAX_EXAMPLES]     (default 40 per operation)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

examples=${1:-40}
. tests/lib/venv.sh
venv=$(pinned_venv schemathesis-venv schemathesis 4.32.5)

python=$venv/bin/python
. tests/lib/serve.sh
start_serve

report=$serve_dir/report
# The formats openapi.yaml names but JSON Schema cannot express (tests/schemathesis_hooks.py).
export PYTHONPATH=$root/tests SCHEMATHESIS_HOOKS=schemathesis_hooks
"$venv/bin/schemathesis" run openapi.yaml \
  --url "$url" \
  --header "Authorization: Bearer $key" \
  --checks all \
  --seed 14 \
  --max-examples "$examples" \
  --workers 1 \
  --no-color \
  --output-truncate false \
  --report junit --report-dir "$report"
