#!/usr/bin/env bash
# Storage off, the file sink down, the forward input offered far more than its output's 4 MiB
# budget by the real npm client (acks on): the forward server stops reading its sockets, and
# ferry_input_paused{input="forward"} says 1 while it does (the forward input never blocks in
# push(), so only the one place that decides the pause can set the gauge); the output's buffer
# stays within its budget. Once the sink is back the gauge returns to 0 and every record
# arrives exactly once.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/storage_lib.sh"
command -v node >/dev/null || fail "node is required for the forward client"

N=200000
HTTP="127.0.0.1:$(free_port)"
FWD_PORT=$(free_port)
mkdir -p "$WORK/sink"
cat > "$WORK/cfg.yaml" <<YAML
service:
  http: { listen: $HTTP }
  grace_period: 20s
inputs:
  - type: forward
    listen: tcp://127.0.0.1:$FWD_PORT
outputs:
  - type: file
    path: $WORK/sink/out.jsonl
    buffer: { max_bytes: 4MiB }
    retry: { initial_backoff: 100ms, max_backoff: 200ms }
YAML
"$FERRY_BIN" run -c "$WORK/cfg.yaml" 2> "$WORK/err.txt" &
pid=$!; PIDS+=("$pid")
wait_for 10 health_says '^200' || { cat "$WORK/err.txt"; fail "ferry did not start"; }
metric() { curl -sf --max-time 2 "http://$HTTP/metrics" | awk -v m="$1" 'index($0, m) == 1 {s += $NF} END {print s + 0}'; }
[ "$(metric 'ferry_input_paused{input="forward"}')" = 0 ] || fail "paused before anything was sent"
kill_sink
node "$E2E_DIR/forward_client.js" --port "$FWD_PORT" --tag app --count $N --window 2000 \
  --timeout-ms 60000 > "$WORK/client.json" 2> "$WORK/client.err" &
client=$!; PIDS+=("$client")

paused() { [ "$(metric 'ferry_input_paused{input="forward"}')" = 1 ]; }
wait_for 30 paused || { tail -5 "$WORK/err.txt"; fail "ferry_input_paused{input=\"forward\"} never said 1"; }
sleep 1 # paused for a while: the input reads no more and the buffer holds
read1=$(metric 'ferry_input_records_total{input="forward"}')
sleep 1
read2=$(metric 'ferry_input_records_total{input="forward"}')
buffered=$(metric 'ferry_output_buffer_bytes{output="file"}')
paused || fail "the gauge went back to 0 while the sink is still down"
[ "$read2" -lt "$N" ] || fail "every record was read: nothing paused"
[ $((read2 - read1)) -le 20000 ] || fail "the paused input read $((read2 - read1)) records in 1 s"
[ "$buffered" -le $((6 * 1024 * 1024)) ] || fail "output buffer $buffered bytes is over its 4 MiB budget"

revive_sink
wait_exit "$client" 60
[ "$RC" = 0 ] || { cat "$WORK/client.err"; fail "the forward client exited $RC"; }
acked=$(python3 -c "import json; print(json.load(open('$WORK/client.json'))['acked'])")
[ "$acked" = "$N" ] || fail "acked $acked of $N"
not_paused() { [ "$(metric 'ferry_input_paused{input="forward"}')" = 0 ]; }
wait_for 20 not_paused || fail "ferry_input_paused{input=\"forward\"} stayed 1 after the sink came back"
delivered() { [ -f "$WORK/sink/out.jsonl" ] && [ "$(wc -l < "$WORK/sink/out.jsonl")" -ge "$N" ]; }
wait_for 30 delivered || fail "only $(wc -l < "$WORK/sink/out.jsonl") of $N delivered"
kill -TERM "$pid"
wait_exit "$pid" 30
[ "$RC" = 0 ] || { tail -5 "$WORK/err.txt"; fail "ferry exited $RC on SIGTERM"; }
python3 - "$WORK/sink/out.jsonl" "$N" <<'PY' || fail "records lost or duplicated"
import json, sys
got = [int(json.loads(l)['log'].split()[1]) for l in open(sys.argv[1])]
n = int(sys.argv[2])
assert len(got) == n and sorted(got) == list(range(n)), f'{len(got)} lines, {len(set(got))} distinct of {n}'
PY
pass "forward backpressure: paused (gauge 1) after $read2 of $N records, buffer $((buffered / 1024)) KiB of 4 MiB; gauge 0 after recovery; all $N delivered once"
