#!/usr/bin/env bash
# Isolation with storage on: two outputs, one dead. The dead one's memory budget is small
# (64 KiB), so it falls back to reading from disk; the healthy one delivers everything while
# the dead one is down and the input never pauses. After SIGTERM and a restart with the dead
# sink back, it gets its whole backlog, exactly once and in order; the healthy one gets nothing
# twice.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/storage_lib.sh"

N=100000
write_records "$N"
storage_config "$WORK/cfg.yaml" grace='${GRACE:-2s}' <<YAML
  - type: file
    name: healthy
    path: $WORK/healthy.jsonl
  - type: file
    name: dead
    path: $WORK/sink/out.jsonl
    buffer: { max_bytes: 64KiB }
    retry: { initial_backoff: 100ms, max_backoff: 200ms }
YAML
healthy_done() { [ "$(metric 'ferry_output_records_total{output="healthy",result="sent"}')" = "$N" ]; }

start_then_kill_sink
wait_for 40 healthy_done || { tail "$WORK/err1.txt"; fail "the healthy output did not get all $N records"; }
paused=$(metric 'ferry_input_paused{input="stdin"}')
buffered=$(metric 'ferry_output_buffer_bytes{output="dead"}')
[ "$paused" = 0 ] || fail "the input is paused"
[ "$buffered" -le $((64 * 1024 + 300 * 1024)) ] || fail "the dead output holds $buffered bytes in memory"
kill -TERM "$pid"
wait_exit "$pid" 20
exec 3>&-
[ "$RC" = 0 ] || { tail "$WORK/err1.txt"; fail "exit $RC"; }
grep -q "stopped: $N records persisted" "$WORK/err1.txt" || { tail -3 "$WORK/err1.txt"; fail "backlog not persisted"; }

revive_sink
GRACE=30s timeout 60 "$FERRY_BIN" run -c "$WORK/cfg.yaml" < /dev/null 2> "$WORK/err2.txt" ||
  { tail "$WORK/err2.txt"; fail "restart failed"; }
python3 - "$WORK/sink/out.jsonl" "$WORK/healthy.jsonl" "$N" <<'PY' || { tail -5 "$WORK/err2.txt"; ls -la "$WORK/store/queue" "$WORK/store/queue/cursors"; cat "$WORK"/store/queue/cursors/*; fail "delivery check failed"; }
import sys, json
n = int(sys.argv[3])
want = ['record %d' % i for i in range(n)]
dead = [json.loads(l)['log'] for l in open(sys.argv[1])]
healthy = [json.loads(l)['log'] for l in open(sys.argv[2])]
assert healthy == want, f'healthy: {len(healthy)} records'
assert dead == want, f'dead after restart: {len(dead)} records, {len(dead) - len(set(dead))} duplicates'
PY
pass "one dead output: the healthy one got $N while it was down (input never paused, dead one" \
  "held $buffered bytes in memory); after restart the dead one got its $N exactly once"
