#!/usr/bin/env bash
# forward shared_key handshake with the real npm client (@fluent-org/logger): the right key
# delivers and gets every ack; a wrong key is refused (the client sees the failed PONG, no
# record of it reaches the output, ferry counts auth_failed); a client that skips the
# handshake is refused too. ferry keeps serving the good client after each refusal.
source "$(dirname "$0")/lib.sh"

command -v node >/dev/null || fail "node is required for the forward client"
HTTP_PORT=$(free_port)
export FORWARD_SHARED_KEY="e2e-shared-key-7f3a"

cat > "$WORK/ferry.yaml" <<YAML
service:
  http: { listen: 127.0.0.1:$HTTP_PORT }
inputs:
  - type: forward
    listen: tcp://127.0.0.1:0
    shared_key: \${FORWARD_SHARED_KEY}
    self_hostname: ferry-e2e
outputs:
  - type: file
    match: "*"
    path: $WORK/out.jsonl
YAML
"$FERRY_BIN" run -c "$WORK/ferry.yaml" 2> "$WORK/ferry.err" &
FERRY_PID=$!; PIDS+=("$FERRY_PID")
wait_for 10 grep -q 'listening on tcp port' "$WORK/ferry.err" ||
  { cat "$WORK/ferry.err"; fail "ferry did not start listening"; }
PORT=$(sed -n 's/.*listening on tcp port \([0-9]*\).*/\1/p' "$WORK/ferry.err" | head -1)
grep -q "$FORWARD_SHARED_KEY" "$WORK/ferry.err" && fail "the shared key appears in ferry's log"

auth_failures() {
  python3 - "http://127.0.0.1:$HTTP_PORT/metrics" <<'PY'
import sys, urllib.request
text = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()
print(sum(int(float(l.rsplit(' ', 1)[1])) for l in text.splitlines()
          if l.startswith('ferry_input_errors_total{') and 'reason="auth_failed"' in l))
PY
}

client() { # client NAME KEY FIRST COUNT: runs the client, sets RC, leaves its result in NAME.json
  local name=$1 key=$2 first=$3 count=$4
  local args=(--port "$PORT" --tag auth --first "$first" --count "$count" --timeout-ms 20000)
  [ -n "$key" ] && args+=(--shared-key "$key")
  node "$E2E_DIR/forward_client.js" "${args[@]}" > "$WORK/$name.json" 2> "$WORK/$name.err" &
  local pid=$!; PIDS+=("$pid")
  wait_exit "$pid" 25
  cat "$WORK/$name.json"
}

client right "$FORWARD_SHARED_KEY" 0 5000
[ "$RC" = 0 ] || { cat "$WORK/right.err"; fail "the right key was not accepted (rc $RC)"; }
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["acked"]==5000 and r["acks"]>0, r' \
  "$WORK/right.json" || fail "right key: not every record acknowledged"
pass "the right shared key delivers 5,000 records, all acknowledged"

client wrong "not-the-key" 5000 100
[ "$RC" != 0 ] || fail "a wrong shared key was accepted"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["acked"]==0 and r["connects"]==0, r
assert any("shared_key mismatch" in e for e in r["errors"]), r' \
  "$WORK/wrong.json" || fail "wrong key: not refused by the handshake"
[ "$(auth_failures)" = 1 ] || fail "auth_failed counted $(auth_failures) times, expected 1"
pass "a wrong shared key is refused and counted"

client none "" 6000 100
[ "$RC" != 0 ] || fail "a client without the handshake was accepted"
pass "a client that skips the handshake is refused"

client again "$FORWARD_SHARED_KEY" 5000 1000
[ "$RC" = 0 ] || { cat "$WORK/again.err"; fail "the right key failed after the refusals (rc $RC)"; }

kill -TERM "$FERRY_PID"
wait_exit "$FERRY_PID" 30
[ "$RC" = 0 ] || { cat "$WORK/ferry.err"; fail "ferry exited $RC after SIGTERM"; }
python3 - "$WORK/out.jsonl" <<'PY' || fail "output holds records it should not"
import sys, json
ns = [json.loads(l)['n'] for l in open(sys.argv[1])]
assert ns == list(range(6000)), f'{len(ns)} records; first wrong at {next((i for i, n in enumerate(ns) if n != i), None)}'
print('output: exactly the 6,000 records of the authenticated clients')
PY
pass "only authenticated records reach the output"
