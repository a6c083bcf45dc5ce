#!/usr/bin/env bash
# FireLens drop-in parity, per corpus config (shared/testdata/firelens/configs): every accepted
# config whose outputs ferry has runs in `ferry run --fluent-bit-config`, one ferry at a time,
# in a copy of its folder with its ENV and @INCLUDEd files, exactly as the ECS agent runs it.
# What the copy changes (tests/e2e/firelens_parity.py stage): the unix socket path, the forward
# and health-check ports and the HTTP server port move to free ones in $WORK, Listen 0.0.0.0
# becomes 127.0.0.1, and the outputs point at the strict stand-ins: the datadog output's Host
# is replaced by 127.0.0.1 with a Port added and TLS off (datadog_intake.js), the firehose /
# kinesis_firehose output gets an `endpoint http://127.0.0.1:PORT` key (firehose_server.js,
# which verifies every SigV4 signature for the config's own region and stream), and so does a
# cloudwatch_logs / cloudwatch output (cloudwatch_logs_server.js, for the config's region).
# Records are sent with the real forward client (@fluent-org/logger) over the unix socket and,
# where the config listens on TCP, over TCP, each record's log a line that exercises the
# config's filters; the FireLens health checks run against the live config (the tcp input with
# nc, GET /api/v1/health with curl where the config turns the HTTP server on). Then every
# delivered record is compared field by field with what Fluent Bit ships for the same input
# (firelens_parity.py check: out_datadog's entry with the ECS tags, the Firehose JSON line),
# dropped lines must be absent and each kept one must arrive exactly once. The stand-ins start
# once (one per API key, one per stream and region); each row's records are those that came
# while its ferry ran. Every config firelens_corpus_test.sh accepts must have a row here (but
# those in NO_ROW_YET).
# FIRELENS_ONLY=REGEX runs only the rows whose name matches.
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
# datadog: api key|service|source|dd_tags ("-": none) | firehose stream@region, or cw:REGION for a
# cloudwatch_logs / cloudwatch output ("-": none) |
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
  "ecs-datadog-parse-json|$NH|json|40:20|ecs=nerves_hub-production:1|dummy-dd-api-key|nerves_hub|elixir|env:production,application:nerves_hub-production,version:v2.0.0,task:web|-|no|"
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
  "afb-ecs-cloudwatch|$APP|plain|40:0|ecs=app:1|-|cw:us-west-2|no|"
  "ecs-file-multiline|$APP|plain|40:20|ec2=i-123456789a;ecs=firelens-example-multiline:1|-|cw:us-west-2|no|"
  "ecs-file-multiline-partial|$APP|plain|40:20|ec2=i-123456789a;ecs=firelens-example-multiline:1|-|cw:us-west-2|no|"
  "ecs-s3-debug-logging|$APP|plain|40:20|ec2=i-123456789a;ecs=firelens-example-debug:1|-|cw:us-west-2|no|"
  "fe-oomkill-full-filesystem|$APP|plain|40:20||-|cw:us-east-1|no|"
  "fe-oomkill-full-memory|$APP|plain|40:20||-|cw:us-east-1|no|"
)

# Accepted configs without a row here: afb-ecs-s3 (its only output is s3; tests/e2e/s3_test.sh
# runs its $TAG / $INDEX keys against s3rver); ecs-fargate-envoy-parser (TODO: needs envoy
# access-log lines and Fluent Bit's envoy parser in firelens_parity.py); ecs-s3-multiple-destinations
# (TODO: two firehose streams, cloudwatch_logs and datadog at once; rows take one of each).
# Accepted configs only.
NO_ROW_YET="afb-ecs-s3 ecs-fargate-envoy-parser ecs-s3-multiple-destinations"

if [ -z "${FIRELENS_ONLY:-}" ]; then
  accepted=$(sed -n 's/^  \[\([a-z0-9-]*\)\]=accept$/\1/p' "$E2E_DIR/firelens_corpus_test.sh" | sort)
  for n in $NO_ROW_YET; do
    grep -qx -- "$n" <<< "$accepted" || fail "NO_ROW_YET names $n, which the corpus test does not accept"
  done
  accepted=$(grep -vxF -f <(tr ' ' '\n' <<< "$NO_ROW_YET" | grep .) <<< "$accepted")
  here=$(printf '%s\n' "${TABLE[@]}" | cut -d'|' -f1 | sort)
  [ "$accepted" = "$here" ] || fail "the rows differ from the configs firelens_corpus_test.sh accepts: $(
    comm -3 <(echo "$accepted") <(echo "$here") | tr -s ' \t\n' ' ')"
