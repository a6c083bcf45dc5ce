#!/usr/bin/env bash
# Reassembly state is covered by the disk buffer: a stack trace that the multiline filter
# holds (its flush timeout not yet passed) when ferry is killed with -9 was acknowledged to
# the forward client, so it must come out whole after the restart: the stored entries of the
# records held are not released until the joined record is delivered, and are read again,
# through the filter again, on the next start.
source "$(dirname "$0")/lib.sh"
command -v node >/dev/null || fail "node is required for the forward client"

config() { # config FILE SOCKET FLUSH
  cat > "$1" <<YAML
service:
  grace_period: 1s
  storage: { path: $WORK/store }
inputs:
  - type: forward
    listen: unix://$2
filters:
  - type: multiline
    rules:
      - '"start_state" "^\\d{4}-\\d{2}-\\d{2} " "cont"'
      - '"cont" "^\\s+at " "cont"'
    flush_ms: $3
outputs:
  - type: file
    path: $WORK/out.jsonl
YAML
}
printf '%s\n' '2024-05-01 12:00:00 first record' \
  '2024-05-01 12:00:01 ERROR request failed: upstream reset' \
  '    at handler (/srv/app/server.js:10:5)' \
  '    at process (/srv/app/server.js:20:3)' > "$WORK/trace.log"

config "$WORK/run1.yaml" "$WORK/one.sock" 1h
"$FERRY_BIN" run -c "$WORK/run1.yaml" 2> "$WORK/err1.txt" &
pid=$!; PIDS+=("$pid")
wait_for 10 test -S "$WORK/one.sock" || { cat "$WORK/err1.txt"; fail "ferry did not listen"; }
timeout 30 node "$E2E_DIR/forward_client.js" --path "$WORK/one.sock" --trace "$WORK/trace.log" \
  --mode Message --window 1 > "$WORK/client.txt" || { cat "$WORK/client.txt" "$WORK/err1.txt"; fail "client failed"; }
grep -q '"acked":4' "$WORK/client.txt" || fail "not every record acknowledged: $(cat "$WORK/client.txt")"
first() { grep -q 'first record' "$WORK/out.jsonl" 2>/dev/null; }
wait_for 10 first || { cat "$WORK/err1.txt"; fail "the first record was not delivered"; }
grep -q 'ERROR request failed' "$WORK/out.jsonl" && fail "the trace went out before its timeout"
sleep 1.5 # the disk buffer saves its cursors every second: let it save them past the trace if it would
kill -9 "$pid"; wait "$pid" 2>/dev/null || true

config "$WORK/run2.yaml" "$WORK/two.sock" 200ms
"$FERRY_BIN" run -c "$WORK/run2.yaml" 2> "$WORK/err2.txt" &
pid=$!; PIDS+=("$pid")
trace() { grep -q 'ERROR request failed' "$WORK/out.jsonl"; }
wait_for 15 trace || { cat "$WORK/err2.txt"; fail "the held trace was lost in the crash"; }
kill -TERM "$pid"; wait_exit "$pid" 20
[ "$RC" = 0 ] || { cat "$WORK/err2.txt"; fail "ferry exited $RC"; }
python3 - "$WORK/trace.log" "$WORK/out.jsonl" <<'PY' || fail "wrong records after the restart"
import json, sys
lines = open(sys.argv[1]).read().split('\n')[:-1]
logs = [json.loads(l)['log'] for l in open(sys.argv[2])]
assert logs.count('\n'.join(lines[1:])) == 1, logs
assert set(logs) == {lines[0], '\n'.join(lines[1:])}, logs
PY
pass "a trace held in reassembly at kill -9 is delivered whole after the restart"
