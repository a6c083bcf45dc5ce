#!/usr/bin/env bash
# stdin → firehose → a strict PutRecordBatch stand-in (tests/e2e/firehose_server.js) that
# verifies every SigV4 signature with @smithy/signature-v4 and every limit of the service.
# 20,000 numbered lines arrive exactly once while 10% of the records of every call fail
# (FailedPutCount): only the failed ones are resent. Through throttling (400
# ThrottlingException / 503) and a missing stream, every line still arrives once. With
# aggregate: true, many lines share a Firehose record (far fewer records than lines), each
# line once. Lines near the 1,000 KiB record limit fit; lines over it are dropped and counted.
# Refused permissions (403 AccessDeniedException, then 401) make /health report the output
# unhealthy while nothing is dropped; once they are back every line arrives once.
# Config comes from env vars as on Fargate (DELIVERY_STREAM, AWS_REGION, AWS keys).
source "$(dirname "$0")/lib.sh"

command -v node >/dev/null || fail "node is required for the Firehose stand-in"
[ -d "$E2E_DIR/node_modules/@smithy/signature-v4" ] || fail "@smithy/signature-v4 missing: run 'npm ci' in tests/e2e"

N=20000
export DELIVERY_STREAM="ferry-e2e-stream"
export AWS_REGION="eu-west-1"
export AWS_ACCESS_KEY_ID="AKIAFERRYE2E0000001"
export AWS_SECRET_ACCESS_KEY="e2e/secret+key/0123456789abcdefghijklmnop"
# Nothing else in the credentials chain may answer.
export AWS_EC2_METADATA_DISABLED=true
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
  AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_WEB_IDENTITY_TOKEN_FILE || true

# The inputs (one python start: it is slow on a busy machine): numbered lines with quotes,
# tabs and UTF-8; and lines of 900 KiB (each fits a record alone, 3 per call), two over
# 1,000 KiB, small ones between.
python3 - "$WORK/in.txt" "$N" "$WORK/big.txt" <<'PY'
import sys
n = int(sys.argv[2])
with open(sys.argv[1], 'w', encoding='utf-8', newline='\n') as f:
    for i in range(n):
        extra = ['', ' "quoted"', ' tab\there', ' caf\u00e9 \u6771\u4eac', ' ' + 'x' * 300][i % 5]
        f.write('rec %06d%s\n' % (i, extra))
with open(sys.argv[3], 'w', encoding='utf-8', newline='\n') as f:
    for i in range(300):
        if i % 30 == 7:
            f.write('near %03d ' % i + 'n' * (900 * 1024) + '\n')
        elif i in (100, 200):
            f.write('over %03d ' % i + 'o' * (1000 * 1024) + '\n')
        else:
            f.write('small %03d\n' % i)
PY

SERVER_PID=""
# start_server NAME [FAULT OPTIONS...]: starts the stand-in, sets PORT.
start_server() { local name=$1; shift; start_aws_server "$name" firehose_server.js --stream "$DELIVERY_STREAM" "$@"; }
stop_server() { stop_aws_server "$1"; }

# run_ferry NAME AGGREGATE INPUT: ships INPUT through the firehose sink; fails unless exit 0.
run_ferry() {
  local name=$1 aggregate=$2 input=$3
  cat > "$WORK/$name.yaml" <<YAML
service:
  grace_period: 60s
inputs:
  - type: stdin
    max_line_bytes: 2MiB
outputs:
  - type: firehose
    delivery_stream: \${DELIVERY_STREAM}
    region: \${AWS_REGION}
    endpoint: \${FIREHOSE_ENDPOINT}
    aggregate: $aggregate
    retry: { initial_backoff: 100ms, max_backoff: 1s }
YAML
  local rc=0
  FIREHOSE_ENDPOINT="http://127.0.0.1:$PORT" timeout 120 "$FERRY_BIN" run -c "$WORK/$name.yaml" \
    < "$input" > /dev/null 2> "$WORK/$name.err" || rc=$?
  if [ "$rc" != 0 ]; then
    tail -20 "$WORK/$name.err"; cat "$WORK/$name.server-err"
    fail "$name: ferry exited $rc"
  fi
  if grep -q "$AWS_SECRET_ACCESS_KEY" "$WORK/$name.err"; then fail "$name: the secret key was logged"; fi
}

