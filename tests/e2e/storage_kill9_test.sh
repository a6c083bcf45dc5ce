#!/usr/bin/env bash
# Storage on with sync: always, sink dead: ferry is killed with SIGKILL while stdin is still
# being written. Every record its metrics said it had read (= stored: the count is taken after
# the append and its fdatasync) arrives after a restart with the sink back, exactly once.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/storage_lib.sh"

N=200000
storage_config "$WORK/cfg.yaml" sync=always <<YAML
  - type: file
    path: $WORK/sink/out.jsonl
    retry: { initial_backoff: 100ms, max_backoff: 200ms }
YAML
records_read() { metric 'ferry_input_records_total{input="stdin"}'; }
some_read() { local n; n=$(records_read) && [ "$n" -gt 1000 ]; }

mkdir "$WORK/sink"
mkfifo "$WORK/fifo"
"$FERRY_BIN" run -c "$WORK/cfg.yaml" < "$WORK/fifo" 2> "$WORK/err1.txt" &
pid=$!; PIDS+=("$pid")
# A writer that takes a few seconds, so the kill lands mid-stream (bounded: N lines).
python3 - "$WORK/fifo" "$N" <<'PY' 2>/dev/null &
import os, sys, time
with open(sys.argv[1], 'w') as f:
    for _ in range(200):  # start writing once the sink is dead (bounded wait)
        if os.path.exists(sys.argv[1] + '.go'): break
        time.sleep(0.05)
    for i in range(int(sys.argv[2])):
        f.write('record %d\n' % i)
        if i % 1000 == 999:
            f.flush(); time.sleep(0.05)
    time.sleep(60)  # no end of input: only the kill ends this run
PY
writer=$!; PIDS+=("$writer")
wait_for 10 records_read || { tail "$WORK/err1.txt"; fail "ferry did not start"; }
kill_sink      # the sink dies: nothing is delivered
touch "$WORK/fifo.go"
wait_for 30 some_read || { tail "$WORK/err1.txt"; fail "ferry read nothing"; }
acked=$(records_read)
kill -9 "$pid"
wait_exit "$pid" 10
kill "$writer" 2>/dev/null || true
[ "$acked" -lt "$N" ] || fail "the kill came after the whole input was read"

revive_sink
timeout 60 "$FERRY_BIN" run -c "$WORK/cfg.yaml" < /dev/null 2> "$WORK/err2.txt" ||
  { tail "$WORK/err2.txt"; fail "restart after kill -9 did not exit 0"; }
python3 - "$WORK/sink/out.jsonl" "$acked" <<'PY' || fail "acknowledged records lost or duplicated"
import sys, json
got = [json.loads(l)['log'] for l in open(sys.argv[1])]
acked = int(sys.argv[2])
assert len(got) == len(set(got)), f'{len(got) - len(set(got))} duplicates'
assert len(got) >= acked, f'{acked} acknowledged, only {len(got)} delivered'
assert got == ['record %d' % i for i in range(len(got))], 'not the input in order'
print(f'acked {acked}, delivered {len(got)}, duplicates 0')
PY
pass "kill -9 with sync: always: all $acked acknowledged records delivered after restart"
