#!/usr/bin/env bash
# The headline promise: with storage on (sync: always) and the sink dead, 50,000 records are
# sent over forward with acknowledgements (the real npm client, forward_client.js); ferry is
# killed with SIGKILL mid-stream. Restarted with the sink back, it delivers every record the
# client saw acknowledged.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/storage_lib.sh"
command -v node >/dev/null || fail "node is required for the forward client"

N=50000
FWD_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$WORK/cfg.yaml" <<YAML
service:
  grace_period: 20s
  http: { listen: 127.0.0.1:$HTTP_PORT }
  storage: { path: $WORK/store, sync: always }
inputs:
  - type: forward
    listen: tcp://127.0.0.1:$FWD_PORT
outputs:
  - type: file
    path: $WORK/sink/out.jsonl
    retry: { initial_backoff: 100ms, max_backoff: 200ms }
YAML
read_some() { [ "$(metric 'ferry_input_records_total{input="forward"}')" -ge 10000 ]; }

mkdir "$WORK/sink"
"$FERRY_BIN" run -c "$WORK/cfg.yaml" 2> "$WORK/err1.txt" &
pid=$!; PIDS+=("$pid")
wait_for 10 metric ferry_ring_capacity || { tail "$WORK/err1.txt"; fail "ferry did not start"; }
rm -rf "$WORK/sink"; touch "$WORK/sink"   # the sink dies: nothing is delivered
node "$E2E_DIR/forward_client.js" --port "$FWD_PORT" --tag app --count $N --window 500 \
  --timeout-ms 50000 > "$WORK/client.json" 2> "$WORK/client.err" &
client=$!; PIDS+=("$client")
wait_for 30 read_some || { tail "$WORK/err1.txt"; fail "ferry read too little"; }
kill -9 "$pid"
wait_exit "$pid" 10
wait_exit "$client" 20   # it reports what was acknowledged when the connection drops
acked=$(python3 -c "import json; print(json.load(open('$WORK/client.json'))['acked'])")
[ "$acked" -gt 0 ] && [ "$acked" -lt "$N" ] || fail "acked $acked: the kill did not land mid-stream"

rm -f "$WORK/sink"; mkdir "$WORK/sink"
"$FERRY_BIN" run -c "$WORK/cfg.yaml" 2> "$WORK/err2.txt" &
pid=$!; PIDS+=("$pid")
delivered() { [ -f "$WORK/sink/out.jsonl" ] && [ "$(wc -l < "$WORK/sink/out.jsonl")" -ge "$acked" ]; }
wait_for 40 delivered || { tail "$WORK/err2.txt"; fail "acknowledged records not delivered after restart"; }
sleep 1
kill -TERM "$pid"
wait_exit "$pid" 30
[ "$RC" = 0 ] || { tail "$WORK/err2.txt"; fail "exit $RC"; }
python3 - "$WORK/sink/out.jsonl" "$acked" <<'PY' || fail "acknowledged records lost"
import sys, json
got = [int(json.loads(l)['log'].split()[1]) for l in open(sys.argv[1])]
acked = int(sys.argv[2])
missing = sorted(set(range(acked)) - set(got))  # acks come in order: the first `acked` records
assert not missing, f'{len(missing)} acknowledged records missing, e.g. {missing[:3]}'
dups = len(got) - len(set(got))
print(f'acked {acked}, delivered {len(got)} ({len(set(got))} distinct), duplicates {dups}')
assert dups == 0, 'duplicates'
PY
pass "forward acks + kill -9 (sync: always): all $acked acknowledged records delivered after restart"
