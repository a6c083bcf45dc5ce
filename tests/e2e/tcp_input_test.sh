#!/usr/bin/env bash
# The tcp input through the real binary: format json (objects concatenated or one a line,
# cut across writes; an array under "msg"; invalid JSON skipped and counted while the
# connection keeps going), format none with a custom separator (a last piece without one
# still a record at close), a record over buffer_size closing its connection (counted),
# and everything delivered to stdout before SIGTERM's exit.
source "$(dirname "$0")/lib.sh"
JSON_PORT=$(free_port)
NONE_PORT=$(free_port)
HTTP="127.0.0.1:$(free_port)"
cat > "$WORK/ferry.yaml" <<YAML
service:
  http: { listen: $HTTP }
inputs:
  - type: tcp
    name: json
    listen: 127.0.0.1
    port: $JSON_PORT
    tag: js
    buffer_size: 1KiB
  - type: tcp
    name: raw
    listen: 127.0.0.1
    port: $NONE_PORT
    tag: raw
    format: none
    separator: "||"
outputs:
  - type: stdout
    match: "*"
    time_key: ""
YAML
"$FERRY_BIN" run -c "$WORK/ferry.yaml" > "$WORK/out.jsonl" 2> "$WORK/ferry.err" &
PIDS+=($!)
FERRY=$!
wait_for 10 health_says 200 || { cat "$WORK/ferry.err"; fail "ferry did not start"; }

"$E2E_PYTHON" - "$JSON_PORT" "$NONE_PORT" <<'PY' || fail "the client failed"
import socket, sys, time
def conn(port):
    return socket.create_connection(("127.0.0.1", int(port)), timeout=5)
s = conn(sys.argv[1])
s.sendall(b'{"n":1}{"n":')        # cut inside a value
time.sleep(0.2)
s.sendall(b'2}\nnot json at all\n{"n":3,"s":"}{"}\n[4,"four"]\n')
s.shutdown(socket.SHUT_WR)        # as nc -N: the server closes, recv sees the end
s.settimeout(5)
assert s.recv(1) == b"", "the server did not close after the client's end"
s.close()
r = conn(sys.argv[2])
r.sendall(b"alpha||beta||")
time.sleep(0.2)
r.sendall(b"gam")
r.sendall(b"ma")
r.close()
# A record over buffer_size (1 KiB) never ends: the connection is closed by ferry.
big = conn(sys.argv[1])
big.sendall(b'{"big":"' + b"x" * 4096)
big.settimeout(5)
try:
    assert big.recv(1) == b"", "a record over buffer_size did not close the connection"
except ConnectionResetError:
    pass
PY
want='{"n":1}
{"n":2}
{"n":3,"s":"}{"}
{"msg":[4,"four"]}
{"log":"alpha"}
{"log":"beta"}
{"log":"gamma"}'
got_all() { [ "$(sort "$WORK/out.jsonl")" = "$(sort <<<"$want")" ]; }
wait_for 10 got_all || { echo "got:"; cat "$WORK/out.jsonl"; fail "the records differ"; }
pass "json (cut, concatenated, array) and none (separator ||, last piece at close) records delivered"
counted() { curl -s --max-time 2 "http://$HTTP/metrics" | grep "^ferry_input_errors_total{input=\"json\",reason=\"$1\"} 1$" >/dev/null; }
counted malformed || fail "the invalid JSON line was not counted once"
counted too_large || fail "the record over buffer_size was not counted once"
grep -q 'invalid JSON message, skipped' "$WORK/ferry.err" || fail "no warning for invalid JSON"
pass "invalid JSON skipped and counted, the connection kept; a record over buffer_size closes it"
kill -TERM "$FERRY"
wait_exit "$FERRY" 30
[ "$RC" = 0 ] || fail "ferry exited $RC"
