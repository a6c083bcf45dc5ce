#!/usr/bin/env bash
# service.http from the real binary (SPEC.md "HTTP endpoint"): /health's exact bodies and
# status codes (200 ok; 503 naming the outputs that answered 403 or have delivered nothing
# for unhealthy_after), /metrics in Prometheus text format with every name SPEC lists, the
# counters moving as records flow, the per-output latency histogram, 404 and 405.
source "$(dirname "$0")/lib.sh"

# A port nothing listens on (checked by connecting; python would cost seconds to start).
# The system python starts far faster than a version manager's shim.
PYTHON=$(command -v /usr/bin/python3 || command -v python3)
# http METHOD URL OUTFILE → prints the status code; headers go to OUTFILE.hdr.
http() {
  curl -s -o "$3" -D "$3.hdr" -w '%{http_code}' -X "$1" --max-time 5 "$2" || true
}
metric() { # NAME_WITH_LABELS → its value (empty when absent)
  curl -s --max-time 5 "$BASE/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}
metric_is() { [ "$(metric "$1")" = "$2" ]; }

# --- a healthy pipeline: tail → file and null ------------------------------------------
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
mkdir "$WORK/logs"
for i in $(seq 1 50); do echo "line $i"; done > "$WORK/logs/app.log"
cat > "$WORK/ok.yaml" <<YAML
service:
  log_level: warn
  http: { listen: 127.0.0.1:$PORT }
  grace_period: 5s
inputs:
  - type: tail
    path: $WORK/logs/*.log
    read_from_head: true
outputs:
  - type: file
    path: $WORK/out.jsonl
    flush_interval: 100ms
  - type: null
YAML
"$FERRY_BIN" run -c "$WORK/ok.yaml" 2>"$WORK/ok.err" &
PID=$!
PIDS+=("$PID")
wait_for 10 curl -fs "$BASE/health" || fail "/health never answered: $(cat "$WORK/ok.err")"

code=$(http GET "$BASE/health" "$WORK/h")
[ "$code" = 200 ] || fail "/health: status $code"
[ "$(cat "$WORK/h")" = '{"status":"ok"}' ] || fail "/health body: $(cat "$WORK/h")"
grep -qi '^content-type: application/json' "$WORK/h.hdr" || fail "/health content type: $(cat "$WORK/h.hdr")"
pass "/health → 200 {\"status\":\"ok\"}"

wait_for 10 metric_is 'ferry_output_records_total{output="file",result="sent"}' 50 ||
  fail "file output never reached 50 sent: $(curl -s "$BASE/metrics" | grep records_total)"
code=$(http GET "$BASE/metrics" "$WORK/m")
[ "$code" = 200 ] || fail "/metrics: status $code"
grep -qi '^content-type: text/plain; version=0.0.4' "$WORK/m.hdr" || fail "/metrics content type: $(cat "$WORK/m.hdr")"
for series in \
  'ferry_input_records_total{input="tail"} 50' \
  'ferry_input_bytes_total{input="tail"}' \
  'ferry_input_paused{input="tail"} 0' \
  'ferry_output_records_total{output="file",result="sent"} 50' \
  'ferry_output_records_total{output="file",result="dropped"} 0' \
  'ferry_output_records_total{output="file",result="failed"} 0' \
  'ferry_output_records_total{output="null",result="sent"} 50' \
  'ferry_output_retries_total{output="file"} 0' \
  'ferry_output_buffer_bytes{output="file"}' \
  'ferry_ring_slots_used' \
  'ferry_ring_capacity 4096' \
  'ferry_build_info{version="' \
  '# TYPE ferry_output_request_duration_seconds histogram' \
  'ferry_output_request_duration_seconds_bucket{output="file",le="0.005"}' \
  'ferry_output_request_duration_seconds_bucket{output="file",le="+Inf"}' \
  'ferry_output_request_duration_seconds_sum{output="file"}' \
  'ferry_output_request_duration_seconds_count{output="null"}'; do
  grep -qF "$series" "$WORK/m" || fail "/metrics lacks '$series'"
done
pass "/metrics has every series SPEC lists, and the latency histogram"

# The text format itself: every sample line is `name{labels} value`, one TYPE per family,
# and a histogram's +Inf bucket equals its _count.
bad=$(grep -v '^#' "$WORK/m" | grep -Ev '^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (-?[0-9][0-9.e+-]*|[+-]Inf|NaN)$' || true)
[ -z "$bad" ] || fail "malformed /metrics lines: $bad"
dups=$(grep '^# TYPE' "$WORK/m" | awk '{print $3}' | sort | uniq -d)
[ -z "$dups" ] || fail "families declared twice: $dups"
count=$(awk '$1 == "ferry_output_request_duration_seconds_count{output=\"file\"}" {print $2}' "$WORK/m")
inf=$(awk '$1 == "ferry_output_request_duration_seconds_bucket{output=\"file\",le=\"+Inf\"}" {print $2}' "$WORK/m")
[ -n "$count" ] && [ "$count" -ge 1 ] || fail "latency histogram observed nothing (count '$count')"
[ "$count" = "$inf" ] || fail "+Inf bucket $inf != count $count"
pass "/metrics is well-formed Prometheus text; histogram count $count"

# Counters move while ferry runs.
for i in $(seq 51 75); do echo "line $i"; done >> "$WORK/logs/app.log"
wait_for 10 metric_is 'ferry_input_records_total{input="tail"}' 75 || fail "input counter did not move to 75: $(metric 'ferry_input_records_total{input="tail"}')"
wait_for 10 metric_is 'ferry_output_records_total{output="file",result="sent"}' 75 || fail "output counter did not move to 75"
pass "counters move: 50 → 75 records in and out"

code=$(http GET "$BASE/nope" "$WORK/n")
[ "$code" = 404 ] || fail "unknown path: status $code"
code=$(http POST "$BASE/health" "$WORK/p")
[ "$code" = 405 ] || fail "POST /health: status $code"
code=$(curl -s -I -o "$WORK/head" -w '%{http_code}' --max-time 5 "$BASE/health" || true)
[ "$code" = 200 ] || fail "HEAD /health: status $code"
pass "404 for unknown paths, 405 for POST, HEAD answered"

kill -TERM "$PID"
wait_exit "$PID" 20
[ "$RC" = 0 ] || fail "exit status $RC after SIGTERM: $(cat "$WORK/ok.err")"

# --- unhealthy: one Datadog output refused with 403, one with its intake down ----------
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
DEAD_PORT=$(free_port) # nothing listens there
while [ "$DEAD_PORT" = "$PORT" ]; do DEAD_PORT=$(free_port); done
FORBIDDEN_PORT=$(free_port)
while [ "$FORBIDDEN_PORT" = "$DEAD_PORT" ] || [ "$FORBIDDEN_PORT" = "$PORT" ]; do FORBIDDEN_PORT=$(free_port); done
cat > "$WORK/forbidden.py" <<'PY'
# An intake that refuses every request with 403 (a revoked API key).
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(403)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
"$PYTHON" "$WORK/forbidden.py" "$FORBIDDEN_PORT" &
PIDS+=("$!")
mkdir "$WORK/logs2"
for i in $(seq 1 10); do echo "line $i"; done > "$WORK/logs2/app.log"
cat > "$WORK/bad.yaml" <<YAML
service:
  log_level: error
  http: { listen: 127.0.0.1:$PORT, unhealthy_after: 1s }
  grace_period: 1s
inputs:
  - type: tail
    path: $WORK/logs2/*.log
    read_from_head: true
outputs:
  - type: datadog
    name: dd_forbidden
    api_key: not-a-real-key
    url: http://127.0.0.1:$FORBIDDEN_PORT/api/v2/logs
    flush_interval: 100ms
    retry: { initial_backoff: 200ms, max_backoff: 500ms }
  - type: datadog
    name: dd_down
    api_key: not-a-real-key
    url: http://127.0.0.1:$DEAD_PORT/api/v2/logs
    flush_interval: 100ms
    retry: { initial_backoff: 200ms, max_backoff: 500ms }
YAML
"$FERRY_BIN" run -c "$WORK/bad.yaml" 2>"$WORK/bad.err" &
PID=$!
PIDS+=("$PID")
both_failing() {
  local code
  code=$(http GET "$BASE/health" "$WORK/h2")
  [ "$code" = 503 ] && grep -q dd_forbidden "$WORK/h2" && grep -q dd_down "$WORK/h2"
}
wait_for 15 both_failing || fail "/health did not report both outputs: $(cat "$WORK/h2" 2>/dev/null) $(tail -5 "$WORK/bad.err")"
"$PYTHON" -c '
import json, sys
b = json.load(open(sys.argv[1]))
assert b["status"] == "unhealthy", b
assert sorted(o["name"] for o in b["outputs"]) == ["dd_down", "dd_forbidden"], b
' "$WORK/h2" || fail "503 body is not {status: unhealthy, outputs: [dd_down, dd_forbidden]}: $(cat "$WORK/h2")"
grep -q 'not-a-real-key' "$WORK/h2" && fail "/health leaks the API key"
curl -s -o "$WORK/m2" "$BASE/metrics"
grep -q 'not-a-real-key' "$WORK/m2" && fail "/metrics leaks the API key"
retries=$(metric 'ferry_output_retries_total{output="dd_down"}')
[ -n "$retries" ] && [ "$retries" -ge 1 ] || fail "no retries counted for the dead intake ($retries)"
pass "/health → 503 naming dd_forbidden (403) and dd_down (no delivery for 1s); $retries retries counted"

kill -TERM "$PID"
wait_exit "$PID" 20
[ "$RC" = 0 ] || fail "exit status $RC after SIGTERM with failing outputs"
pass "SIGTERM with failing outputs still exits 0"
