#!/usr/bin/env bash
# forward → kinesis_streams → a strict PutRecords stand-in (tests/e2e/kinesis_server.js) that
# recomputes every SigV4 signature and checks every limit of the service (500 records, 5 MiB
# of data and partition keys per call, 1 MiB per record, keys of 1-256 characters).
#  1. 100,000 records from the real @fluent-org/logger client, acknowledged, while 10% of the
#     records of every call fail (FailedRecordCount, ProvisionedThroughputExceededException
#     and InternalFailure): every record arrives exactly once, its partition key the record's
#     container_id; nothing invalid reaches the server; in bounded time.
#  2. Calls throttled (400 ProvisionedThroughputExceededException) and unavailable (500):
#     backed off, every record once; without partition_key the keys are random, spread over
#     the shards.
#  3. Records near the 1 MiB limit fill calls towards 5 MiB; records over it are dropped and
#     counted.
#  4. SIGTERM right after the last acknowledgement, with 30% of the records failing: ferry
#     delivers everything before it exits.
#  5. Fluent Bit configs, `Name kinesis_streams` and `Name kinesis` (the Go plugin), converted
#     and run; keys ferry cannot honour exit 1 naming file, line and key.
#  6. Storage on, every call refused (403) while 100,000 records are acknowledged over
#     forward; kill -9; a restart with calls allowed again (10% of the records failing):
#     every acknowledged record arrives exactly once.
source "$(dirname "$0")/lib.sh"

command -v node >/dev/null || fail "node is required for the Kinesis stand-in"
[ -d "$E2E_DIR/node_modules/@smithy/signature-v4" ] || fail "@smithy/signature-v4 missing: run 'npm ci' in tests/e2e"
[ -d "$E2E_DIR/node_modules/@fluent-org/logger" ] || fail "@fluent-org/logger missing: run 'npm ci' in tests/e2e"

N=100000
export KINESIS_STREAM="ferry-e2e-stream"
export AWS_REGION="eu-west-1"
export AWS_ACCESS_KEY_ID="AKIAFERRYE2E0000001"
export AWS_SECRET_ACCESS_KEY="e2e/secret+key/0123456789abcdefghijklmnop"
export AWS_EC2_METADATA_DISABLED=true
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
  AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_WEB_IDENTITY_TOKEN_FILE ECS_CONTAINER_METADATA_URI_V4 || true

SERVER_PID=""
# start_server NAME [FAULT OPTIONS...]: starts the stand-in (4 shards), sets PORT.
start_server() { local name=$1; shift; start_aws_server "$name" kinesis_server.js --stream "$KINESIS_STREAM" --shards 4 "$@"; }
stop_server() { stop_aws_server "$1"; }

FERRY_PID=""
STORAGE=""   # the service.storage line of start_ferry's config, when set
listening() { bash -c ": > /dev/tcp/127.0.0.1/$FWD_PORT" 2>/dev/null; }   # connects, sends nothing
# start_ferry NAME EXTRA_OUTPUT_YAML: ferry with a forward input on FWD_PORT and one
# kinesis_streams output to the stand-in.
start_ferry() {
  local name=$1 extra=$2
  FWD_PORT=$(free_port)
  cat > "$WORK/$name.yaml" <<YAML
service:
  grace_period: 60s
$STORAGE
inputs:
  - type: forward
    listen: [ "tcp://127.0.0.1:$FWD_PORT" ]
    max_record_bytes: 2MiB   # records over Kinesis's 1 MiB reach the sink, which drops them
outputs:
  - type: kinesis_streams
    match: "*"
    stream: \${KINESIS_STREAM}
    region: \${AWS_REGION}
    endpoint: http://127.0.0.1:$PORT
    retry: { initial_backoff: 100ms, max_backoff: 1s }
$extra
YAML
  "$FERRY_BIN" run -c "$WORK/$name.yaml" > /dev/null 2> "$WORK/$name.err" &
  FERRY_PID=$!; PIDS+=("$FERRY_PID")
  wait_for 10 listening || { tail "$WORK/$name.err"; fail "$name: ferry did not listen"; }
}
# send NAME COUNT [CLIENT OPTIONS...]: acknowledged records over forward.
send() {
  local name=$1 count=$2; shift 2
  timeout 120 node "$E2E_DIR/forward_client.js" --port "$FWD_PORT" --count "$count" --tag app \
    --timeout-ms 110000 "$@" > "$WORK/$name.client" ||
    { cat "$WORK/$name.client"; tail "$WORK/$name.err"; fail "$name: forward client failed"; }
}
# received NAME: the records the stand-in has stored.
received() { curl -s --max-time 2 "http://127.0.0.1:$PORT/stats" > "$WORK/$1.now" && python3 -c \
  'import json,sys; print(json.load(open(sys.argv[1]))["records"])' "$WORK/$1.now"; }