# check NAME INPUT MAX_LINE_BYTES [ASSERTION...]: every input line of at most MAX_LINE_BYTES
# (0: any) arrived exactly once (longer ones never), as a JSON object with the line in "log"
# and an ISO 8601 "date"; the server never saw an invalid request; each ASSERTION (a Python
# expression over the server's `stats`) holds. Prints the counts.
check() {
  local name=$1 input=$2 max_line=$3; shift 3
  python3 - "$name" "$input" "$WORK/$name.out" "$WORK/$name.stats" "$max_line" "$@" <<'PY'
import sys, json, collections, re
name, inp, out, stats_file, max_line = sys.argv[1:6]
assertions = sys.argv[6:]
max_line = int(max_line)
stats = json.load(open(stats_file))
assert stats['invalid_requests'] == 0, f"{name}: invalid requests: {stats['invalid_reasons']}"
lines = open(inp, encoding='utf-8').read().split('\n')[:-1]
expected = [l for l in lines if not max_line or len(l.encode()) <= max_line]
too_big = len(lines) - len(expected)
want = collections.Counter(expected)
seen = collections.Counter()
date = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$')
for raw in open(out, encoding='utf-8'):
    obj = json.loads(raw)
    assert date.match(obj.get('date', '')), f"{name}: bad date {obj.get('date')!r}"
    m = obj['log']
    assert m in want, f"{name}: unexpected line {m[:80]!r}"
    seen[m] += 1
missing = [l for l in want if seen[l] < want[l]]
dups = sum(c - want[l] for l, c in seen.items() if c > want[l])
assert not missing, f'{name}: {len(missing)} lines missing, e.g. {missing[0][:60]!r}'
assert dups == 0, f'{name}: {dups} duplicates'
assert stats['lines'] == len(expected), (stats['lines'], len(expected))
assert stats['max_records_seen'] <= 500 and stats['max_body_seen'] <= 4 * 1024 * 1024
assert stats['max_record_seen'] <= 1000 * 1024
for a in assertions:
    assert eval(a, {'stats': stats}), f'{name}: does not hold: {a} (stats {stats})'
print(f"{name}: sent {len(lines)}, received {sum(seen.values())} once each, duplicates {dups}, "
      f"dropped as too large {too_big}; calls {stats['requests']} (statuses {stats['status']}, "
      f"errors {stats['errors']}), Firehose records {stats['firehose_records']} "
      f"(+{stats['failed_records']} failed and resent, {stats['partial_responses']} partial answers), "
      f"largest call {stats['max_records_seen']} records / {stats['max_body_seen']} bytes, "
      f"largest record {stats['max_record_seen']} bytes, most lines in a record {stats['max_lines_per_record']}")
PY
}

# 1. 10% of the records of every call fail: only those are resent; a session token is signed.
export AWS_SESSION_TOKEN="e2e-session-token/abc+def="
start_server partial --fail-fraction 0.1 --session-token "$AWS_SESSION_TOKEN"
run_ferry partial false "$WORK/in.txt"
stop_server partial
unset AWS_SESSION_TOKEN
check partial "$WORK/in.txt" 0 "stats['partial_responses'] > 10" \
  "stats['failed_records'] >= $N // 10" "stats['session_tokens_seen'] == stats['valid_requests']" ||
  fail "partial: check failed"
pass "partial failures: every record once (${SECONDS}s)"

# 2. Throttled 6 times (ThrottlingException 400 / ServiceUnavailable 503), then the stream is
#    "missing" twice: ferry keeps retrying, then everything arrives once.
start_server throttle --throttle-first 6 --not-found-first 2
run_ferry throttle false "$WORK/in.txt"
stop_server throttle
check throttle "$WORK/in.txt" 0 "stats['errors'].get('ThrottlingException') == 3" \
  "stats['errors'].get('ServiceUnavailableException') == 3" \
  "stats['errors'].get('ResourceNotFoundException') == 2" || fail "throttle: check failed"
grep -q "not found in region $AWS_REGION" "$WORK/throttle.err" || fail "throttle: the missing stream was not reported"
pass "throttling and a missing stream: every record once (${SECONDS}s)"

# 3. aggregate: lines packed into few Firehose records, a third of which fail once.
start_server aggregate --fail-fraction 0.34
run_ferry aggregate true "$WORK/in.txt"
stop_server aggregate
check aggregate "$WORK/in.txt" 0 "stats['firehose_records'] * 100 < $N" \
  "stats['max_lines_per_record'] > 1000" "stats['partial_responses'] > 0" ||
  fail "aggregate: check failed"
