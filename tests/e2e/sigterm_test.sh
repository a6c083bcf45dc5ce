#!/usr/bin/env bash
# SIGTERM while records are in flight: records ferry has read but not yet written (held by a
# long flush interval) are all delivered before it exits 0; and with a sink that cannot
# deliver, ferry still exits 0 within the grace period and reports exactly how many were lost.
source "$(dirname "$0")/lib.sh"

N=50000
python3 -c "
import sys
with open('$WORK/in.txt','w') as f:
    for i in range($N): f.write('record %d\n' % i)"
mkfifo "$WORK/fifo"
cat > "$WORK/cfg.yaml" <<YAML
service:
  grace_period: 20s
inputs:
  - type: stdin
outputs:
  - type: file
    path: $WORK/out.jsonl
    flush_interval: 60s
YAML
"$FERRY_BIN" run -c "$WORK/cfg.yaml" < "$WORK/fifo" 2> "$WORK/err.txt" &
pid=$!; PIDS+=("$pid")
exec 3> "$WORK/fifo"          # keep the writer open: no end of input, only SIGTERM ends it
cat "$WORK/in.txt" >&3
sleep 1
lines_before=$(wc -l < "$WORK/out.jsonl" 2>/dev/null || echo 0)
[ "$lines_before" -lt "$N" ] || fail "records were not in flight at SIGTERM (all $lines_before already written)"
kill -TERM "$pid"
wait_exit "$pid" 30; rc=$RC
exec 3>&-
[ "$rc" = 0 ] || { cat "$WORK/err.txt"; fail "exit code $rc after SIGTERM"; }
python3 - "$WORK/out.jsonl" "$N" <<'PY' || fail "records lost or duplicated on SIGTERM"
import sys, json
got = [json.loads(l)['log'] for l in open(sys.argv[1])]
n = int(sys.argv[2])
assert got == ['record %d' % i for i in range(n)], f'{len(got)} records, expected {n} in order'
PY
pass "SIGTERM flushed $N in-flight records ($lines_before written before it), exit 0"

# A sink that cannot take anything (a directory in place of the file after start): the
# grace period bounds the stop and the loss is reported exactly.
mkdir -p "$WORK/ro"
cat > "$WORK/cfg2.yaml" <<YAML
service:
  grace_period: 2s
inputs:
  - type: stdin
outputs:
  - type: file
    path: $WORK/ro/out.jsonl
    retry: { initial_backoff: 100ms, max_backoff: 200ms }
YAML
mkfifo "$WORK/fifo2"
"$FERRY_BIN" run -c "$WORK/cfg2.yaml" < "$WORK/fifo2" 2> "$WORK/err2.txt" &
pid=$!; PIDS+=("$pid")
exec 4> "$WORK/fifo2"
sleep 0.5
rm -f "$WORK/ro/out.jsonl"; rmdir "$WORK/ro"; touch "$WORK/ro"   # the path's directory is now a file
head -n 1000 "$WORK/in.txt" >&4
sleep 1
t0=$(date +%s)
kill -TERM "$pid"
wait_exit "$pid" 30; rc=$RC
exec 4>&-
[ "$rc" = 0 ] || { cat "$WORK/err2.txt"; fail "exit code $rc with a dead sink"; }
[ $(( $(date +%s) - t0 )) -le 6 ] || fail "stop overran the 2 s grace period"
grep -q "1000 records could not be delivered" "$WORK/err2.txt" || { cat "$WORK/err2.txt"; fail "loss not reported exactly"; }
pass "dead sink: stopped within the grace period, reported 1000 lost"