at_least() { [ "$(received "$1")" -ge "$2" ]; }
stop_ferry() {
  kill -TERM "$FERRY_PID"; wait_exit "$FERRY_PID" 60
  [ "$RC" = 0 ] || { tail -20 "$WORK/$1.err"; fail "$1: ferry exited $RC"; }
  if grep -q "$AWS_SECRET_ACCESS_KEY" "$WORK/$1.err"; then fail "$1: the secret key was logged"; fi
}

# check NAME FIRST COUNT KEYS [ASSERTION...]: records FIRST..FIRST+COUNT-1 of forward_client.js
# arrived exactly once (their JSON with "date", the client's fields, a newline at the end),
# except those whose log is over 1,000 KiB; KEYS is "container_id" (the key is the record's
# container_id) or "random" (32 hex digits); no invalid call; each ASSERTION (Python over
# `stats`) holds. Prints the counts.
check() {
  python3 - "$WORK/$1.out" "$WORK/$1.stats" "$@" <<'PY'
import base64, collections, json, re, sys
out, stats_file, name, first, count, keys = sys.argv[1:7]
assertions = sys.argv[7:]
first, count = int(first), int(count)
stats = json.load(open(stats_file))
assert stats['invalid_requests'] == 0, f"{name}: invalid requests: {stats['invalid_reasons']}"
seen = collections.Counter()
shards = collections.Counter()
random_key = re.compile(r'^[0-9a-f]{32}$')
date = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$')
too_big = 0
for raw in open(out, encoding='utf-8'):
    rec = json.loads(raw)
    data = base64.b64decode(rec['data']).decode('utf-8')
    assert data.endswith('\n') and data.count('\n') == 1, f"{name}: data {data[:80]!r}"
    obj = json.loads(data)
    assert date.match(obj.get('date', '')), f"{name}: bad date {obj.get('date')!r}"
    n = obj['n']
    assert first <= n < first + count, f"{name}: unexpected record {n}"
    seen[n] += 1
    shards[rec['shard']] += 1
    if keys == 'container_id':
        assert rec['partition_key'] == obj['container_id'], (rec['partition_key'], obj['container_id'])
    else:
        assert random_key.match(rec['partition_key']), rec['partition_key']
    assert len(obj['log']) <= 1000 * 1024 + 20, f"{name}: record {n} over the limit arrived"
dups = sum(c - 1 for c in seen.values() if c > 1)
assert dups == 0, f'{name}: {dups} duplicates'
missing = [n for n in range(first, first + count) if seen[n] == 0]
stats['shards_used'] = len(shards)
stats['missing'] = len(missing)
for a in assertions:
    assert eval(a, {'stats': stats}), f'{name}: does not hold: {a} (stats {stats})'
print(f"{name}: {sum(seen.values())} of {count} records once each, {len(missing)} missing, duplicates {dups}; "
      f"calls {stats['requests']} (statuses {stats['status']}, errors {stats['errors']}), "
      f"+{stats['failed_records']} failed and resent in {stats['partial_responses']} partial answers; "
      f"largest call {stats['max_records_seen']} records / {stats['max_call_bytes_seen']} bytes, "
      f"largest record {stats['max_record_bytes_seen']} bytes; shards {dict(shards)}")
PY
}

# 1. 100,000 records, 10% of each call failing; partition key = container_id.
start_server partial --fail-fraction 0.1
start_ferry partial "    partition_key: container_id"
T0=$SECONDS
send partial "$N" --window 5000
wait_for 60 at_least partial "$N" || { tail "$WORK/partial.err"; fail "partial: $(received partial) of $N records"; }
ELAPSED=$((SECONDS - T0))
stop_ferry partial
stop_server partial
check partial 0 "$N" container_id "stats['missing'] == 0" "stats['failed_records'] >= $N // 10" \
  "stats['partial_responses'] > 10" "stats['max_records_seen'] == 500" "stats['shards_used'] >= 2" ||
  fail "partial: check failed"
[ "$ELAPSED" -le 60 ] || fail "partial: $N records took ${ELAPSED}s"
pass "$N records over forward, 10% failing per call: every record once in ${ELAPSED}s, keys from container_id"

