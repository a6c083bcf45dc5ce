#!/usr/bin/env bash
# Fluent Bit config import: a FireLens-generated fluent-bit.conf (health-check input, two
# forward inputs, ECS metadata record_modifier, include-pattern grep, @INCLUDE of the user's
# file with @SET, [SERVICE], modify and a kinesis_firehose output, then null and datadog
# outputs) is converted by `ferry convert` and run by `ferry run --fluent-bit-config`:
# records sent over forward reach the Datadog and Firehose stand-ins, filtered and enriched.
# A config with unmappable keys exits 1 naming file, line and key.
source "$(dirname "$0")/lib.sh"
command -v node >/dev/null || fail "node is required for the stand-ins"

export DD_API_KEY="e2e-key-0123456789abcdef01234567"
export AWS_REGION="eu-west-1"
export AWS_ACCESS_KEY_ID="AKIAFERRYE2E0000001"
export AWS_SECRET_ACCESS_KEY="e2e/secret+key/0123456789abcdefghijklmnop"
export AWS_EC2_METADATA_DISABLED=true
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
  AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_WEB_IDENTITY_TOKEN_FILE ECS_CONTAINER_METADATA_URI_V4 || true
TAG=checkout-firelens-0123456789abcdef
# provider ecs: the ECS fields become tags before dd_tags (container_name is removed by modify).
DD_TAGS_RE="container_id:c0ffee[0-6],cluster_name:prod-cluster,task_arn:arn:aws:ecs:eu-west-1:"
DD_TAGS_RE+="111122223333:task/prod-cluster/0123456789abcdef,region:eu-west-1,"
DD_TAGS_RE+="task_id:prod-cluster/0123456789abcdef,task_family:checkout-api,task_version:42,"
DD_TAGS_RE+="env:prod,team:payments"

node "$E2E_DIR/datadog_intake.js" --port-file "$WORK/dd.port" --api-key "$DD_API_KEY" \
  --out "$WORK/dd.out" --encoding gzip --expect-service checkout-api --expect-source nodejs \
  --expect-tags-re "$DD_TAGS_RE" 2> "$WORK/dd.err" &
PIDS+=($!)
node "$E2E_DIR/firehose_server.js" --port-file "$WORK/fh.port" --out "$WORK/fh.out" \
  --stream checkout-logs --region "$AWS_REGION" --access-key-id "$AWS_ACCESS_KEY_ID" \
  --secret-access-key "$AWS_SECRET_ACCESS_KEY" --stats-file "$WORK/fh.stats" 2> "$WORK/fh.err" &
FH_PID=$!
PIDS+=($FH_PID)
wait_for 10 test -s "$WORK/dd.port" || { cat "$WORK/dd.err"; fail "datadog stand-in did not start"; }
wait_for 10 test -s "$WORK/fh.port" || { cat "$WORK/fh.err"; fail "firehose stand-in did not start"; }
DD_PORT=$(cat "$WORK/dd.port")
export FH_ENDPOINT="http://127.0.0.1:$(cat "$WORK/fh.port")"

# As the ECS agent writes it, with the socket and ports moved into the test's directory.
HC_PORT=$(free_port)
cat > "$WORK/fluent-bit.conf" <<CONF
[INPUT]
    Name tcp
    Listen 127.0.0.1
    Port $HC_PORT
    Tag firelens-healthcheck

[INPUT]
    Name forward
    unix_path $WORK/fluent.sock

[INPUT]
    Name forward
    Listen 127.0.0.1
    Port 0

[FILTER]
    Name record_modifier
    Match *
    Record ecs_cluster prod-cluster
    Record ecs_task_arn arn:aws:ecs:eu-west-1:111122223333:task/prod-cluster/0123456789abcdef
    Record ecs_task_definition checkout-api:42

[FILTER]
    Name   grep
    Match  $TAG
    Exclude log ^rec 000000[0-4]

@INCLUDE $WORK/extra.conf

[OUTPUT]
    Name null
    Match firelens-healthcheck

[OUTPUT]
    Name datadog
    Match $TAG
    Host 127.0.0.1
    Port $DD_PORT
    TLS off
    apikey \${DD_API_KEY}
    dd_service checkout-api
    dd_source nodejs
    dd_tags env:prod,team:payments
    provider ecs
    compress gzip
CONF
cat > "$WORK/extra.conf" <<'CONF'
@SET STREAM=checkout-logs
[SERVICE]
    Flush     1
    Grace     20
    Log_Level info

[FILTER]
    Name   modify
    Match  checkout-firelens-*
    Add    env prod
    Rename source stream
    Remove container_name

