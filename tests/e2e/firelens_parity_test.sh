#!/usr/bin/env bash
# FireLens drop-in parity, per corpus config (shared/testdata/firelens/configs): every accepted
# config whose outputs ferry has runs in `ferry run --fluent-bit-config`, one ferry at a time,
# in a copy of its folder with its ENV and @INCLUDEd files, exactly as the ECS agent runs it.
# What the copy changes (tests/e2e/firelens_parity.py stage): the unix socket path, the forward
# and health-check ports and the HTTP server port move to free ones in $WORK, Listen 0.0.0.0
# becomes 127.0.0.1, and the outputs point at the strict stand-ins: the datadog output's Host
# is replaced by 127.0.0.1 with a Port added and TLS off (datadog_intake.js), the firehose /
# kinesis_firehose output gets an `endpoint http://127.0.0.1:PORT` key (firehose_server.js,
# which verifies every SigV4 signature for the config's own region and stream).
# Records are sent with the real forward client (@fluent-org/logger) over the unix socket and,
# where the config listens on TCP, over TCP, each record's log a line that exercises the
# config's filters; the FireLens health checks run against the live config (the tcp input with
# nc, GET /api/v1/health with curl where the config turns the HTTP server on). Then every
# delivered record is compared field by field with what Fluent Bit ships for the same input
# (firelens_parity.py check: out_datadog's entry with the ECS tags, the Firehose JSON line),
# dropped lines must be absent and each kept one must arrive exactly once.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/firelens_lib.sh"
CORPUS=$(firelens_corpus)
command -v node >/dev/null || fail "node is required for the stand-ins"
command -v nc >/dev/null || fail "nc is required for the FireLens health check"
[ -d "$E2E_DIR/node_modules/@fluent-org/logger" ] || fail "run 'npm ci' in tests/e2e"
PARITY="$E2E_PYTHON $E2E_DIR/firelens_parity.py"

export AWS_ACCESS_KEY_ID="AKIAFERRYE2E0000001"
export AWS_SECRET_ACCESS_KEY="e2e/secret+key/0123456789abcdefghijklmnop"
export AWS_EC2_METADATA_DISABLED=true
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
  AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_WEB_IDENTITY_TOKEN_FILE ECS_CONTAINER_METADATA_URI_V4 || true

# name | tag of the app's records | line set (firelens_parity.py) | records sock:tcp |
# fields the config's record_modifier/modify add (ecs=TASKDEF: the agent's three ECS fields) |
# datadog: api key|service|source|dd_tags ("-": none) | firehose stream@region ("-": none) |
# does the health-check record reach the outputs (their Match covers firelens-healthcheck) |
# known gaps, where ferry still differs (firelens_parity.py GAPS; the check expects them)
APP=app-firelens-3de392df NH=nerves_hub-firelens-3de392df
TWITCH="ec2_instance_id=i-01dce3798d7c17a58;ecs_cluster=furrlens;ecs_task_arn=arn:aws:ecs:ap-south-1:144718711470:task/737d73bf-8c6e-44f1-aa86-7b3ae3922011;ecs_task_definition=firelens-example-twitch-session:5;app-version=v1.1.14"
TABLE=(
  "afb-configs-minimize-log-loss|$APP|plain|40:20|ecs=firelens-example-firehose:1|-|my-stream@us-west-2|no|"
  "afb-configs-output-metrics-healthcheck|$APP|plain|40:20|ecs=firelens-example-firehose:1|-|my-stream@us-west-2|no|"
  "afb-ecs-firehose|$APP|plain|40:0|ecs=app:1|-|my-stream@us-west-2|no|"
  "blog-datadog-firehose|$APP|plain|40:20|ecs=app:1|dummy|web|ecs|env:prod|logs-stream@ap-northeast-1|yes|"
  "ecs-captured-under-the-hood|$APP|grep-error|40:20|$TWITCH|-|demo-stream@ap-south-1|no|"
  "ecs-datadog-parse-json|$NH|json|40:20|ecs=nerves_hub-production:1|dummy-dd-api-key|nerves_hub|elixir|env:production,application:nerves_hub-production,version:v2.0.0,task:web|-|no|time_keep,status"
  "ecs-ec2-datadog-literal-key|$APP|plain|40:20|ec2=i-123456789a;ecs=firelens-example-datadog:1|<DATADOG_API_KEY>|my-httpd-service|httpd|project:example|-|no|"
  "ecs-fargate-datadog|$APP|plain|40:20|ecs=firelens-example-datadog:1|dummy-dd-api-key|my-httpd-service|httpd|project:example|-|no|"
  "ecs-fargate-firehose-nometa|$APP|plain|40:20||-|my-stream@us-west-2|no|"
  "ecs-fargate-firehose|$APP|plain|1200:300|ecs=firelens-example-firehose:1|-|my-stream@us-west-2|no|"
  "ecs-fargate-include-exclude|$APP|grep-vowel|40:20|ecs=firelens-example-firehose:1|-|my-stream@us-west-2|no|"
  "ecs-file-efs-output-in-extra|$APP|plain|40:20|ecs=firelens-efs-example:1|-|my-stream@us-east-1|yes|"
  "ecs-file-extra-conf|$APP|plain|40:20|ec2=i-123456789a;ecs=firelens-example-firehose:1;app-version=v1.1.14|-|my-stream@us-west-2|no|"
  "ecs-nerves-hub-datadog|$NH|plain|40:20|ecs=nerves_hub-production:1|dummy-dd-api-key|nerves_hub|elixir|env:production,application:nerves_hub-production,version:v2.0.0,task:web|-|no|"
  "ecs-s3-add-keys|$APP|plain|40:20|ec2=i-123456789a;ecs=firelens-example-firehose:1;app-version=v1.1.14|-|my-stream@us-west-2|no|"
  "ecs-s3-parse-apache|$APP|apache|40:20|ec2=i-123456789a;ecs=firelens-example-json:1|-|my-stream@us-west-2|no|time_keep"
  "ecs-s3-parse-json|$APP|json|40:20|ec2=i-123456789a;ecs=firelens-example-json:1|-|my-stream@us-west-2|no|time_keep"
  "user-issue381-modify-wrapper|$APP|plain|40:20|ecs=firelens-example-datadog:1;KEY1=VALUE2;KEY2=VALUE2|dummy-dd-api-key|my-httpd-service|httpd|project:example|-|no|"
  "user-jp-healthcheck-lookahead|$APP|elb|40:20|ecs=app:1|-|app-prod-logs@ap-northeast-1|yes|"
  "user-moj-syslog-firehose|$APP|syslog|40:0||-|alfresco-logs@eu-west-2|no|"
)

