#!/usr/bin/env bash
# FireLens health checks against the real binary running a corpus config as Fluent Bit would
# (afb-configs-output-metrics-healthcheck: the ECS agent's tcp health-check input, HTTP_Server
# with Health_Check and HC_* thresholds). On a temp copy the listen addresses change, the
# Firehose endpoint points at a closed port (a sink that is down) and HC_Retry_Failure_Count
# is 0 instead of 5 (one request given up within HC_Period turns it). Checks: the task's
# `echo '{"health": "check"}' | nc 127.0.0.1 <port>` exits 0 and its record reaches the null
# output; `curl -f .../api/v1/health` exits 0; /api/v1/uptime, /api/v1/metrics[/prometheus]
# and / answer in Fluent Bit's shapes; with the sink down, requests given up after Retry_Limit
# turn /api/v1/health into 500 "error", and once HC_Period passes without failures it is 200.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/firelens_lib.sh"
command -v node >/dev/null || fail "node is required for the forward client"
command -v nc >/dev/null || fail "nc (netcat) is required: FireLens' health check is an nc command"
CORPUS=$(firelens_corpus)
export AWS_REGION=us-west-2 AWS_ACCESS_KEY_ID=AKIAFERRYE2E0000001 AWS_SECRET_ACCESS_KEY=e2e-secret
export AWS_EC2_METADATA_DISABLED=true

HC_PORT=$(free_port)
FWD_PORT=$(free_port)
HTTP_PORT=$(free_port)
DOWN_PORT=$(free_port) # nothing listens here: the Firehose sink is down
cp -r "$CORPUS/afb-configs-output-metrics-healthcheck" "$WORK/conf"
cd "$WORK/conf"
sed -i -e "s|unix_path /var/run/fluent.sock|unix_path $WORK/fluent.sock|" \
  -e "s|Port 24224|Port $FWD_PORT|" -e "s|Port 8877|Port $HC_PORT|" \
  -e "s|region us-west-2|region us-west-2\n    endpoint http://127.0.0.1:$DOWN_PORT|" fluent-bit.conf
sed -i -e "s|HTTP_Listen            0.0.0.0|HTTP_Listen            127.0.0.1|" \
  -e "s|HTTP_PORT              2020|HTTP_PORT              $HTTP_PORT|" \
  -e "s|HC_Retry_Failure_Count 5|HC_Retry_Failure_Count 0|" output-metrics-healthcheck.conf
grep -q "Port $HC_PORT" fluent-bit.conf && grep -q "HTTP_PORT *$HTTP_PORT" output-metrics-healthcheck.conf &&
  grep -q "HC_Retry_Failure_Count 0" output-metrics-healthcheck.conf ||
  fail "the corpus config changed: the listen rewrites did not apply"
(set -a; source ENV; set +a; exec "$FERRY_BIN" run --fluent-bit-config fluent-bit.conf) \
  > "$WORK/ferry.out" 2> "$WORK/ferry.err" &
PIDS+=($!)
FERRY=$!
HTTP="127.0.0.1:$HTTP_PORT"
api() { curl -s --max-time 2 -o "$WORK/api.body" -w '%{http_code}' "http://$HTTP$1"; }
wait_for 10 curl -sf --max-time 1 "http://$HTTP/api/v1/uptime" || { cat "$WORK/ferry.err"; fail "no HTTP server"; }

# The health checks of the FireLens task definitions, word for word. The nc of the FireLens
# images (nmap's ncat) half-closes at the end of its input, and ferry then closes the
# connection; Debian's OpenBSD nc does that only with -N (without, it waits for the server).
NC=nc
nc -h 2>&1 | grep -q -- '^[[:space:]]*-N' && NC="nc -N"
timeout 10 bash -c "echo '{\"health\": \"check\"}' | $NC 127.0.0.1 $HC_PORT" || fail "the nc health check exited $?"
timeout 10 curl -sf "http://127.0.0.1:$HTTP_PORT/api/v1/health" > "$WORK/hc.body" || fail "curl -f /api/v1/health failed"
[ "$(cat "$WORK/hc.body")" = ok ] || fail "/api/v1/health said '$(cat "$WORK/hc.body")', expected ok"
null_sent() { curl -s --max-time 2 "http://$HTTP/metrics" | grep '^ferry_output_records_total{output="null",result="sent"} 1$' >/dev/null; }
wait_for 10 null_sent || { curl -s "http://$HTTP/metrics" | grep -E 'input_records|null'; fail "the health-check record did not reach the null output"; }
pass "nc and curl health checks exit 0; the health-check record went to the null output"

[ "$(api /api/v1/uptime)" = 200 ] || fail "/api/v1/uptime: $(cat "$WORK/api.body")"
"$E2E_PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1]))
assert isinstance(d["uptime_sec"], int) and d["uptime_hr"].startswith("Fluent Bit has been running:"), d' "$WORK/api.body" ||
  fail "/api/v1/uptime shape: $(cat "$WORK/api.body")"
[ "$(api /api/v1/metrics)" = 200 ] || fail "/api/v1/metrics: $(cat "$WORK/api.body")"
"$E2E_PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1]))
assert d["input"]["tcp"]["records"] == 1 and d["input"]["tcp"]["bytes"] > 0, d
assert d["output"]["null"]["proc_records"] == 1 and "retries_failed" in d["output"]["firehose"], d' "$WORK/api.body" ||
  fail "/api/v1/metrics shape: $(cat "$WORK/api.body")"
[ "$(api /api/v1/metrics/prometheus)" = 200 ] && grep -q '^fluentbit_input_records_total{name="tcp"} 1$' "$WORK/api.body" ||
  fail "/api/v1/metrics/prometheus has no fluentbit_input_records_total for tcp"
[ "$(api /)" = 200 ] && "$E2E_PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1]))["fluent-bit"]
assert d["version"] and d["edition"] == "ferry" and d["flags"] == [], d' "$WORK/api.body" || fail "/: $(cat "$WORK/api.body")"
pass "/api/v1/uptime, /api/v1/metrics, /api/v1/metrics/prometheus and / answer in Fluent Bit's shapes"

# The sink is down: one request, given up after Retry_Limit 2 (three attempts, about 3 s),
# is more than HC_Retry_Failure_Count 0 within HC_Period 5. (One is used, not several:
# while a sink fails, ferry sends one probe request at a time and holds the others, so
# requests are given up one after another, not side by side as Fluent Bit's chunks are.)
timeout 20 node "$E2E_DIR/forward_client.js" --port "$FWD_PORT" --count 1 --first 1 --tag app-firelens-1 \
  > /dev/null 2>> "$WORK/client.err" || { cat "$WORK/client.err"; fail "forward client failed"; }
hc_is() { [ "$(api /api/v1/health)" = "$1" ]; }
wait_for 20 hc_is 500 || { grep -c 'giving up' "$WORK/ferry.err"; fail "/api/v1/health did not turn 500 with the sink down"; }
[ "$(cat "$WORK/api.body")" = error ] || fail "/api/v1/health body: $(cat "$WORK/api.body")"
pass "requests given up by a down sink beyond HC_Retry_Failure_Count: /api/v1/health is 500 error"
wait_for 15 hc_is 200 || fail "/api/v1/health stayed 500 after HC_Period without failures"
pass "HC_Period later without failures, /api/v1/health is 200 again"
kill -TERM "$FERRY"
wait_exit "$FERRY" 40
