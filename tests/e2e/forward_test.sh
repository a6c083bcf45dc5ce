#!/usr/bin/env bash
# forward → file with the real npm client (@fluent-org/logger, driven by forward_client.js):
# 100,000 records over TCP and 10,000 over the unix socket, sent at the same time, arrive
# unchanged (fields, EventTime to the nanosecond, tag routing), each exactly once and in
# order, and every record is acknowledged ({"ack": chunk} counted by the client). While the
# TCP client is busy, a raw connection sends a malformed frame: ferry closes that one
# connection, counts it in ferry_input_errors_total, and the TCP client carries on over its
# one connection. ferry exits 0 on SIGTERM.
source "$(dirname "$0")/lib.sh"

command -v node >/dev/null || fail "node is required for the forward client"
[ -d "$E2E_DIR/node_modules/@fluent-org/logger" ] || fail "@fluent-org/logger missing: npm ci in tests/e2e"

N_TCP=100000
N_UNIX=10000
HTTP_PORT=$(free_port)
SOCK="$WORK/fluent.sock"

cat > "$WORK/ferry.yaml" <<YAML
service:
  http: { listen: 127.0.0.1:$HTTP_PORT }
inputs:
  - type: forward
    listen: [ "tcp://127.0.0.1:0", "unix://$SOCK" ]
outputs:
  - type: file
    name: tcp
    match: tcp.app
    path: $WORK/out-tcp.jsonl
  - type: file
    name: unix
    match: unix.app
    path: $WORK/out-unix.jsonl
YAML

"$FERRY_BIN" run -c "$WORK/ferry.yaml" 2> "$WORK/ferry.err" &
FERRY_PID=$!; PIDS+=("$FERRY_PID")
wait_for 10 grep -q 'listening on tcp port' "$WORK/ferry.err" ||
  { cat "$WORK/ferry.err"; fail "ferry did not start listening"; }
wait_for 10 test -S "$SOCK" || fail "no unix socket at $SOCK"
PORT=$(sed -n 's/.*listening on tcp port \([0-9]*\).*/\1/p' "$WORK/ferry.err" | head -1)
[ "$(stat -c %a "$SOCK")" = 660 ] || fail "socket mode $(stat -c %a "$SOCK"), expected 660"

metric() { # metric NAME_AND_LABELS: prints the value, 0 when absent
  python3 - "http://127.0.0.1:$HTTP_PORT/metrics" "$1" <<'PY'
import sys, urllib.request
text = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()
total = 0
for line in text.splitlines():
    if line.startswith(sys.argv[2]):
        total += float(line.rsplit(' ', 1)[1])
print(int(total))
PY
}
[ "$(metric 'ferry_input_errors_total{input="forward"')" = 0 ] || fail "errors counted before any input"

# Both transports at once; the bad frame goes in once 30,000 TCP records are acknowledged.
node "$E2E_DIR/forward_client.js" --port "$PORT" --tag tcp.app --count $N_TCP \
  --bad-frame-after 30000 --timeout-ms 50000 > "$WORK/tcp.json" 2> "$WORK/tcp.err" &
TCP_PID=$!; PIDS+=("$TCP_PID")
node "$E2E_DIR/forward_client.js" --path "$SOCK" --tag unix.app --count $N_UNIX \
  --timeout-ms 50000 > "$WORK/unix.json" 2> "$WORK/unix.err" &
UNIX_PID=$!; PIDS+=("$UNIX_PID")
wait_exit "$TCP_PID" 55; TCP_RC=$RC
wait_exit "$UNIX_PID" 55; UNIX_RC=$RC
cat "$WORK/tcp.json" "$WORK/unix.json"
[ "$TCP_RC" = 0 ] || { cat "$WORK/tcp.err"; fail "TCP client exited $TCP_RC"; }
[ "$UNIX_RC" = 0 ] || { cat "$WORK/unix.err"; fail "unix client exited $UNIX_RC"; }

python3 - "$WORK/tcp.json" "$WORK/unix.json" $N_TCP $N_UNIX <<'PY' || fail "client results"
import sys, json
for path, n, bad in ((sys.argv[1], int(sys.argv[3]), True), (sys.argv[2], int(sys.argv[4]), False)):
    r = json.load(open(path))
    assert r['sent'] == n and r['acked'] == n and r['failed'] == 0, f'{path}: {r}'
    # Each ack message answers one chunk of several records; there must be some, and no more
    # than records.
    assert 0 < r['acks'] <= n, f'{path}: {r["acks"]} acks for {n} records'
    assert r['connects'] == 1, f'{path}: the client connected {r["connects"]} times'
    if bad:
        assert r['bad_closed'] is True, f'{path}: the malformed connection was not closed: {r}'
print('clients: every record acknowledged, one connection each, bad connection closed')
PY
pass "110,000 records acknowledged over TCP and the unix socket"

ERRS=$(metric 'ferry_input_errors_total{input="forward"')
[ "$ERRS" = 1 ] || { grep -i warn "$WORK/ferry.err" | head; fail "ferry_input_errors_total = $ERRS, expected 1"; }
grep -qi 'warn' "$WORK/ferry.err" || fail "no warning logged for the malformed frame"
pass "the malformed frame closed only its connection and was counted"

kill -TERM "$FERRY_PID"
wait_exit "$FERRY_PID" 30
[ "$RC" = 0 ] || { cat "$WORK/ferry.err"; fail "ferry exited $RC after SIGTERM"; }

# The same records the client built (forward_client.js record() and eventTime()), checked
# field by field, once each, in order.
python3 - "$WORK/out-tcp.jsonl" $N_TCP "$WORK/out-unix.jsonl" $N_UNIX <<'PY' || fail "records changed, lost or repeated"
import sys, json, datetime
def record(n):
    r = {'log': 'rec %07d ' % n + ['', 'say "hi"', 'tab\there', 'caf\u00e9 \u6771\u4eac \U0001F680',
                                     'back\\slash', 'x' * 200][n % 6],
         'source': 'stderr' if n % 2 else 'stdout',
         'container_id': 'c0ffee%d' % (n % 7),
         'container_name': '/ecs-app-%d' % (n % 3), 'n': n}
    if n % 10 == 0:
        r['nested'] = {'list': [1, -2, 3.5, True, None], 'big': 2 ** 40, 'neg': -(2 ** 33)}
    return r
def date(n):
    s = datetime.datetime.fromtimestamp(1700000000 + n // 1000, datetime.timezone.utc)
    return s.strftime('%Y-%m-%dT%H:%M:%S') + '.%09dZ' % ((n % 1000) * 1000003)
for path, count in ((sys.argv[1], int(sys.argv[2])), (sys.argv[3], int(sys.argv[4]))):
    got = 0
    with open(path, encoding='utf-8') as f:
        for i, line in enumerate(f):
            rec = json.loads(line)
            d = rec.pop('date')
            assert rec == record(i), f'{path} line {i + 1}: {rec!r} != {record(i)!r}'
            assert d == date(i), f'{path} line {i + 1}: date {d}, expected {date(i)}'
            got += 1
    assert got == count, f'{path}: {got} records, expected {count}'
    print(f'{path}: {got} records unchanged, once each, in order')
PY
pass "every record arrived unchanged at the file output, routed by tag"