TIME_BASE=$(date +%s)
NSEC_OFFSET=499999 # record 0's sub-millisecond part rounds down, every other one's up
$PARITY lines "$WORK" "$TIME_BASE"

# start_stand_ins: the datadog intake and/or the firehose server a config needs; sets DD_PORT
# and FH_PORT (empty when not needed) and SERVER_PIDS.
start_stand_ins() {
  DD_PORT="" FH_PORT="" SERVER_PIDS=()
  if [ "$DD_KEY" != - ]; then
    node "$E2E_DIR/datadog_intake.js" --port-file "$DIR.dd.port" --api-key "$DD_KEY" \
      --out "$DIR.dd.out" --entries-out "$DIR.dd.entries" --encoding gzip 2> "$DIR.dd.err" &
    SERVER_PIDS+=($!); PIDS+=($!)
  fi
  if [ "$FH" != - ]; then
    node "$E2E_DIR/firehose_server.js" --port-file "$DIR.fh.port" --out "$DIR.fh.out" \
      --stream "${FH%@*}" --region "${FH#*@}" --access-key-id "$AWS_ACCESS_KEY_ID" \
      --secret-access-key "$AWS_SECRET_ACCESS_KEY" --stats-file "$DIR.fh.stats" 2> "$DIR.fh.err" &
    SERVER_PIDS+=($!); PIDS+=($!)
  fi
  if [ "$DD_KEY" != - ]; then
    wait_for 10 test -s "$DIR.dd.port" || { cat "$DIR.dd.err"; fail "$NAME: the intake did not start"; }
    DD_PORT=$(cat "$DIR.dd.port")
  fi
  if [ "$FH" != - ]; then
    wait_for 10 test -s "$DIR.fh.port" || { cat "$DIR.fh.err"; fail "$NAME: the firehose server did not start"; }
    FH_PORT=$(cat "$DIR.fh.port")
    touch "$DIR.fh.out"
  fi
}

# send HOW WHERE FIRST COUNT: acknowledged records as the app container's log driver sends them.
send() {
  timeout 30 node "$E2E_DIR/forward_client.js" "$2" "$3" --first "$4" --count "$5" --tag "$TAG" \
    --lines-json "$WORK/$LINES.jsonl" --time-base "$TIME_BASE" --nsec-offset "$NSEC_OFFSET" \
    --timeout-ms 25000 > "$DIR.client-$1.out" ||
    { cat "$DIR.client-$1.out"; tail "$DIR.run.err"; fail "$NAME: the forward client over $1 failed"; }
}

