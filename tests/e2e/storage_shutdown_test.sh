#!/usr/bin/env bash
# Storage on, sink dead: 100,000 records read from stdin are on disk when SIGTERM comes; ferry
# exits 0 within the grace period and says how many it persisted. Restarted with the sink
# back (and no new input), it ships that backlog first: every record exactly once, in order.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/storage_lib.sh"

N=100000
write_records "$N"

# write_config FILE: stdin → file sink at $WORK/sink/out.jsonl, storage in $WORK/store.
write_config() {
  storage_config "$1" grace='${GRACE:-2s}' sync=interval <<YAML
  - type: file
    path: $WORK/sink/out.jsonl
    retry: { initial_backoff: 100ms, max_backoff: 200ms }
YAML
}
records_in() { [ "$(metric 'ferry_input_records_total{input="stdin"}')" = "$N" ]; }

# 1. The sink dies after start: its directory becomes a plain file.
write_config "$WORK/cfg.yaml"
start_then_kill_sink   # no end of input: only SIGTERM ends this run
wait_for 30 records_in || { tail "$WORK/err1.txt"; fail "ferry did not read $N records"; }
t0=$(date +%s)
kill -TERM "$pid"
wait_exit "$pid" 30; rc=$RC
exec 3>&-
[ "$rc" = 0 ] || { tail "$WORK/err1.txt"; fail "exit code $rc after SIGTERM with storage on"; }
[ $(( $(date +%s) - t0 )) -le 6 ] || fail "stop overran the 2 s grace period"
grep -q "stopped: $N records persisted in storage" "$WORK/err1.txt" ||
  { tail "$WORK/err1.txt"; fail "the persisted count was not reported"; }
grep -q "lost" "$WORK/err1.txt" && { tail "$WORK/err1.txt"; fail "records reported lost with storage on"; }
ls "$WORK"/store/queue/*.seg > /dev/null || fail "no segment on disk"
pass "dead sink, SIGTERM: exit 0 in $(( $(date +%s) - t0 )) s, $N records persisted"

# 2. The sink is back; no new input. The backlog ships first and ferry exits at end of input.
revive_sink
GRACE=30s timeout 60 "$FERRY_BIN" run -c "$WORK/cfg.yaml" < /dev/null 2> "$WORK/err2.txt" ||
  { tail "$WORK/err2.txt"; fail "restart did not exit 0"; }
python3 - "$WORK/sink/out.jsonl" "$N" <<'PY' || fail "backlog not delivered exactly once"
import sys, json
got = [json.loads(l)['log'] for l in open(sys.argv[1])]
n = int(sys.argv[2])
assert len(got) == len(set(got)), f'{len(got) - len(set(got))} duplicates'
assert got == ['record %d' % i for i in range(n)], f'{len(got)} records, expected {n} in order'
PY
grep -q "everything delivered" "$WORK/err2.txt" || { tail "$WORK/err2.txt"; fail "restart did not finish clean"; }
segs=$(ls "$WORK"/store/queue/*.seg | wc -l)
pass "restart: $N records delivered exactly once, in order; $segs segment(s) left on disk"