# 2. Throttled 6 calls, then 3 unavailable: backed off; random keys over the shards.
start_server throttle --throttle-first 6 --unavailable-first 3
start_ferry throttle ""
send throttle 5000
wait_for 60 at_least throttle 5000 || { tail "$WORK/throttle.err"; fail "throttle: $(received throttle) of 5000"; }
stop_ferry throttle
stop_server throttle
check throttle 0 5000 random "stats['missing'] == 0" \
  "stats['errors'].get('ProvisionedThroughputExceededException') == 6" \
  "stats['errors'].get('InternalFailure') == 3" "stats['shards_used'] == 4" || fail "throttle: check failed"
grep -q "throttled by Kinesis" "$WORK/throttle.err" || fail "throttle: the throttling was not logged"
pass "throttling (400) and 500s backed off and retried: every record once, random keys on 4 shards"

# 3. The size limits: logs of 1,000 KiB (a record just under 1 MiB with its key; 5 fill a
#    call), two of 1,030 KiB (over: dropped and counted), small ones between.
python3 - "$WORK/big.lines" <<'PY'
import sys
with open(sys.argv[1], 'w') as f:
    for i in range(60):
        if i in (13, 41):
            f.write('over ' + 'o' * (1030 * 1024) + '\n')
        elif i % 3 == 0:
            f.write('near ' + 'n' * (1000 * 1024) + '\n')
        else:
            f.write('small %d\n' % i)
PY
start_server big
start_ferry big "    partition_key: container_id"
send big 60 --lines "$WORK/big.lines" --window 10
wait_for 60 at_least big 58 || { tail "$WORK/big.err"; fail "big: $(received big) of 58"; }
stop_ferry big
stop_server big
check big 0 60 container_id "stats['missing'] == 2" "stats['max_record_bytes_seen'] > 1000 * 1024" \
  "stats['max_record_bytes_seen'] <= 1024 * 1024" "stats['max_call_bytes_seen'] > 4 * 1024 * 1024" \
  "stats['max_call_bytes_seen'] <= 5 * 1024 * 1024" || fail "big: check failed"
grep -q "records whose data and partition key are over" "$WORK/big.err" ||
  { grep -v '"level":"debug"' "$WORK/big.err" | tail -20; fail "big: the oversized records were not reported"; }
pass "1 MiB records fill calls towards 5 MiB; larger ones dropped and counted"

# 4. SIGTERM right after the last acknowledgement, 30% failing: all delivered before exit.
start_server sigterm --fail-fraction 0.3
start_ferry sigterm ""
send sigterm 20000 --window 5000
AT_TERM=$(received sigterm)
kill -TERM "$FERRY_PID"; wait_exit "$FERRY_PID" 60
[ "$RC" = 0 ] || { tail -20 "$WORK/sigterm.err"; fail "sigterm: ferry exited $RC"; }
stop_server sigterm
check sigterm 0 20000 random "stats['missing'] == 0" "stats['partial_responses'] > 0" ||
  fail "sigterm: check failed"
pass "SIGTERM mid-flight ($AT_TERM of 20000 stored when it came): every acknowledged record delivered once before exit"

# 5. Fluent Bit configs: the C plugin (random keys, newline) and the Go plugin
#    (partition_key, append_newline), converted and run.
start_server fluentbit
FWD_PORT=$(free_port)
cat > "$WORK/fluent-bit.conf" <<CONF
[SERVICE]
    Flush 1
[INPUT]
    Name   forward
    Listen 127.0.0.1
    Port   $FWD_PORT
[OUTPUT]
    Name        kinesis_streams
    Match       app
    region      \${AWS_REGION}
    stream      \${KINESIS_STREAM}
    endpoint    http://127.0.0.1:$PORT
    time_key    date
    time_key_format %Y-%m-%dT%H:%M:%S.%9NZ
    auto_retry_requests true
[OUTPUT]
    Name           kinesis
    Match          app
    region         \${AWS_REGION}
    stream         \${KINESIS_STREAM}
    endpoint       http://127.0.0.1:$PORT
    partition_key  container_id
    append_newline true
    time_key       date
    experimental_concurrency 4
CONF
"$FERRY_BIN" convert "$WORK/fluent-bit.conf" > "$WORK/converted.yaml" 2> "$WORK/convert.err" ||
  { cat "$WORK/convert.err"; fail "ferry convert failed"; }
[ "$(grep -c 'type: kinesis_streams' "$WORK/converted.yaml")" = 2 ] ||
  { cat "$WORK/converted.yaml"; fail "convert: not two kinesis_streams outputs"; }
grep -q 'partition_key: container_id' "$WORK/converted.yaml" || fail "convert: partition_key lost"
grep -q 'experimental_concurrency: ignored' "$WORK/converted.yaml" "$WORK/convert.err" ||
  fail "convert: experimental_concurrency not noted"
