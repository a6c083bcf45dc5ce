#!/usr/bin/env bash
# The headline promise: with storage on (sync: always) and the sink down, up to 400,000 records
# are sent over forward with acknowledgements (the real npm client, forward_client.js); ferry is
# killed with SIGKILL mid-stream, once it has read 10,000 (so far more are offered than a loaded
# machine can take before the kill lands; only the acknowledged ones are checked). Restarted with the sink back, it delivers every record the
# client saw acknowledged. Two sinks: a `file` output whose directory is gone, and the
# Datadog sink against the strict intake answering 503 to everything.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/storage_lib.sh"
command -v node >/dev/null || fail "node is required for the forward client"

N=400000
FWD_PORT=$(free_port)

# write_config CASE OUTPUT_YAML
write_config() {
  storage_config "$WORK/$1.yaml" grace=20s store="$WORK/$1-store" sync=always \
    input="  - type: forward
    listen: tcp://127.0.0.1:$FWD_PORT" <<YAML
$2
    retry: { initial_backoff: 100ms, max_backoff: 200ms }
YAML
}
file_output() { printf '  - type: file\n    path: %s' "$WORK/sink/out.jsonl"; }
INTAKE_PID=""
# start_intake NAME [FAULTS...]: the strict Datadog intake; sets DD_URL.
start_intake() {
  local name=$1; shift
  rm -f "$WORK/$name.port"
  node "$E2E_DIR/datadog_intake.js" --port-file "$WORK/$name.port" --api-key test-key \
    --out "$WORK/$name.out" --encoding gzip --expect-hostname ferry-e2e \
    --expect-service e2e --expect-source e2e --expect-tags env:e2e "$@" 2> "$WORK/$name.intake-err" &
  INTAKE_PID=$!; PIDS+=("$INTAKE_PID")
  wait_for 10 test -s "$WORK/$name.port" || { cat "$WORK/$name.intake-err"; fail "$name: intake did not start"; }
  touch "$WORK/$name.out"
  DD_URL="http://127.0.0.1:$(cat "$WORK/$name.port")/api/v2/logs"
}
datadog_output() {
  printf '  - type: datadog\n    api_key: test-key\n    hostname: ferry-e2e\n    service: e2e\n    source: e2e\n    tags: env:e2e\n    url: %s' "$DD_URL"
}
read_some() { [ "$(metric 'ferry_input_records_total{input="forward"}')" -ge 10000 ]; }

# run_case CASE: phase 1 (sink down, kill -9 mid-stream), phase 2 (sink back, restart).
run_case() {
  local case=$1 out
  if [ "$case" = file ]; then
    mkdir -p "$WORK/sink"
    write_config "$case" "$(file_output)"
  else
    start_intake dd-down --fail-503 1000000000
    write_config "$case" "$(datadog_output)"
  fi
  "$FERRY_BIN" run -c "$WORK/$case.yaml" 2> "$WORK/$case-err1.txt" &
  local pid=$!; PIDS+=("$pid")
  wait_for 10 metric ferry_ring_capacity || { tail "$WORK/$case-err1.txt"; fail "$case: ferry did not start"; }
  [ "$case" = file ] && kill_sink   # the sink dies
  node "$E2E_DIR/forward_client.js" --port "$FWD_PORT" --tag app --count $N --window 500 \
    --timeout-ms 50000 --time-base now > "$WORK/$case-client.json" 2> "$WORK/$case-client.err" &
  local client=$!; PIDS+=("$client")
  wait_for 30 read_some || { tail "$WORK/$case-err1.txt"; fail "$case: ferry read too little"; }
  kill -9 "$pid"
  wait_exit "$pid" 10
  wait_exit "$client" 20   # it reports what was acknowledged when the connection drops
  local acked
  acked=$(python3 -c "import json; print(json.load(open('$WORK/$case-client.json'))['acked'])")
  [ "$acked" -gt 0 ] && [ "$acked" -lt "$N" ] || fail "$case: acked $acked: the kill did not land mid-stream"

  if [ "$case" = file ]; then
    revive_sink
    out="$WORK/sink/out.jsonl"
  else
    kill "$INTAKE_PID"; wait "$INTAKE_PID" 2>/dev/null || true
    [ "$(wc -l < "$WORK/dd-down.out")" = 0 ] || fail "datadog: the failing intake accepted records"
    start_intake dd-up
    write_config "$case" "$(datadog_output)"
    out="$WORK/dd-up.out"
  fi
  "$FERRY_BIN" run -c "$WORK/$case.yaml" 2> "$WORK/$case-err2.txt" &
  pid=$!; PIDS+=("$pid")
  delivered() { [ -f "$out" ] && [ "$(wc -l < "$out")" -ge "$acked" ]; }
  wait_for 40 delivered || { tail "$WORK/$case-err2.txt"; fail "$case: acknowledged records not delivered after restart"; }
  sleep 1
  kill -TERM "$pid"
  wait_exit "$pid" 30
  [ "$RC" = 0 ] || { tail "$WORK/$case-err2.txt"; fail "$case: exit $RC"; }
  python3 - "$out" "$acked" "$case" <<'PY' || fail "$case: acknowledged records lost"
import sys, json
lines = [json.loads(l) for l in open(sys.argv[1])]
# file: JSON records with `log`; datadog intake: the message string of each entry.
got = [int((l['log'] if isinstance(l, dict) else l).split()[1]) for l in lines]
acked = int(sys.argv[2])
missing = sorted(set(range(acked)) - set(got))  # acks come in order: the first `acked` records
assert not missing, f'{len(missing)} acknowledged records missing, e.g. {missing[:3]}'
dups = len(got) - len(set(got))
print(f'{sys.argv[3]}: acked {acked}, delivered {len(got)} ({len(set(got))} distinct), duplicates {dups}')
assert dups == 0, 'duplicates'
PY
  pass "$case: forward acks + kill -9 (sync: always): all $acked acknowledged records delivered after restart"
}

run_case file
run_case datadog
