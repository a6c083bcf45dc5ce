#!/usr/bin/env bash
# forward → cloudwatch_logs → a strict CloudWatch Logs stand-in (tests/e2e/cloudwatch_logs_server.js:
# SigV4 recomputed, every PutLogEvents limit, time order, 24-hour span, real group and stream
# state, rejectedLogEventsInfo for too old events).
# 1. No group exists: with auto_create_group and log_stream_prefix, ferry creates the group
#    (retention 7 days) and one stream per tag, through scheduled throttling (400
#    ThrottlingException), 503s and 10% of the calls failing; SIGTERM right after the last
#    record is acknowledged: ferry delivers everything before it exits, every record once,
#    each call in time order (a retried call may land after newer ones).
# 2. A fixed stream: records two years old are rejected by CloudWatch, dropped and counted
#    (ferry_output_rejected_too_old_total), the current ones delivered; a 403 makes /health
#    report the output unhealthy without losing anything, and everything arrives once after.
# 3. Templates: group /ecs$(container_name) (created), stream $(source)-$(tag[1]): six streams
#    in three groups, each record once in its own, a few calls per stream (partitions).
# 4. Storage on, every call refused (403) while 100,000 records are acknowledged over forward;
#    kill -9; a restart with calls allowed (20% of the puts failing): the group and stream
#    created, every acknowledged record delivered exactly once.
source "$(dirname "$0")/lib.sh"

command -v node >/dev/null || fail "node is required for the CloudWatch Logs stand-in"
[ -d "$E2E_DIR/node_modules/@smithy/signature-v4" ] || fail "@smithy/signature-v4 missing: run 'npm ci' in tests/e2e"

export AWS_REGION="us-west-2"
export AWS_ACCESS_KEY_ID="AKIAFERRYE2E0000002"
export AWS_SECRET_ACCESS_KEY="e2e/cloudwatch+key/0123456789abcdefghijkl"
export AWS_EC2_METADATA_DISABLED=true
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
  AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_WEB_IDENTITY_TOKEN_FILE || true

SERVER_PID=""
# start_server NAME [OPTIONS...]: starts the stand-in, sets PORT.
start_server() { local name=$1; shift; start_aws_server "$name" cloudwatch_logs_server.js "$@"; }
stop_server() { stop_aws_server "$1"; }

# start_ferry NAME OUTPUT_YAML: ferry with a forward input and the given output (and the
# service.storage line STORAGE when set); sets FPID, FWD.
STORAGE=""
start_ferry() {
  local name=$1 output=$2
  HTTP=127.0.0.1:$(free_port)
  cat > "$WORK/$name.yaml" <<YAML
service:
  grace_period: 60s
  http: { listen: $HTTP }
$STORAGE
inputs:
  - type: forward
    listen: [ "tcp://127.0.0.1:0" ]
outputs:
$output
YAML
  "$FERRY_BIN" run -c "$WORK/$name.yaml" > /dev/null 2> "$WORK/$name.err" &
  FPID=$!; PIDS+=("$FPID")
  wait_for 10 grep -q 'listening on tcp port' "$WORK/$name.err" || { cat "$WORK/$name.err"; fail "$name: ferry did not listen"; }
  FWD=$(sed -n 's/.*listening on tcp port \([0-9]*\).*/\1/p' "$WORK/$name.err" | head -1)
}

# send TAG COUNT FIRST [CLIENT OPTIONS...]: records FIRST.. over forward, every one acknowledged.
send() {
  local tag=$1 count=$2 first=$3; shift 3
  local out
  out=$(node "$E2E_DIR/forward_client.js" --port "$FWD" --tag "$tag" --count "$count" --first "$first" \
    --timeout-ms 120000 "$@") || fail "forward client ($tag) failed: $out"
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["acked"]==r["sent"]==int(sys.argv[2]), r' \
    "$out" "$count" || fail "forward client ($tag): $out"
}

