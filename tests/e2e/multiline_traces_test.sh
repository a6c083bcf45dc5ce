#!/usr/bin/env bash
# Java, Python and Go stack traces joined as Fluent Bit's built-in multiline parsers join
# them: through the tail input (`multiline: {parser: ...}`) and through the multiline filter
# behind a forward input (records from a real forward client, @fluent-org/logger), which
# keeps each record's other fields. Both must give the same seven records.
source "$(dirname "$0")/lib.sh"
command -v node >/dev/null || fail "node is required for the forward client"

printf '%s\n' \
  '2024-05-01 12:00:00,123 INFO  [main] c.a.Server - started' \
  'java.lang.IllegalStateException: payment declined for order 8812' \
  $'\tat com.acme.orders.PaymentClient.charge(PaymentClient.java:88)' \
  $'\tat com.acme.orders.OrderService.place(OrderService.java:42)' \
  $'\tat java.base/java.lang.Thread.run(Thread.java:833)' \
  'Caused by: java.net.SocketTimeoutException: Read timed out' \
  $'\tat java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:288)' \
  $'\t... 3 more' \
  '2024-05-01 12:00:01,000 INFO  [main] c.a.Server - order 8813 accepted' \
  'Traceback (most recent call last):' \
  '  File "/srv/app/worker.py", line 42, in run' \
  '    result = self.handle(job)' \
  '  File "/srv/app/worker.py", line 57, in handle' \
  '    return json.loads(job.payload)' \
  'json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)' \
  '2024-05-01 12:00:02,000 INFO worker idle' \
  'panic: runtime error: invalid memory address or nil pointer dereference' \
  '[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x47b2e5]' \
  '' \
  'goroutine 1 [running]:' \
  'main.(*Server).handle(0x0, {0x4c5e20, 0xc000012345})' \
  $'\t/srv/app/server.go:31 +0x25' \
  'main.main()' \
  $'\t/srv/app/server.go:12 +0x3a' \
  'exit status 2' > "$WORK/trace.log"

# check OUT: the records' logs are the seven expected, in order.
check() {
  python3 - "$WORK/trace.log" "$1" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().split('\n')[:-1]
groups = [(0, 1), (1, 8), (8, 9), (9, 15), (15, 16), (16, 24), (24, 25)]
want = ['\n'.join(lines[a:b]) for a, b in groups]
recs = [json.loads(l) for l in open(sys.argv[2])]
got = [r['log'] for r in recs]
assert got == want, 'records differ:\n' + '\n---\n'.join(got)
for r in recs:
    assert r.get('container_id', 'c0ffee-trace') == 'c0ffee-trace' and r.get('source', 'stdout') == 'stdout', r
PY
}

# start NAME: runs ferry on $WORK/NAME.yaml; finish NAME: once $WORK/NAME.jsonl has seven
# records (and a moment more for any extra one), stops ferry and checks them.
start() {
  "$FERRY_BIN" run -c "$WORK/$1.yaml" 2> "$WORK/$1.err" &
  pid=$!; PIDS+=("$pid")
}
records() { [ -f "$1" ] && [ "$(wc -l < "$1")" -ge "$2" ]; }
finish() {
  wait_for 15 records "$WORK/$1.jsonl" 7 || { cat "$WORK/$1.err"; fail "$1: fewer than 7 records"; }
  sleep 0.3
  kill -TERM "$pid"; wait_exit "$pid" 20
  [ "$RC" = 0 ] || { cat "$WORK/$1.err"; fail "$1: ferry exited $RC"; }
  check "$WORK/$1.jsonl" || fail "$1: wrong records"
}

# ---- tail: the input's own multiline option
mkdir -p "$WORK/logs"
cp "$WORK/trace.log" "$WORK/logs/app.log"
cat > "$WORK/tail.yaml" <<YAML
inputs:
  - type: tail
    path: $WORK/logs/*.log
    tag: app
    read_from_head: true
    db: $WORK/tail.db
    multiline: { parser: "go, python, java" }
outputs:
  - type: file
    path: $WORK/tail.jsonl
YAML
start tail
finish tail
pass "tail: java, python and go traces joined"

# ---- forward → multiline filter
cat > "$WORK/fwd.yaml" <<YAML
inputs:
  - type: forward
    listen: unix://$WORK/fwd.sock
filters:
  - type: multiline
    parser: [go, python, java]
    key_content: log
outputs:
  - type: file
    path: $WORK/fwd.jsonl
YAML
start fwd
wait_for 10 test -S "$WORK/fwd.sock" || { cat "$WORK/fwd.err"; fail "forward: ferry did not listen"; }
timeout 60 node "$E2E_DIR/forward_client.js" --path "$WORK/fwd.sock" --trace "$WORK/trace.log" \
  --mode Message > "$WORK/fwd.client" || { cat "$WORK/fwd.client" "$WORK/fwd.err"; fail "forward: client failed"; }
grep -q '"acked":25' "$WORK/fwd.client" || fail "forward: not every record acknowledged: $(cat "$WORK/fwd.client")"
finish fwd
pass "forward: java, python and go traces joined by the multiline filter"
