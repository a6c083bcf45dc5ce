#!/usr/bin/env bash
# Storage off, sink down, 1,000,000 records offered: the output fills its budget
# (buffer.max_bytes 16MiB), the input pauses (ferry_input_paused=1; the writer blocks on the
# pipe), peak RSS stays within the budget plus a fixed overhead, and once the sink is back
# every record arrives exactly once. Prints the figures.
source "$(dirname "$0")/lib.sh"
N=${BACKPRESSURE_LINES:-1000000}
BUDGET_MIB=16
LIMIT_MIB=64   # budget + fixed overhead (ring, batches being built, code, allocator)
python3 - "$WORK/in.txt" "$N" <<'PY'
import sys
with open(sys.argv[1], 'w') as f:
    for i in range(int(sys.argv[2])):
        f.write('{"seq":%d,"msg":"backpressure line %d with some padding to look like a log"}\n' % (i, i))
PY
HTTP=$(free_port)
mkdir -p "$WORK/out"
cat > "$WORK/cfg.yaml" <<YAML
service:
  http: { listen: 127.0.0.1:$HTTP }
  grace_period: 30s
inputs:
  - type: stdin
outputs:
  - type: file
    path: $WORK/out/out.jsonl
    flush_interval: 200ms
    buffer: { max_bytes: ${BUDGET_MIB}MiB }
    retry: { initial_backoff: 100ms, max_backoff: 300ms }
YAML
mkfifo "$WORK/fifo"
"$FERRY_BIN" run -c "$WORK/cfg.yaml" < "$WORK/fifo" 2> "$WORK/err.txt" &
pid=$!; PIDS+=("$pid")
exec 3> "$WORK/fifo"
metric() { curl -sf --max-time 2 "http://127.0.0.1:$HTTP/metrics" | awk -v m="$1" 'index($0, m) == 1 {s += $NF} END {print s + 0}'; }
wait_for 10 curl -sf "http://127.0.0.1:$HTTP/health" || { cat "$WORK/err.txt"; fail "ferry did not start"; }
# The sink goes down: its directory becomes a file, so every write fails and is retried.
rm -rf "$WORK/out"; touch "$WORK/out"
cat "$WORK/in.txt" >&3 &
writer=$!; PIDS+=("$writer")
paused() { [ "$(metric 'ferry_input_paused{input="stdin"}')" = 1 ]; }
wait_for 30 paused || { tail -5 "$WORK/err.txt"; fail "the input never paused"; }
sleep 3   # paused for a while: memory must not keep growing
kill -0 "$writer" 2>/dev/null || fail "the writer finished: the input did not stop reading"
buffered=$(metric 'ferry_output_buffer_bytes{output="file"}')
read_so_far=$(metric 'ferry_input_records_total{input="stdin"}')
hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
echo "paused after $read_so_far of $N records; output buffer $((buffered / 1024)) KiB (budget ${BUDGET_MIB} MiB); peak RSS $((hwm_kb / 1024)) MiB"
[ "$read_so_far" -lt "$N" ] || fail "every record was read: nothing paused"
[ "$buffered" -le $(( (BUDGET_MIB + 2) * 1024 * 1024 )) ] || fail "output buffer $buffered bytes is over its budget"
[ "$hwm_kb" -le $(( LIMIT_MIB * 1024 )) ] || fail "peak RSS $((hwm_kb / 1024)) MiB over ${LIMIT_MIB} MiB"
# The sink comes back: everything offered arrives, once.
rm -f "$WORK/out"; mkdir "$WORK/out"
wait "$writer" || fail "the writer failed"
exec 3>&-
wait_exit "$pid" 120
[ "$RC" = 0 ] || { tail -5 "$WORK/err.txt"; fail "ferry exited $RC"; }
python3 - "$WORK/out/out.jsonl" "$N" <<'PY' || fail "records lost or duplicated after the sink came back"
import json, sys
seqs = [json.loads(json.loads(l)['log'])['seq'] for l in open(sys.argv[1])]
n = int(sys.argv[2])
assert len(seqs) == n and sorted(seqs) == list(range(n)), f'{len(seqs)} lines, {len(set(seqs))} distinct of {n}'
PY
pass "backpressure: $N records offered to a dead sink, input paused, RSS within ${LIMIT_MIB} MiB, all delivered once after recovery"