# metric NAME_AND_LABELS: the value summed over matching lines, 0 when absent.
metric() {
  curl -s --max-time 2 "http://$HTTP/metrics" > "$WORK/metrics.txt" || true
  awk -v m="$1" 'index($0, m) == 1 { s += $NF } END { print s + 0 }' "$WORK/metrics.txt"
}

metric_is() { [ "$(metric "$1")" = "$2" ]; }
# stored NAME N: at least N events in the stand-in's output.
stored() { [ "$(wc -l < "$WORK/$1.out")" -ge "$2" ]; }

# check NAME GROUP EXPECTED_JSON [ASSERTION...]: EXPECTED_JSON maps stream → [first, count]:
# exactly those records (n = first..first+count-1) arrived in that stream, each once; the
# server saw no invalid call (so each call was in time order); each ASSERTION over `stats`
# holds. Without retries (BACK=0 in the assertions) the stream is in order throughout.
check() {
  local name=$1 group=$2 expected=$3; shift 3
  python3 - "$name" "$group" "$expected" "$WORK/$name.out" "$WORK/$name.stats" "$@" <<'PY'
import sys, json, collections
name, group, expected, out, stats_file = sys.argv[1:6]
assertions = sys.argv[6:]
stats = json.load(open(stats_file))
assert stats['invalid_requests'] == 0, f"{name}: invalid calls: {stats['invalid_reasons']}"
per = collections.defaultdict(list)
for raw in open(out, encoding='utf-8'):
    e = json.loads(raw)
    assert e['group'] == group, e['group']
    rec = json.loads(e['message'])
    per[e['stream']].append(rec['n'])
    assert rec['log'].startswith('rec %07d' % rec['n']), rec['log'][:40]
want = json.loads(expected)
back = {}
assert sorted(per) == sorted(want), f"{name}: streams {sorted(per)}, expected {sorted(want)}"
for stream, (first, count) in want.items():
    got = per[stream]
    assert len(got) == len(set(got)), f"{name}: {len(got) - len(set(got))} duplicates in {stream}"
    assert sorted(got) == list(range(first, first + count)), f"{name}: {stream}: {len(got)} of {count}"
    # In time order within every call (the server refuses any other); between calls only a
    # retried call lands after newer ones: count those places.
    back[stream] = sum(1 for a, b in zip(got, got[1:]) if b < a)
for a in assertions:
    assert eval(a, {'stats': stats, 'back': back}), f'{name}: does not hold: {a} (stats {stats})'
print(f"{name}: {sum(map(len, per.values()))} events in {len(per)} streams, once each; "
      f"places where a retried call landed after newer ones {back}; "
      f"calls {stats['requests']} (statuses {stats['status']}, errors {stats['errors']}), "
      f"largest call {stats['max_events_seen']} events / {stats['max_batch_bytes_seen']} bytes")
PY
}

# 1. Created on demand, through faults, SIGTERM right after the last acknowledgement.
N=100000
start_server create --throttle-first 2 --unavailable-first 2 --fault-fraction 0.1
start_ferry create "  - type: cloudwatch_logs
    name: cw
    match: 'app.*'
    region: \${AWS_REGION}
    endpoint: http://127.0.0.1:$PORT
    log_group_name: /ecs/ferry-e2e
    log_stream_prefix: ecs-
    auto_create_group: true
    log_retention_days: 7
    retry: { initial_backoff: 50ms, max_backoff: 500ms }"