pass "aggregate: every record once in far fewer Firehose records (${SECONDS}s)"

# 4. The record limit: 900 KiB lines fit (and fill calls up to 4 MiB), lines over 1,000 KiB
#    are dropped and counted; with aggregation the small lines are packed around them.
for agg in false true; do
  start_server "big-$agg"
  run_ferry "big-$agg" "$agg" "$WORK/big.txt"
  stop_server "big-$agg"
  check "big-$agg" "$WORK/big.txt" $((1000 * 1024 - 64)) "stats['max_body_seen'] > 3 * 1024 * 1024" ||
    fail "big-$agg: check failed"
  grep -q "records whose JSON line is over" "$WORK/big-$agg.err" || fail "big-$agg: drop not reported"
done
pass "record limit: near-limit lines delivered, oversized ones dropped (${SECONDS}s)"

# 5. Permissions refused: the stand-in answers 403 AccessDeniedException, later 401, to
#    every call. Each time /health turns 503 naming the output and the status, no record is
#    accepted or dropped meanwhile; once the permissions are back /health is 200 again and,
#    at the end, every line has arrived exactly once.
head -n 4000 "$WORK/in.txt" > "$WORK/auth-in.txt"
start_server auth
HTTP=127.0.0.1:$(free_port)
cat > "$WORK/auth.yaml" <<YAML
service:
  grace_period: 10s
  http: { listen: $HTTP }
inputs:
  - type: stdin
outputs:
  - type: firehose
    name: events
    delivery_stream: \${DELIVERY_STREAM}
    region: \${AWS_REGION}
    endpoint: http://127.0.0.1:$PORT
    retry: { initial_backoff: 100ms, max_backoff: 500ms }
YAML
deny() { curl -sf --max-time 2 "http://127.0.0.1:$PORT/__deny?status=$1" > /dev/null || fail "auth: /__deny?status=$1"; }
delivered() { [ "$(wc -l < "$WORK/auth.out")" -ge "$1" ]; }
lost() { curl -sf --max-time 2 "http://$HTTP/metrics" | grep -E '^ferry_output_records_total\{output="events",result="(dropped|failed)"\} [1-9]'; }
mkfifo "$WORK/auth.fifo"
"$FERRY_BIN" run -c "$WORK/auth.yaml" < "$WORK/auth.fifo" > /dev/null 2> "$WORK/auth.err" &
FPID=$!; PIDS+=("$FPID")
exec 3> "$WORK/auth.fifo"   # no end of input: only SIGTERM ends this run
wait_for 10 health || { tail "$WORK/auth.err"; fail "auth: /health never answered"; }
for step in "403 AccessDeniedException 1 2000" "401 UnrecognizedClientException 2001 4000"; do
  read -r status type from to <<< "$step"
  deny "$status"
  sed -n "${from},${to}p" "$WORK/auth-in.txt" >&3
  wait_for 15 health_says "^503 .*\"name\":\"events\".*HTTP $status $type" ||
    { health; tail -3 "$WORK/auth.err"; fail "auth $status: /health did not report the output unhealthy"; }
  sleep 1   # a second more of refused retries
  health_says "^503 " || { health; fail "auth $status: healthy again while still refused"; }
  [ "$(wc -l < "$WORK/auth.out")" = $((from - 1)) ] || fail "auth $status: records accepted while refused"
  if lost; then fail "auth $status: records dropped or failed while refused"; fi
  echo "auth $status: /health says: $(health | cut -c1-200)"
  deny 0
  wait_for 15 health_says '^200' || { health; fail "auth $status: not healthy after the permissions came back"; }
  wait_for 15 delivered "$to" || { tail -3 "$WORK/auth.err"; fail "auth $status: records did not arrive after recovery"; }
done
if lost; then fail "auth: records dropped or failed"; fi
kill -TERM "$FPID"; wait_exit "$FPID" 20
exec 3>&-
[ "$RC" = 0 ] || { tail -5 "$WORK/auth.err"; fail "auth: ferry exited $RC"; }
stop_server auth
check auth "$WORK/auth-in.txt" 0 "stats['errors'].get('AccessDeniedException', 0) >= 2" \
  "stats['errors'].get('UnrecognizedClientException', 0) >= 2" || fail "auth: check failed"
pass "403/401 from Firehose: /health 503 naming the output, nothing lost, every record once after recovery (${SECONDS}s)"
