#!/usr/bin/env bash
# The portal in a real browser: headless Chromium (Debian's chromium and chromium-driver, never a
# downloaded one) driven by Selenium (PyPI, pinned, in a venv under the test cache) against a live
# `praxis-sms serve` on a fresh data dir (tests/portal_e2e.py says what it does). With
# --screenshots it also writes every page at 1280 and 390 pixels wide into docs/screenshots/.
# Needs a built `praxis-sms` (debug).
#
#   tests/portal_e2e.sh [--screenshots]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

for tool in chromium chromedriver; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install chromium chromium-driver" >&2; exit 1; }
done

. tests/lib/venv.sh
venv=$(pinned_venv selenium-venv selenium 4.51.0)
python=$venv/bin/python

# PRAXIS_E2E_BACKEND=aws (under scripts/moto.sh): the stack and the admin commands on the AWS
# adapters, on fresh resources from `praxis-sms aws bootstrap`.
if [ "${PRAXIS_E2E_BACKEND:-embedded}" = aws ]; then
  [ -n "${AWS_ENDPOINT_URL:-}" ] || { echo "PRAXIS_E2E_BACKEND=aws needs scripts/moto.sh" >&2; exit 2; }
  boot=$("${CARGO_TARGET_DIR:-target}/debug/praxis-sms" aws bootstrap --name "praxis-portal-e2e-$$" --sender-email noreply@example.com)
  eval "$("$python" -c 'import json, shlex, sys
for k, v in json.loads(sys.argv[1])["env"].items():
    print(f"export {k}={shlex.quote(str(v))}")' "$boot")"
  export PRAXIS_SMS_BACKEND=aws
fi

. tests/lib/serve.sh
start_serve

# A practice of its own, as an operator creates one: its main account gets a set-password link.
created=$("$bin" org create --data-dir "$data_dir" --name "Zahnarztpraxis Dr. Sonnenschein" \
  --email rezeption@sonnenschein.example --sender DrSonne --public-url "$url" \
  --address "Lindenallee 5, 50667 Köln")
# A patient's reply and an opt-out, so the replies page has something to show.
new_org=$("$python" -c 'import json,sys; print(json.loads(sys.argv[1])["id"])' "$created")
"$bin" org update --data-dir "$data_dir" --org "$new_org" --reply-number +4915112340077 >/dev/null

# Chromium's own runtime files in a fresh profile dir the script removes.
profile=$(mktemp -d)
trap 'rm -rf "$profile"; stop_serve' EXIT
export SE_AVOID_STATS=true SE_OFFLINE=true

timeout 180 "$python" tests/portal_e2e.py --url "$url" --bin "$bin" --data-dir "$data_dir" \
  --created "$created" --profile "$profile" "$@"