RESULTS=() started=$(date +%s)
for row in "${TABLE[@]}"; do
  IFS='|' read -r NAME TAG LINES COUNTS ADD DD_KEY DD_SERVICE DD_SOURCE DD_TAGS FH HC GAPS <<< "$row"
  if [ "$DD_KEY" = - ]; then # a firehose-only row has three columns fewer
    IFS='|' read -r NAME TAG LINES COUNTS ADD DD_KEY FH HC GAPS <<< "$row"
  fi
  [[ "$NAME" =~ ${FIRELENS_ONLY:-.} ]] || continue # FIRELENS_ONLY=REGEX: only those rows
  N_SOCK=${COUNTS%:*} N_TCP=${COUNTS#*:}
  DIR="$WORK/$NAME"
  t0=$(date +%s%N)
  start_stand_ins
  FWD_PORT=$(free_port) HC_PORT=$(free_port) HTTP_PORT=$(free_port)
  eval "$($PARITY stage "$CORPUS/$NAME" "$DIR" --sock "$DIR/fluent.sock" --fwd-port "$FWD_PORT" \
    --hc-port "$HC_PORT" --http-port "$HTTP_PORT" ${DD_PORT:+--dd-port "$DD_PORT"} \
    ${FH_PORT:+--fh-port "$FH_PORT"})" || fail "$NAME: staging the config failed"

  (set -a; source "$DIR/ENV"; set +a; cd "$DIR" && exec "$FERRY_BIN" run --fluent-bit-config fluent-bit.conf) \
    2> "$DIR.run.err" &
  FERRY_PID=$!
  PIDS+=($FERRY_PID)
  wait_for 10 test -S "$DIR/fluent.sock" || { cat "$DIR.run.err"; fail "$NAME: ferry did not listen"; }

  health=()
  if [ "$HAS_HC" = 1 ]; then # the health check of the FireLens task definitions
    wait_for 5 nc -z 127.0.0.1 "$HC_PORT" || fail "$NAME: the tcp input on $HC_PORT does not answer"
    echo '{"health": "check"}' | timeout 5 nc -N -w 2 127.0.0.1 "$HC_PORT" ||
      fail "$NAME: the FireLens health check (nc on the tcp input) failed"
    health=(--health-sent)
  fi
  if [ "$HAS_HTTP" = 1 ]; then # curl -f, as the aws-for-fluent-bit health check; Fluent Bit says ok
    wait_for 5 curl -sf --max-time 2 -o "$DIR.health" "http://127.0.0.1:$HTTP_PORT/api/v1/health" ||
      fail "$NAME: curl -f /api/v1/health failed"
    [ "$(cat "$DIR.health")" = ok ] || fail "$NAME: /api/v1/health said '$(head -c 80 "$DIR.health")', not ok"
  fi

  sent=(--sent "0:$N_SOCK")
  send sock --path "$DIR/fluent.sock" 0 "$N_SOCK" &
  SOCK_CLIENT=$!
  if [ "$N_TCP" -gt 0 ]; then
    [ "$HAS_TCP" = 1 ] || fail "$NAME: the table sends over TCP but the config has no forward port"
    wait_for 5 nc -z 127.0.0.1 "$FWD_PORT" || fail "$NAME: the forward port $FWD_PORT does not answer"
    send tcp --port "$FWD_PORT" "$N_SOCK" "$N_TCP"
    sent+=(--sent "$N_SOCK:$N_TCP")
  fi
  wait "$SOCK_CLIENT" || fail "$NAME: the client over the unix socket failed"
  # Every record is acknowledged: a clean stop delivers them all before ferry exits.
  kill -TERM "$FERRY_PID"
  wait_exit "$FERRY_PID" 30
  [ "$RC" = 0 ] || { tail -20 "$DIR.run.err"; fail "$NAME: ferry exited $RC"; }

  check=()
  if [ -n "$DD_PORT" ]; then
    curl -s --max-time 5 "http://127.0.0.1:$DD_PORT/stats" > "$DIR.dd.stats" || fail "$NAME: no intake stats"
    check+=(--dd-entries "$DIR.dd.entries" --dd-stats "$DIR.dd.stats")
  fi
  for p in "${SERVER_PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  [ -z "$FH_PORT" ] || check+=(--fh-out "$DIR.fh.out" --fh-stats "$DIR.fh.stats")
  SPEC=$(printf '{"lines":"%s","add":"%s","hc":"%s","gaps":"%s","dd":{"service":"%s","source":"%s","tags":"%s"}}' \
    "$LINES" "$ADD" "$HC" "$GAPS" "$DD_SERVICE" "$DD_SOURCE" "$DD_TAGS")
  if ! summary=$($PARITY check --spec "$SPEC" --time-base "$TIME_BASE" --nsec-offset "$NSEC_OFFSET" \
      "${sent[@]}" "${health[@]}" "${check[@]}"); then
    tail -5 "$DIR.run.err" >&2
    fail "$NAME: what ferry shipped differs from what Fluent Bit ships"
  fi
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  RESULTS+=("$(printf '%-40s %s (%d ms)%s' "$NAME" "$summary" "$ms" "${GAPS:+; known gap: $GAPS}")")
done
printf '  %s\n' "${RESULTS[@]}"
pass "${#RESULTS[@]} FireLens configs ship what Fluent Bit ships ($(( $(date +%s) - started )) s)"
