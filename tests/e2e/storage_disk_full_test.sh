#!/usr/bin/env bash
# The disk under service.storage fills up (an 8 MiB tmpfs, the sink down, forward records with
# acknowledgements): ferry stops acknowledging (nothing it cannot store is acked), pauses the
# input (ferry_input_paused, nothing more read, memory flat), says so on /health (503) and in
# ferry_storage_degraded. When space returns (the tmpfs grows) it resumes by itself; killed
# with SIGKILL mid-stream and restarted with the sink back, it delivers every record the
# client saw acknowledged. Needs root (it mounts the tmpfs).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/storage_lib.sh"
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: storage_disk_full_test needs root to mount a tmpfs"
  exit 0
fi
command -v node >/dev/null || fail "node is required for the forward client"

N=200000
FWD_PORT=$(free_port)
HTTP=127.0.0.1:$HTTP_PORT
STORE=$WORK/store
mkdir -p "$STORE"
mount -t tmpfs -o size=8m tmpfs "$STORE" || fail "cannot mount a tmpfs on $STORE"
unmount_store() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for _ in 1 2 3 4 5 6 7 8 9 10; do umount "$STORE" 2>/dev/null && break; sleep 0.2; done
  mountpoint -q "$STORE" && umount -l "$STORE"
  cleanup
}
trap unmount_store EXIT

storage_config "$WORK/cfg.yaml" grace=5s store="$STORE" sync=always input="  - type: forward
    listen: tcp://127.0.0.1:$FWD_PORT" <<YAML
  - type: file
    path: $WORK/sink/out.jsonl
    retry: { initial_backoff: 100ms, max_backoff: 200ms }
YAML
read_total() { metric 'ferry_input_records_total{input="forward"}'; }
rss_kb() { awk "/^$1:/ {print \$2}" "/proc/$pid/status"; }

# 1. Sink down, records until the disk is full.
mkdir -p "$WORK/sink"
"$FERRY_BIN" run -c "$WORK/cfg.yaml" 2> "$WORK/err1.txt" &
pid=$!; PIDS+=("$pid")
wait_for 10 metric ferry_ring_capacity || { tail "$WORK/err1.txt"; fail "ferry did not start"; }
kill_sink
node "$E2E_DIR/forward_client.js" --port "$FWD_PORT" --tag app --count $N --window 500 \
  --timeout-ms 45000 > "$WORK/client.json" 2> "$WORK/client.err" &
client=$!; PIDS+=("$client")
degraded() { [ "$(metric ferry_storage_degraded)" = 1 ]; }
wait_for 30 degraded || { tail "$WORK/err1.txt"; fail "ferry_storage_degraded never became 1 (read $(read_total))"; }

# 2. Full: paused, nothing more read, memory flat, /health says why.
paused() { [ "$(metric 'ferry_input_paused{input="forward"}')" = 1 ]; }
wait_for 5 paused || fail "the forward input did not pause while storage cannot take writes"
at_full=$(read_total)
rss_full=$(rss_kb VmRSS)
sleep 2
[ "$(read_total)" = "$at_full" ] || fail "records were still read while the disk was full ($at_full, then $(read_total))"
health_says '^503 .*disk buffer cannot take writes' || fail "/health while full: $(health)"
grep -q "cannot store a batch: .*No space left on device; inputs paused" "$WORK/err1.txt" ||
  { tail "$WORK/err1.txt"; fail "no log line about the full disk"; }
rss_paused=$(rss_kb VmRSS)
hwm=$(rss_kb VmHWM)
echo "disk full after $at_full of $N records: RSS $((rss_full / 1024)) MiB, $((rss_paused / 1024)) MiB 2 s later, peak $((hwm / 1024)) MiB"
[ "$hwm" -le $((128 * 1024)) ] || fail "peak RSS $((hwm / 1024)) MiB while the disk was full"
[ "$rss_paused" -le $((rss_full + 8 * 1024)) ] || fail "RSS grew from $rss_full to $rss_paused KiB while paused"

# 3. Space returns: writes go on by themselves, the input resumes; SIGKILL mid-stream.
mount -o remount,size=64m "$STORE" || fail "cannot grow the tmpfs"
recovered() { [ "$(metric ferry_storage_degraded)" = 0 ] && [ "$(read_total)" -gt "$at_full" ]; }
wait_for 10 recovered || { tail "$WORK/err1.txt"; fail "ferry did not resume once space returned"; }
health_says '^200 ' || fail "/health once space returned: $(health)"
kill -9 "$pid"
wait_exit "$pid" 10
wait_exit "$client" 20 # it reports what was acknowledged when the connection drops
acked=$(python3 -c "import json; print(json.load(open('$WORK/client.json'))['acked'])")
[ "$acked" -gt "$at_full" ] || fail "acked $acked: nothing acknowledged after the disk had room again"
echo "killed with $acked of $N records acknowledged ($at_full when the disk filled)"

# 4. Restart with the sink back: every acknowledged record is delivered.
revive_sink
"$FERRY_BIN" run -c "$WORK/cfg.yaml" 2> "$WORK/err2.txt" &
pid=$!; PIDS+=("$pid")
delivered() { [ -f "$WORK/sink/out.jsonl" ] && [ "$(wc -l < "$WORK/sink/out.jsonl")" -ge "$acked" ]; }
wait_for 30 delivered || true
kill -TERM "$pid"
wait_exit "$pid" 20
[ "$RC" = 0 ] || { tail "$WORK/err2.txt"; fail "restart exit $RC"; }
python3 - "$WORK/sink/out.jsonl" "$acked" <<'PY' || fail "acknowledged records lost"
import sys, json
got = {int(json.loads(l)['log'].split()[1]) for l in open(sys.argv[1])}
acked = int(sys.argv[2])
missing = sorted(set(range(acked)) - got)  # acks come in order: the first `acked` records
print(f'acked {acked}, delivered {len(got)} distinct, acknowledged but lost {len(missing)}')
assert not missing, f'e.g. {missing[:3]}'
PY
pass "disk full: input paused, /health 503, resumed when space returned; all $acked acknowledged records delivered after kill -9"