"$FERRY_BIN" validate -c "$WORK/converted.yaml" > /dev/null 2> "$WORK/validate.err" ||
  { cat "$WORK/validate.err"; fail "the converted YAML does not validate"; }
"$FERRY_BIN" run --fluent-bit-config "$WORK/fluent-bit.conf" > /dev/null 2> "$WORK/fluentbit.err" &
FERRY_PID=$!; PIDS+=("$FERRY_PID")
wait_for 10 listening || { tail "$WORK/fluentbit.err"; fail "fluentbit: ferry did not listen"; }
send fluentbit 1000
wait_for 30 at_least fluentbit 2000 || { tail "$WORK/fluentbit.err"; fail "fluentbit: $(received fluentbit) of 2000"; }
stop_ferry fluentbit
stop_server fluentbit
python3 - "$WORK/fluentbit.out" "$WORK/fluentbit.stats" <<'PY' || fail "fluentbit: records not as the two plugins ship them"
import base64, collections, json, re, sys
stats = json.load(open(sys.argv[2]))
assert stats['invalid_requests'] == 0, stats['invalid_reasons']
keyed, random_keys = collections.Counter(), collections.Counter()
for raw in open(sys.argv[1]):
    rec = json.loads(raw)
    obj = json.loads(base64.b64decode(rec['data']))
    assert re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$', obj['date']), obj['date']
    if rec['partition_key'] == obj['container_id']:
        keyed[obj['n']] += 1
    else:
        assert re.match(r'^[0-9a-f]{32}$', rec['partition_key']), rec['partition_key']
        random_keys[obj['n']] += 1
assert sorted(keyed) == list(range(1000)) and set(keyed.values()) == {1}, 'kinesis (Go) output'
assert sorted(random_keys) == list(range(1000)) and set(random_keys.values()) == {1}, 'kinesis_streams output'
print('fluentbit: 1000 records through each output once; keys from container_id / random')
PY
pass "Fluent Bit kinesis_streams and kinesis outputs converted and run"

# Keys ferry cannot honour: exit 1 naming file, line and key.
for bad in "role_arn arn:aws:iam::123456789012:role/x" "aggregation true" "data_keys log" "compression zlib"; do
  read -r key value <<< "$bad"
  name=kinesis
  [ "$key" = role_arn ] && name=kinesis_streams
  printf '[INPUT]\n    Name forward\n    Port %s\n[OUTPUT]\n    Name %s\n    Match *\n    region eu-west-1\n    stream s\n    %s %s\n' \
    "$(free_port)" "$name" "$key" "$value" > "$WORK/bad.conf"
  rc=0
  "$FERRY_BIN" run --fluent-bit-config "$WORK/bad.conf" > /dev/null 2> "$WORK/bad.err" || rc=$?
  [ "$rc" = 1 ] || { cat "$WORK/bad.err"; fail "$key: exit $rc, expected 1"; }
  grep -q "bad.conf:9: \[OUTPUT $name\] $key" "$WORK/bad.err" ||
    { cat "$WORK/bad.err"; fail "$key: the error does not name file, line and key"; }
done
pass "unhonourable keys (role_arn, aggregation, data_keys, compression) refused naming file:line:key"

# 6. Storage on, the stand-in refusing every call while records are acknowledged; kill -9;
#    restart with calls allowed: every acknowledged record once (nothing had been delivered
#    before the kill, so none can come twice).
R=100000
start_server restart --fail-fraction 0.1
curl -sf --max-time 2 "http://127.0.0.1:$PORT/__deny?status=403" > /dev/null || fail "restart: /__deny"
STORAGE="  storage: { path: $WORK/store }"
start_ferry restart "    partition_key: container_id"
send restart "$R" --window 5000
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["acked"]==r["sent"]==int(sys.argv[2]), r' \
  "$WORK/restart.client" "$R" || fail "restart: not every record acknowledged: $(cat "$WORK/restart.client")"
[ "$(received restart)" = 0 ] || fail "restart: records stored while every call was refused"
kill -9 "$FERRY_PID"; wait_exit "$FERRY_PID" 10
curl -sf --max-time 2 "http://127.0.0.1:$PORT/__deny?status=0" > /dev/null || fail "restart: /__deny?status=0"
start_ferry restart "    partition_key: container_id"
wait_for 60 at_least restart "$R" || { tail "$WORK/restart.err"; fail "restart: $(received restart) of $R after the restart"; }
stop_ferry restart
STORAGE=""
stop_server restart
check restart 0 "$R" container_id "stats['missing'] == 0" "stats['denied_requests'] > 0" \
  "stats['partial_responses'] > 0" || fail "restart: check failed"
pass "storage on, calls refused, kill -9, restart: all $R acknowledged records delivered exactly once"