send app.web $N 0 --time-base now &
S1=$!
send app.worker 5000 0 --time-base now
wait "$S1" || fail "create: the app.web client failed"
kill -TERM "$FPID"
AT_TERM=$(wc -l < "$WORK/create.out")
wait_exit "$FPID" 90
[ "$RC" = 0 ] || { tail -5 "$WORK/create.err"; fail "create: ferry exited $RC"; }
stop_server create
if grep -q "$AWS_SECRET_ACCESS_KEY" "$WORK/create.err"; then fail "create: the secret key was logged"; fi
check create /ecs/ferry-e2e "{\"ecs-app.web\": [0, $N], \"ecs-app.worker\": [0, 5000]}" \
  "stats['groups_created'] == 1" "stats['streams_created'] == 2" \
  "stats['groups']['/ecs/ferry-e2e']['retentionInDays'] == 7" \
  "stats['errors'].get('ThrottlingException', 0) >= 2" \
  "stats['errors'].get('ServiceUnavailableException', 0) >= 2" "stats['fraction_faults'] > 0" ||
  fail "create: check failed"
echo "create: $AT_TERM of $((N + 5000)) events stored when SIGTERM came"
[ "$AT_TERM" -lt $((N + 5000)) ] || fail "create: everything was delivered before SIGTERM: it tests nothing"
pass "group (retention 7) and a stream per tag created; throttling and 503 retried; SIGTERM delivered every record once (${SECONDS}s)"

# 2. Too old events dropped and counted; 403 → unhealthy, nothing lost.
start_server fixed --stream /ecs/fixed:host-1
start_ferry fixed "  - type: cloudwatch_logs
    name: cw
    match: '*'
    region: \${AWS_REGION}
    endpoint: http://127.0.0.1:$PORT
    log_group_name: /ecs/fixed
    log_stream_name: host-1
    retry: { initial_backoff: 50ms, max_backoff: 500ms }"
send old 300 0 --time-base 1600000000
wait_for 20 metric_is 'ferry_output_rejected_too_old_total{output="cw"' 300 ||
  { tail -5 "$WORK/fixed.err"; fail "fixed: too old events not counted ($(metric ferry_output_rejected_too_old_total))"; }
[ "$(metric 'ferry_output_records_total{output="cw",result="dropped"')" = 300 ] ||
  fail "fixed: the too old records are not counted as dropped"
send new 300 300 --time-base now
wait_for 20 stored fixed 300 || fail "fixed: current records did not arrive"
curl -sf --max-time 2 "http://127.0.0.1:$PORT/__deny?status=403" > /dev/null || fail "fixed: /__deny"
send new 200 600 --time-base now
wait_for 15 health_says '^503 .*"name":"cw".*403' || { health; fail "fixed: /health did not report the 403"; }
[ "$(wc -l < "$WORK/fixed.out")" = 300 ] || fail "fixed: records accepted while refused"
curl -sf --max-time 2 "http://127.0.0.1:$PORT/__deny?status=0" > /dev/null || fail "fixed: /__deny?status=0"
wait_for 20 health_says '^200' || { health; fail "fixed: not healthy after the permission came back"; }
wait_for 20 stored fixed 500 || fail "fixed: records did not arrive after recovery"
[ "$(metric 'ferry_output_records_total{output="cw",result="dropped"')" = 300 ] || fail "fixed: more dropped than the too old ones"
kill -TERM "$FPID"; wait_exit "$FPID" 30
[ "$RC" = 0 ] || fail "fixed: ferry exited $RC"
stop_server fixed
check fixed /ecs/fixed '{"host-1": [300, 500]}' "stats['rejected_too_old'] == 300" \
  "back['host-1'] == 0" \
  "stats['groups_created'] == 0" "stats['errors'].get('AccessDeniedException', 0) >= 1" || fail "fixed: check failed"
pass "too old events dropped and counted, the rest delivered; 403 → /health unhealthy, nothing lost (${SECONDS}s)"

# 3. Templates: the group from a record field (auto-created), the stream from another field
#    and a part of the tag: each record lands in its own group and stream, once.
start_server tmpl
start_ferry tmpl "  - type: cloudwatch_logs
    name: cw
    match: '*'
    region: \${AWS_REGION}
    endpoint: http://127.0.0.1:$PORT
    log_group_name: /ecs\$(container_name)
    log_stream_name: \$(source)-\$(tag[1])
    auto_create_group: true
    retry: { initial_backoff: 50ms, max_backoff: 500ms }"