fi

TIME_BASE=$(date +%s)
NSEC_OFFSET=499999 # record 0's sub-millisecond part rounds down, every other one's up
: > "$WORK/table"
for row in "${TABLE[@]}"; do
  NAME=${row%%|*}
  [[ "$NAME" =~ ${FIRELENS_ONLY:-.} ]] || continue # FIRELENS_ONLY=REGEX: only those rows
  echo "$row" >> "$WORK/table"
done
started=$(date +%s)

# The stand-ins, started once: a datadog intake per API key, a firehose server per stream and
# region (its SigV4 scope). Each row's records are told apart by where the files stood.
declare -A STAND_IN=() # dd:KEY or fh:STREAM@REGION → $WORK/ddN or fhN (.port, .entries)
i=0
while IFS='|' read -r -u 3 NAME TAG LINES COUNTS ADD DD_KEY REST; do
  FH=$(awk -F'|' '{ print $(NF-2) }' <<< "$REST")
  if [ "$DD_KEY" != - ] && [ -z "${STAND_IN[dd:$DD_KEY]:-}" ]; then
    i=$((i + 1)); STAND_IN[dd:$DD_KEY]=$WORK/dd$i
    node "$E2E_DIR/datadog_intake.js" --port-file "$WORK/dd$i.port" --api-key "$DD_KEY" \
      --out "$WORK/dd$i.out" --entries-out "$WORK/dd$i.entries" --encoding gzip 2> "$WORK/dd$i.err" &
    PIDS+=($!)
  fi
  if [[ "$FH" == cw:* ]] && [ -z "${STAND_IN[fh:$FH]:-}" ]; then # CloudWatch Logs, per region
    i=$((i + 1)); STAND_IN[fh:$FH]=$WORK/fh$i
    node "$E2E_DIR/cloudwatch_logs_server.js" --port-file "$WORK/fh$i.port" --out "$WORK/fh$i.entries" \
      --region "${FH#cw:}" --access-key-id "$AWS_ACCESS_KEY_ID" \
      --secret-access-key "$AWS_SECRET_ACCESS_KEY" 2> "$WORK/fh$i.err" &
    PIDS+=($!)
  elif [ "$FH" != - ] && [ -z "${STAND_IN[fh:$FH]:-}" ]; then
    i=$((i + 1)); STAND_IN[fh:$FH]=$WORK/fh$i
    node "$E2E_DIR/firehose_server.js" --port-file "$WORK/fh$i.port" --out "$WORK/fh$i.entries" \
      --stream "${FH%@*}" --region "${FH#*@}" --access-key-id "$AWS_ACCESS_KEY_ID" \
      --secret-access-key "$AWS_SECRET_ACCESS_KEY" 2> "$WORK/fh$i.err" &
    PIDS+=($!)
  fi
done 3< "$WORK/table"
stage_args=()
for k in "${!STAND_IN[@]}"; do
  base=${STAND_IN[$k]}
  wait_for 15 test -s "$base.port" || { cat "$base.err"; fail "the stand-in for $k did not start"; }
  touch "$base.entries"
  stage_args+=("--${k%%:*}" "${k#*:}=$(cat "$base.port")")
done
free_port $((3 * $(wc -l < "$WORK/table"))) > "$WORK/ports"
declare -A STAGED=()
while read -r name rest; do STAGED[$name]=$rest; done < <(
  $PARITY stage "$WORK/table" "$CORPUS" "$WORK" "$TIME_BASE" --ports "$WORK/ports" "${stage_args[@]}" ||
    echo "STAGE-FAILED")
[ -z "${STAGED[STAGE-FAILED]+x}" ] || fail "staging the configs failed"

# send HOW WHERE FIRST COUNT: acknowledged records as the app container's log driver sends them.
send() {
  timeout 30 node "$E2E_DIR/forward_client.js" "$2" "$3" --first "$4" --count "$5" --tag "$TAG" \
    --lines-json "$WORK/$LINES.jsonl" --time-base "$TIME_BASE" --nsec-offset "$NSEC_OFFSET" \
    --timeout-ms 25000 > "$DIR.client-$1.out" ||
    { cat "$DIR.client-$1.out"; tail "$DIR.run.err"; fail "$NAME: the forward client over $1 failed"; }
}