[OUTPUT]
    Name            kinesis_firehose
    Match           checkout-firelens-*
    region          ${AWS_REGION}
    delivery_stream ${STREAM}
    endpoint        ${FH_ENDPOINT}
    Retry_Limit     no_limits
CONF

"$FERRY_BIN" convert "$WORK/fluent-bit.conf" > "$WORK/converted.yaml" 2> "$WORK/convert.err" ||
  { cat "$WORK/convert.err"; fail "ferry convert failed"; }
grep -q 'type: firehose' "$WORK/converted.yaml" || fail "convert: no firehose output"
grep -q 'delivery_stream: checkout-logs' "$WORK/converted.yaml" || fail "convert: @SET not applied"
grep -q "type: tcp" "$WORK/converted.yaml" || fail "convert: the health-check tcp input is missing"
# The converted YAML is a valid ferry config on its own.
"$FERRY_BIN" validate -c "$WORK/converted.yaml" > /dev/null 2> "$WORK/validate.err" ||
  { cat "$WORK/validate.err"; fail "the converted YAML does not validate"; }
pass "convert + validate"

"$FERRY_BIN" run --fluent-bit-config "$WORK/fluent-bit.conf" 2> "$WORK/run.err" &
FERRY_PID=$!
PIDS+=($FERRY_PID)
wait_for 10 test -S "$WORK/fluent.sock" || { cat "$WORK/run.err"; fail "ferry did not listen"; }
timeout 60 node "$E2E_DIR/concat_partial_client.js" --path "$WORK/fluent.sock" --plain 200 --tag "$TAG" \
  > "$WORK/client.out" || { cat "$WORK/client.out" "$WORK/run.err"; fail "forward client failed"; }
lines_at_least() { [ -f "$1" ] && [ "$(wc -l < "$1")" -ge "$2" ]; }
wait_for 20 lines_at_least "$WORK/dd.out" 195 ||
  { tail "$WORK/run.err" "$WORK/dd.err"; fail "datadog: $(wc -l < "$WORK/dd.out") of 195 records"; }
wait_for 20 lines_at_least "$WORK/fh.out" 195 ||
  { tail "$WORK/run.err" "$WORK/fh.err"; fail "firehose: $(wc -l < "$WORK/fh.out") of 195 records"; }
kill -TERM "$FERRY_PID"
wait_exit "$FERRY_PID" 30
[ "$RC" = 0 ] || { cat "$WORK/run.err"; fail "ferry exited $RC"; }
kill "$FH_PID"; wait "$FH_PID" 2>/dev/null || true

python3 - "$WORK/dd.out" "$WORK/fh.out" "$WORK/fh.stats" <<'PY' || fail "delivered records are not as expected"
import json, sys
dd = [json.loads(l) for l in open(sys.argv[1])]
fh = [json.loads(l) for l in open(sys.argv[2])]
stats = json.load(open(sys.argv[3]))
assert stats.get('invalid_requests', 0) == 0, stats
assert len(dd) == 195, f'datadog got {len(dd)}'
assert not any(m.startswith('rec 000000') and int(m[4:11]) < 5 for m in dd), 'grep did not exclude'
assert len(fh) == 195, f'firehose got {len(fh)}'
for r in fh:
    assert r['ecs_cluster'] == 'prod-cluster' and r['ecs_task_definition'] == 'checkout-api:42', r
    assert r['env'] == 'prod' and r['stream'] in ('stdout', 'stderr'), r
    assert 'container_name' not in r and 'source' not in r, sorted(r)
print('datadog 195, firehose 195 records: filtered, enriched, modified')
PY
pass "run --fluent-bit-config delivers to Datadog and Firehose"

cat > "$WORK/bad.conf" <<'CONF'
[INPUT]
    Name forward
    unix_path /tmp/x.sock
[OUTPUT]
    Name cloudwatch_logs
    Match *
    log_group_name g
    log_stream_name s
    log_stream_prefix p-
CONF
rc=0
"$FERRY_BIN" run --fluent-bit-config "$WORK/bad.conf" 2> "$WORK/bad.err" || rc=$?
[ "$rc" = 1 ] || fail "unmappable config: exit $rc, expected 1"
grep -q "bad.conf:4: \[OUTPUT cloudwatch_logs\]" "$WORK/bad.err" || { cat "$WORK/bad.err"; fail "error does not name file, line and section"; }
rc=0
"$FERRY_BIN" convert "$WORK/bad.conf" > /dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "convert of an unmappable config: exit $rc, expected 1"
pass "unmappable config refused with file, line and section"
