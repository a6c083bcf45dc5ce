#!/usr/bin/env bash
# A damaged disk buffer: after a run that left 20,000 records on disk (sink dead, SIGTERM),
# the last entry of the last segment gets a flipped byte and loses its end. ferry starts,
# truncates it, counts it (ferry_storage_corrupt_entries_total, a warning), and ships every
# record before it, exactly once and in order.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/storage_lib.sh"

N=20000
write_records "$N"
storage_config "$WORK/cfg.yaml" grace=1s <<YAML
  - type: file
    path: $WORK/sink/out.jsonl
    retry: { initial_backoff: 100ms, max_backoff: 200ms }
YAML
all_read() { [ "$(metric 'ferry_input_records_total{input="stdin"}')" = "$N" ]; }

# 1. Leave N records on disk.
start_then_kill_sink
wait_for 30 all_read || { tail "$WORK/err1.txt"; fail "ferry did not read $N records"; }
kill -TERM "$pid"
wait_exit "$pid" 20
exec 3>&-
[ "$RC" = 0 ] || { tail "$WORK/err1.txt"; fail "first run exit $RC"; }

# 2. Damage the last entry: flip a byte in its middle and cut its last 7 bytes. Prints how
# many records the entries before it hold.
kept=$(python3 - "$WORK/store/queue" <<'PY'
import os, struct, sys
d = sys.argv[1]
segs = [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith('.seg')]
def entries(data):  # (offset, body length, records) of each entry
    out, off = [], 0
    while off < len(data):
        length, = struct.unpack_from('<I', data, off)
        out.append((off, length, struct.unpack_from('<I', data, off + 16)[0]))
        off += 8 + length
    return out
total = sum(e[2] for p in segs for e in entries(open(p, 'rb').read()))
data = bytearray(open(segs[-1], 'rb').read())
last_off, last_len, last_records = entries(data)[-1]
data[last_off + 8 + last_len // 2] ^= 0xFF
del data[-7:]
open(segs[-1], 'wb').write(data)
print(total - last_records)
PY
)
[ "$kept" -gt 0 ] && [ "$kept" -lt "$N" ] || fail "unexpected record count before the damage: $kept"

# 3. Restart with the sink back: the damage is counted, the rest ships.
revive_sink
mkfifo "$WORK/fifo2"
"$FERRY_BIN" run -c "$WORK/cfg.yaml" < "$WORK/fifo2" 2> "$WORK/err2.txt" &
pid=$!; PIDS+=("$pid")
exec 4> "$WORK/fifo2"
delivered() { [ "$(metric 'ferry_output_records_total{output="file",result="sent"}')" = "$kept" ]; }
wait_for 30 delivered || { tail "$WORK/err2.txt"; fail "the $kept intact records were not delivered"; }
corrupt=$(metric ferry_storage_corrupt_entries_total)
[ "$corrupt" = 1 ] || fail "ferry_storage_corrupt_entries_total is $corrupt, expected 1"
kill -TERM "$pid"
wait_exit "$pid" 20
exec 4>&-
[ "$RC" = 0 ] || { tail "$WORK/err2.txt"; fail "second run exit $RC"; }
grep -q "truncated 1 damaged segment tail" "$WORK/err2.txt" || fail "no warning about the damage"
python3 - "$WORK/sink/out.jsonl" "$kept" <<'PY' || fail "the intact records were not delivered exactly once"
import sys, json
got = [json.loads(l)['log'] for l in open(sys.argv[1])]
assert got == ['record %d' % i for i in range(int(sys.argv[2]))], f'{len(got)} records'
PY
pass "corrupt tail truncated and counted; $kept of $N records (all intact ones) delivered once"
