# Sourced by the tests that need a live stack: starts `praxis-sms serve` (debug build) on a free
# port and a fresh data dir, stops it and removes the dir on exit, and sets `url`, `key` and `org`
# (the demo practice's API key and id), `bin` (the praxis-sms it runs) and `data_dir` (its data). `python` must be set to a Python 3 interpreter first.
#
#   python=…; . tests/lib/serve.sh; start_serve [extra serve arguments]

start_serve() {
  local target_dir
  target_dir=${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps |
    "$python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')}
  bin=$target_dir/debug/praxis-sms
  [ -x "$bin" ] || { echo "no $bin; run cargo build --bin praxis-sms first" >&2; exit 2; }

  serve_dir=$(mktemp -d)
  local out=$serve_dir/serve.out
  data_dir=$serve_dir/data
  # The suites send thousands of requests a minute as one practice: past the default rate limit.
  PRAXIS_SMS_RATE_LIMIT=${PRAXIS_SMS_RATE_LIMIT:-1000000} "$bin" serve --data-dir "$data_dir" --addr 127.0.0.1:0 "$@" >"$out" 2>"$serve_dir/serve.err" &
  serve_pid=$!
  trap stop_serve EXIT

  for _ in $(seq 1 200); do
    grep -q '"event":"listening"' "$out" 2>/dev/null && break
    kill -0 "$serve_pid" 2>/dev/null || { cat "$serve_dir/serve.err" >&2; exit 1; }
    sleep 0.1
  done
  read -r url key org < <("$python" - "$out" <<'PY'
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
}

stop_serve() {
  kill "$serve_pid" 2>/dev/null || true
  wait "$serve_pid" 2>/dev/null || true
  rm -rf "$serve_dir"
}
