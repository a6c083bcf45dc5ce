#!/usr/bin/env bash
# Datadog `provider ecs` as Fluent Bit ships it: the FireLens-generated config of
# tests/data/firelens-ecs-fargate-datadog (forward inputs, ECS metadata record_modifier, a
# datadog output with dd_service/dd_source/dd_tags and provider ecs) runs through
# `ferry run --fluent-bit-config`, its Host pointed at the strict intake. Records sent by the
# real forward client, shaped as FireLens's (container_id, container_name "/...", source, log),
# arrive each once with the ECS fields moved into ddtags exactly as Fluent Bit's out_datadog
# moves them (then ",project:example"), out of the attributes, and service/ddsource/message set.
source "$(dirname "$0")/lib.sh"
command -v node >/dev/null || fail "node is required for the intake stand-in"
[ -d "$E2E_DIR/node_modules/@fluent-org/logger" ] || fail "run 'npm ci' in tests/e2e"

DATA=$FERRY_SOURCE_DIR/tests/data/firelens-ecs-fargate-datadog
export apikey_1="e2e-key-0123456789abcdef01234567" # the secret FireLens injects
unset ECS_CONTAINER_METADATA_URI_V4 || true
N_SOCK=300 N_TCP=200
ARN="arn:aws:ecs:us-east-2:01234567891011:task/mycluster/3de392df-6bfa-470b-97ed-aa6f482cd7a"
# What Fluent Bit's remap gives for these records; container_id/_name vary per record.
TAGS_RE="container_id:c0ffee[0-6],container_name:ecs-app-[0-2],cluster_name:mycluster,"
TAGS_RE+="task_arn:${ARN},region:us-east-2,task_id:mycluster/3de392df-6bfa-470b-97ed-aa6f482cd7a,"
TAGS_RE+="task_family:firelens-example-datadog,task_version:1,project:example"

node "$E2E_DIR/datadog_intake.js" --port-file "$WORK/dd.port" --api-key "$apikey_1" \
  --out "$WORK/dd.out" --entries-out "$WORK/dd.entries" --encoding gzip \
  --expect-service my-httpd-service --expect-source httpd \
  --expect-tags-re "$TAGS_RE" 2> "$WORK/dd.err" &
DD_PID=$!
PIDS+=($DD_PID)
wait_for 10 test -s "$WORK/dd.port" || { cat "$WORK/dd.err"; fail "intake did not start"; }
DD_PORT=$(cat "$WORK/dd.port")
touch "$WORK/dd.out"

# The corpus file with its socket, ports and Datadog host moved into the test's reach.
FWD_PORT=$(free_port) HC_PORT=$(free_port)
sed "s#^    unix_path .*#    unix_path $WORK/fluent.sock#; s/^    Port 24224\$/    Port $FWD_PORT/
  s/^    Port 8877\$/    Port $HC_PORT/; s/^    Host .*/    Host 127.0.0.1\n    Port $DD_PORT/
  s/^    TLS on\$/    TLS off/" "$DATA/fluent-bit.conf" > "$WORK/fluent-bit.conf"
grep -q "Port $DD_PORT" "$WORK/fluent-bit.conf" && grep -q "provider ecs" "$WORK/fluent-bit.conf" ||
  fail "the test's copy of the FireLens config was not rewritten"

"$FERRY_BIN" convert "$WORK/fluent-bit.conf" > "$WORK/converted.yaml" 2> "$WORK/convert.err" ||
  { cat "$WORK/convert.err"; fail "ferry convert failed"; }
grep -q '^ *provider: ecs$' "$WORK/converted.yaml" ||
  { cat "$WORK/converted.yaml"; fail "convert: provider ecs not carried over"; }

"$FERRY_BIN" run --fluent-bit-config "$WORK/fluent-bit.conf" 2> "$WORK/run.err" &
FERRY_PID=$!
PIDS+=($FERRY_PID)
wait_for 10 test -S "$WORK/fluent.sock" || { cat "$WORK/run.err"; fail "ferry did not listen"; }
send() { # send HOW WHERE COUNT FIRST: acknowledged records, as the app container's driver would
  timeout 60 node "$E2E_DIR/forward_client.js" "$1" "$2" --count "$3" --first "$4" \
    --tag app-firelens-3de392df --time-base now --timeout-ms 50000 > "$WORK/client.out" ||
    { cat "$WORK/client.out"; tail "$WORK/run.err"; fail "forward client over $1 failed"; }
}
send --path "$WORK/fluent.sock" "$N_SOCK" 0
send --port "$FWD_PORT" "$N_TCP" "$N_SOCK"
WANT=$((N_SOCK + N_TCP))
lines_at_least() { [ "$(wc -l < "$1")" -ge "$2" ]; }
wait_for 30 lines_at_least "$WORK/dd.out" "$WANT" ||
  { tail "$WORK/run.err" "$WORK/dd.err"; fail "datadog: $(wc -l < "$WORK/dd.out") of $WANT records"; }
kill -TERM "$FERRY_PID"
wait_exit "$FERRY_PID" 30
[ "$RC" = 0 ] || { tail -20 "$WORK/run.err"; fail "ferry exited $RC"; }
curl -s --max-time 5 "http://127.0.0.1:$DD_PORT/stats" > "$WORK/dd.stats" || fail "no intake stats"

python3 - "$WORK/dd.entries" "$WORK/dd.stats" "$WANT" "$ARN" <<'PY' || fail "the entries are not what Fluent Bit ships"
import json, re, sys
entries = [json.loads(l) for l in open(sys.argv[1])]
stats, want, arn = json.load(open(sys.argv[2])), int(sys.argv[3]), sys.argv[4]
assert stats['invalid_requests'] == 0, stats['invalid_reasons']
seen = set()
for e in entries:
    n = e['n']
    assert n not in seen, f'record {n} twice'
    seen.add(n)
    assert re.match(r'rec %07d( |$)' % n, e['message']), e['message'][:40]
    # forward_client.js: container_id c0ffee<n%7>, container_name /ecs-app-<n%3>.
    tags = (f'container_id:c0ffee{n % 7},container_name:ecs-app-{n % 3},cluster_name:mycluster,'
            f'task_arn:{arn},region:us-east-2,task_id:{arn.split("task/", 1)[1]},'
            'task_family:firelens-example-datadog,task_version:1,project:example')
    assert e['ddtags'] == tags, (n, e['ddtags'])
    assert e['service'] == 'my-httpd-service' and e['ddsource'] == 'httpd', e
    assert 'hostname' not in e, e['hostname'] # no dd_hostname: Fluent Bit sends none
    moved = {'container_id', 'container_name', 'ecs_cluster', 'ecs_task_arn', 'ecs_task_definition'}
    assert not moved & set(e), (n, sorted(moved & set(e)))
    assert e['source'] == ('stderr' if n % 2 else 'stdout') and 'log' not in e, sorted(e)
assert seen == set(range(want)), f'{len(seen)} of {want} records'
print(f'{len(entries)} entries, each once, ddtags as Fluent Bit ships them')
PY
pass "provider ecs: $WANT FireLens records with the ECS fields in ddtags, as Fluent Bit sends them"
