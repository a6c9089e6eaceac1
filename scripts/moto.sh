#!/usr/bin/env bash
# Runs a command against moto, a real AWS API emulator over HTTP: installs moto[server] (pinned)
# into a venv, starts it on a free loopback port, exports AWS_ENDPOINT_URL and dummy
# credentials, runs the command, and stops moto however the command ends.
#
#   scripts/moto.sh cargo test -p praxis-shared --features aws --test store_aws
set -euo pipefail
if [ "$#" -eq 0 ]; then
  echo "usage: $0 <command> [args...]" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)

moto_version=5.2.5
cache=${PRAXIS_TEST_CACHE:-$root/target/test-deps}
venv=$cache/moto-venv
mkdir -p "$cache"

if [ ! -x "$venv/bin/moto_server" ] ||
  ! "$venv/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$moto_version')" 2>/dev/null; then
  echo "==> installing moto[server]==$moto_version into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$moto_version"
fi

# moto cannot choose a port and report it, so the kernel picks a free one; the moment between
# closing it here and moto binding it is a race we accept (moto then fails loudly below).
port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

log=$(mktemp "$cache/moto.XXXXXX.log")
# moto_server.py is moto's server with its whole-table copy per DynamoDB transaction replaced by
# a backup of the items the transaction touches (same rollback; see the file).
"$venv/bin/python" "$root/scripts/moto_server.py" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
stop_moto() {
  kill "$moto_pid" 2>/dev/null || true
  wait "$moto_pid" 2>/dev/null || true
  rm -f "$log"
}
trap stop_moto EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

endpoint=http://127.0.0.1:$port
for _ in $(seq 1 100); do
  if curl -fs -o /dev/null "$endpoint/moto-api/"; then
    break
  fi
  if ! kill -0 "$moto_pid" 2>/dev/null; then
    echo "moto exited at start; its log ($log):" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done
if ! curl -fs -o /dev/null "$endpoint/moto-api/"; then
  echo "moto did not answer on $endpoint within 10 s; its log:" >&2
  cat "$log" >&2
  exit 1
fi
echo "==> moto $moto_version on $endpoint" >&2

export AWS_ENDPOINT_URL=$endpoint
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=eu-central-1
export AWS_DEFAULT_REGION=eu-central-1
# Nothing from the operator's own AWS setup may leak into the tests.
unset AWS_PROFILE AWS_SESSION_TOKEN
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_EC2_METADATA_DISABLED=true

"$@"