send app.web 600 0 --time-base now
kill -TERM "$FPID"; wait_exit "$FPID" 30
[ "$RC" = 0 ] || fail "tmpl: ferry exited $RC"
stop_server tmpl
python3 - "$WORK/tmpl.out" "$WORK/tmpl.stats" <<'PY' || fail "tmpl: check failed"
import sys, json, collections
stats = json.load(open(sys.argv[2]))
assert stats['invalid_requests'] == 0, stats['invalid_reasons']
seen = collections.Counter()
for raw in open(sys.argv[1], encoding='utf-8'):
    e = json.loads(raw)
    r = json.loads(e['message'])
    assert e['group'] == '/ecs' + r['container_name'], (e['group'], r['container_name'])
    assert e['stream'] == r['source'] + '-web', (e['stream'], r['source'])
    seen[r['n']] += 1
assert sorted(seen) == list(range(600)) and set(seen.values()) == {1}, 'not every record once'
groups = {g: sorted(v['streams']) for g, v in stats['groups'].items()}
assert groups == {f'/ecs/ecs-app-{i}': ['stderr-web', 'stdout-web'] for i in range(3)}, groups
# One open batch per stream (the runner's partitions): a few calls per stream, not one per
# record as when a request took only the records of its first record's stream.
calls = stats['targets'].get('PutLogEvents', 0)
assert calls <= 60, f'{calls} PutLogEvents calls for 600 records in 6 streams'
print(f"tmpl: 600 events once each in {len(groups)} groups of 2 streams each: {groups}; "
      f"{stats['targets'].get('PutLogEvents')} PutLogEvents calls (one stream per call)")
PY
pass "templates: groups and streams named from record fields and the tag, every record once (${SECONDS}s)"

# 4. Storage on, every call refused while records are acknowledged; kill -9; restart with
#    calls allowed: every acknowledged record once (none was delivered before the kill).
R=100000
start_server restart --fault-fraction 0.2
curl -sf --max-time 2 "http://127.0.0.1:$PORT/__deny?status=403" > /dev/null || fail "restart: /__deny"
STORAGE="  storage: { path: $WORK/store }"
RESTART_OUTPUT="  - type: cloudwatch_logs
    name: cw
    match: '*'
    region: \${AWS_REGION}
    endpoint: http://127.0.0.1:$PORT
    log_group_name: /ecs/restart
    log_stream_name: host-1
    auto_create_group: true
    retry: { initial_backoff: 50ms, max_backoff: 500ms }"
start_ferry restart "$RESTART_OUTPUT"
send app.web "$R" 0 --time-base now --window 5000
[ "$(wc -l < "$WORK/restart.out")" = 0 ] || fail "restart: records stored while every call was refused"
kill -9 "$FPID"; wait_exit "$FPID" 10
curl -sf --max-time 2 "http://127.0.0.1:$PORT/__deny?status=0" > /dev/null || fail "restart: /__deny?status=0"
start_ferry restart "$RESTART_OUTPUT"
wait_for 60 stored restart "$R" || { tail -5 "$WORK/restart.err"; fail "restart: $(wc -l < "$WORK/restart.out") of $R after the restart"; }
kill -TERM "$FPID"; wait_exit "$FPID" 30
[ "$RC" = 0 ] || fail "restart: ferry exited $RC"
STORAGE=""
stop_server restart
check restart /ecs/restart "{\"host-1\": [0, $R]}" "stats['groups_created'] == 1" \
  "stats['denied_requests'] > 0" "stats['fraction_faults'] > 0" || fail "restart: check failed"
pass "storage on, calls refused, kill -9, restart: all $R acknowledged records delivered exactly once (${SECONDS}s)"
