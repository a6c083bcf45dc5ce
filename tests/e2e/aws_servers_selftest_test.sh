#!/usr/bin/env bash
# The strict AWS stand-ins hold their rules: firehose_server.js, cloudwatch_logs_server.js
# and kinesis_server.js are started as the sink tests start them, and
# aws_servers_selftest.js sends each calls signed with @smithy/signature-v4 that must be
# accepted (at every limit: 10,000 events, 1,048,576 bytes, a 24-hour span, 500 records,
# 1 MiB records, 5 MiB calls, 256-character partition keys) and one call per rule that must
# be refused with AWS's status and __type (signature, scope, clock, target, Content-Type,
# body shape, each limit, order, names, base64, retention days...), counted as invalid by
# the server. Too old, expired and too new events come back in rejectedLogEventsInfo while
# the rest is stored; the scheduled faults (throttling, 5xx, failed records, /__deny) come
# in their order. What each server stored is exactly what was accepted, and the counts it
# writes on SIGTERM match. The servers need no ferry: this test guards the ground the sink
# tests stand on.
source "$(dirname "$0")/lib.sh"

command -v node >/dev/null || fail "node is required for the AWS stand-ins"
[ -d "$E2E_DIR/node_modules/@smithy/signature-v4" ] || fail "@smithy/signature-v4 missing: run 'npm ci' in tests/e2e"

REGION=eu-west-1
KEY=AKIAFERRYE2E0000001
SECRET="e2e/secret+key/0123456789abcdefghijklmnop"
TOKEN="e2e-session-token/abc+def="
SERVER_PIDS=()
# start NAME SCRIPT [OPTIONS...]: starts a stand-in on port 0; its port is in $WORK/NAME.port.
start() {
  local name=$1 script=$2; shift 2
  node "$E2E_DIR/$script" --port-file "$WORK/$name.port" --out "$WORK/$name.out" --region "$REGION" \
    --access-key-id "$KEY" --secret-access-key "$SECRET" --stats-file "$WORK/$name.stats" "$@" \
    2> "$WORK/$name.err" &
  PIDS+=($!); SERVER_PIDS+=($!)
}
start firehose firehose_server.js --stream ferry-e2e-stream --session-token "$TOKEN"
start logs cloudwatch_logs_server.js
start logsFaults cloudwatch_logs_server.js --stream /pre/made:one --throttle-first 1 \
  --unavailable-first 1 --fault-fraction 0.5 --fault-actions PutLogEvents,CreateLogStream
start kinesis kinesis_server.js --stream ferry-e2e --shards 2
start kinesisFaults kinesis_server.js --stream faults --fail-fraction 0.2 --throttle-first 1 \
  --unavailable-first 1
NAMES=(firehose logs logsFaults kinesis kinesisFaults)
for name in "${NAMES[@]}"; do
  wait_for 10 test -s "$WORK/$name.port" || { cat "$WORK/$name.err"; fail "$name: server did not start"; }
  touch "$WORK/$name.out"
done
port() { cat "$WORK/$1.port"; }
cat > "$WORK/config.json" <<JSON
{
  "region": "$REGION", "accessKeyId": "$KEY", "secretAccessKey": "$SECRET",
  "summary": "$WORK/summary.json",
  "firehose": { "port": $(port firehose), "service": "firehose", "out": "$WORK/firehose.out",
                "stream": "ferry-e2e-stream", "sessionToken": "$TOKEN" },
  "logs": { "port": $(port logs), "service": "logs", "out": "$WORK/logs.out" },
  "logsFaults": { "port": $(port logsFaults), "service": "logs", "out": "$WORK/logsFaults.out" },
  "kinesis": { "port": $(port kinesis), "service": "kinesis", "out": "$WORK/kinesis.out", "stream": "ferry-e2e" },
  "kinesisFaults": { "port": $(port kinesisFaults), "service": "kinesis", "out": "$WORK/kinesisFaults.out", "stream": "faults" }
}
JSON
START=$(date +%s%N)
(cd "$E2E_DIR" && timeout 60 node aws_servers_selftest.js "$WORK/config.json") ||
  { for name in "${NAMES[@]}"; do tail -5 "$WORK/$name.err"; done; fail "a stand-in broke a rule (above)"; }

# SIGTERM: each server writes its counts; the refusals it counted are the ones sent.
for pid in "${SERVER_PIDS[@]}"; do kill -TERM "$pid"; done
for pid in "${SERVER_PIDS[@]}"; do wait_exit "$pid" 10; [ "$RC" = 0 ] || fail "a stand-in exited $RC on SIGTERM"; done
python3 - "$WORK" "${NAMES[@]}" <<'PY'
import json, sys
work, names = sys.argv[1], sys.argv[2:]
sent = json.load(open(f'{work}/summary.json'))
for name in names:
    stats = json.load(open(f'{work}/{name}.stats'))
    assert stats['invalid_requests'] == sent.get(name, 0), (name, stats['invalid_requests'], sent.get(name, 0), stats['invalid_reasons'])
    stored = sum(1 for _ in open(f'{work}/{name}.out'))
    counted = stats.get('events', stats.get('records', stats.get('lines')))
    assert counted == stored, (name, counted, stored)
    print(f"{name}: {stats['requests']} calls, {stats['valid_requests']} valid, {stats['invalid_requests']} refused as invalid, "
          f"{stored} stored, errors {stats['errors']}")
PY
pass "AWS stand-ins: every rule refused with AWS's status and __type, every limit accepted ($(( ($(date +%s%N) - START) / 1000000 )) ms)"
