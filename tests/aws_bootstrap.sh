#!/usr/bin/env bash
# `praxis-sms aws bootstrap` and the admin commands on the AWS backend, against moto:
#
#   cargo build --bin praxis-sms && scripts/moto.sh bash tests/aws_bootstrap.sh
#
# Needs AWS_ENDPOINT_URL (scripts/moto.sh sets it) so nothing reaches a real account.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

if [ -z "${AWS_ENDPOINT_URL:-}" ]; then
  fail "AWS_ENDPOINT_URL is not set; run this under scripts/moto.sh"
fi

bin=${PRAXIS_SMS_BIN:-}
if [ -z "$bin" ]; then
  for candidate in "${CARGO_TARGET_DIR:-}/debug/praxis-sms" "$root/target/debug/praxis-sms"; do
    if [ -x "$candidate" ]; then
      bin=$candidate
      break
    fi
  done
fi
[ -n "$bin" ] && [ -x "$bin" ] || fail "no praxis-sms binary; run cargo build --bin praxis-sms first"

# `field JSON NAME` prints a top-level string field of a JSON object (empty if absent).
field() {
  python3 -c 'import json, sys; v = json.loads(sys.argv[1]).get(sys.argv[2]); print("" if v is None else v)' "$1" "$2"
}

name=praxis-sms-test
export PRAXIS_SMS_TABLE=$name
export PRAXIS_SMS_SENDER_EMAIL=noreply@example.com
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "==> aws bootstrap" >&2
out=$("$bin" aws bootstrap --name "$name") || fail "aws bootstrap"
echo "$out"
[ "$(field "$out" table)" = "$name" ] || fail "bootstrap did not report the table: $out"
[ "$(field "$out" table_created)" = "True" ] || fail "the first bootstrap did not create the table: $out"
queue_url=$(field "$out" queue_url)
[ -n "$queue_url" ] || fail "bootstrap printed no queue_url: $out"
[ -n "$(field "$out" dlq_url)" ] || fail "bootstrap printed no dlq_url: $out"
[ "$(field "$out" bucket)" = "$name-blobs" ] || fail "bootstrap did not report the bucket: $out"
case "$(field "$out" invoice_queue_url)" in
  *"$name-invoices") ;;
  *) fail "bootstrap printed no invoice_queue_url: $out" ;;
esac
[ -n "$(field "$out" invoice_dlq_url)" ] || fail "bootstrap printed no invoice_dlq_url: $out"

echo "==> org create --backend aws" >&2
org=$("$bin" org create --backend aws --name "Praxis Dr. Test" --email praxis@example.com \
  --sender PraxisTest) || fail "org create --backend aws"
echo "$org"
api_key=$(field "$org" api_key)
key_id=$(field "$org" api_key_id)
org_id=$(field "$org" id)
[ -n "$api_key" ] || fail "org create printed no api_key: $org"
[ -n "$key_id" ] || fail "org create printed no api_key_id: $org"

echo "==> invoices run --backend aws (a practice active since today: its free month)" >&2
month=$(date -u +%Y-%m)
run=$("$bin" invoices run --backend aws --month "$month" --data-dir "$tmp/data") || fail "invoices run --backend aws"
echo "$run"
grep -q '"outcome":"created"' <<<"$run" || fail "invoices run created no invoice: $run"
again_run=$("$bin" invoices run --backend aws --month "$month" --data-dir "$tmp/data") || fail "the second invoices run"
grep -q '"created":0' <<<"$again_run" || fail "the second invoices run created something: $again_run"

echo "==> org list --backend aws" >&2
list=$("$bin" org list --backend aws) || fail "org list --backend aws"
grep -q "$org_id" <<<"$list" || fail "org list does not show $org_id: $list"

echo "==> aws bootstrap again (idempotent)" >&2
again=$("$bin" aws bootstrap --name "$name") || fail "the second aws bootstrap"
[ "$(field "$again" table_created)" = "False" ] || fail "the second bootstrap claims a new table: $again"
[ "$(field "$again" queue_url)" = "$queue_url" ] || fail "the second bootstrap changed the queue URL: $again"

echo "==> the practice survived the second bootstrap" >&2
keys=$("$bin" key list --backend aws --org "$org_id") || fail "key list --backend aws"
grep -q "$key_id" <<<"$keys" || fail "key list does not show $key_id: $keys"

echo "==> key revoke --backend aws" >&2
revoked=$("$bin" key revoke --backend aws --key-id "$key_id") || fail "key revoke --backend aws"
[ "$(field "$revoked" revoked)" = "$key_id" ] || fail "key revoke did not report $key_id: $revoked"
if "$bin" key revoke --backend aws --key-id "$key_id" >/dev/null 2>&1; then
  fail "revoking the same key twice succeeded"
fi

echo "==> org update --backend aws" >&2
other=$("$bin" org create --backend aws --name "Praxis Zwei" --email zwei@example.com \
  --reply-number "0151 12341111") || fail "org create --reply-number --backend aws"
other_id=$(field "$other" id)
updated=$("$bin" org update --backend aws --org "$org_id" --name "Praxis Dr. Test, Wien" \
  --reply-email antworten@example.com --region AT --reply-number +4915112340000) ||
  fail "org update --backend aws"
[ "$(field "$updated" reply_email)" = antworten@example.com ] || fail "org update: $updated"
[ "$(field "$updated" region)" = AT ] || fail "org update did not set the region: $updated"
[ "$(field "$updated" reply_number)" = +4915112340000 ] || fail "org update: $updated"
if "$bin" org update --backend aws --org "$other_id" --reply-number +4915112340000 >/dev/null 2>&1; then
  fail "a second practice took a reply number another has"
fi
"$bin" org update --backend aws --org "$org_id" --no-reply-number >/dev/null ||
  fail "org update --no-reply-number --backend aws"
moved=$("$bin" org update --backend aws --org "$other_id" --reply-number +4915112340000) ||
  fail "taking a freed reply number"
[ "$(field "$moved" reply_number)" = +4915112340000 ] || fail "the freed number did not move: $moved"
list=$("$bin" org list --backend aws) || fail "org list --backend aws"
grep -q antworten@example.com <<<"$list" || fail "org list does not show the reply e-mail: $list"

echo "==> opt-out list/remove --backend aws" >&2
opt_outs=$("$bin" opt-out list --backend aws --org "$org_id") || fail "opt-out list --backend aws"
[ "$(python3 -c 'import json, sys; print(len(json.loads(sys.argv[1])["opt_outs"]))' "$opt_outs")" = 0 ] ||
  fail "a new practice has opt-outs: $opt_outs"
if "$bin" opt-out remove --backend aws --org "$org_id" "0176 12345678" >/dev/null 2>&1; then
  fail "lifting an opt-out that is not there succeeded"
fi

echo "PASS: aws bootstrap, org create/list/update, key list/revoke, opt-out list/remove on the AWS backend" >&2