# note dd|fh before|after BASE: the stand-in's stats and how many lines its file holds.
note() {
  local what=$1 when=$2 base=$3
  curl -s --max-time 5 "http://127.0.0.1:$(cat "$base.port")/stats" > "$DIR.$what.$when.json" ||
    fail "$NAME: no $what stand-in stats"
  echo "${what}_stats_$when=$DIR.$what.$when.json" >> "$DIR.run"
  [ "$when" = after ] || echo "${what}_file=$base.entries" >> "$DIR.run"
  echo "${what}_line_$when=$(wc -l < "$base.entries")" >> "$DIR.run"
}

# One ferry per row, in turn (the table on fd 3: the clients and nc keep their own stdin).
while IFS='|' read -r -u 3 NAME TAG LINES COUNTS ADD DD_KEY REST; do
  FH=$(awk -F'|' '{ print $(NF-2) }' <<< "$REST")
  read -r FWD_PORT HC_PORT HTTP_PORT HAS_TCP HAS_HC HAS_HTTP <<< "${STAGED[$NAME]}"
  N_SOCK=${COUNTS%:*} N_TCP=${COUNTS#*:}
  DIR="$WORK/$NAME"
  t0=$(date +%s%N)
  : > "$DIR.run"
  [ "$DD_KEY" = - ] || note dd before "${STAND_IN[dd:$DD_KEY]}"
  [ "$FH" = - ] || note fh before "${STAND_IN[fh:$FH]}"

  (firelens_in "$DIR" "$FERRY_BIN" run --fluent-bit-config fluent-bit.conf) 2> "$DIR.run.err" &
  FERRY_PID=$!
  PIDS+=($FERRY_PID)
  wait_for 10 test -S "$DIR/fluent.sock" || { cat "$DIR.run.err"; fail "$NAME: ferry did not listen"; }

  if [ "$HAS_HC" = 1 ]; then # the health check of the FireLens task definitions
    wait_for 5 nc -z 127.0.0.1 "$HC_PORT" || fail "$NAME: the tcp input on $HC_PORT does not answer"
    echo '{"health": "check"}' | timeout 5 nc -N -w 2 127.0.0.1 "$HC_PORT" ||
      fail "$NAME: the FireLens health check (nc on the tcp input) failed"
    echo "health=1" >> "$DIR.run"
  fi
  if [ "$HAS_HTTP" = 1 ]; then # curl -f, as the aws-for-fluent-bit health check; Fluent Bit says ok
    wait_for 5 curl -sf --max-time 2 -o "$DIR.health" "http://127.0.0.1:$HTTP_PORT/api/v1/health" ||
      fail "$NAME: curl -f /api/v1/health failed"
    [ "$(cat "$DIR.health")" = ok ] || fail "$NAME: /api/v1/health said '$(head -c 80 "$DIR.health")', not ok"
  fi

  send sock --path "$DIR/fluent.sock" 0 "$N_SOCK" &
  SOCK_CLIENT=$!
  echo "sent=0:$N_SOCK" >> "$DIR.run"
  if [ "$N_TCP" -gt 0 ]; then
    [ "$HAS_TCP" = 1 ] || fail "$NAME: the table sends over TCP but the config has no forward port"
    wait_for 5 nc -z 127.0.0.1 "$FWD_PORT" || fail "$NAME: the forward port $FWD_PORT does not answer"
    send tcp --port "$FWD_PORT" "$N_SOCK" "$N_TCP"
    echo "sent=$N_SOCK:$N_TCP" >> "$DIR.run"
  fi
  wait "$SOCK_CLIENT" || fail "$NAME: the client over the unix socket failed"
  # Every record is acknowledged: a clean stop delivers them all before ferry exits.
  kill -TERM "$FERRY_PID"
  wait_exit "$FERRY_PID" 30
  [ "$RC" = 0 ] || { tail -20 "$DIR.run.err"; fail "$NAME: ferry exited $RC"; }
  [ "$DD_KEY" = - ] || note dd after "${STAND_IN[dd:$DD_KEY]}"
  [ "$FH" = - ] || note fh after "${STAND_IN[fh:$FH]}"
  echo "ms=$(( ($(date +%s%N) - t0) / 1000000 ))" >> "$DIR.run"
done 3< "$WORK/table"

$PARITY check "$WORK/table" "$WORK" "$TIME_BASE" "$NSEC_OFFSET" ||
  fail "what ferry shipped differs from what Fluent Bit ships (the rows marked FAIL)"
pass "$(wc -l < "$WORK/table") FireLens configs ship what Fluent Bit ships ($(( $(date +%s) - started )) s)"
