#!/usr/bin/env bash
# tail → file through rotations and a restart: a bounded writer appends 200,000 lines while
# the log is rotated once by rename (logrotate's default) and once by copytruncate, and
# ferry is stopped (SIGTERM) and started again in the middle. Every line must reach the
# `file` output exactly once, in order within each file the writer wrote.
source "$(dirname "$0")/lib.sh"

N=${TAIL_E2E_LINES:-200000}
RATE=${TAIL_E2E_RATE:-12000}
mkdir -p "$WORK/logs" "$WORK/state"

cat > "$WORK/cfg.yaml" <<YAML
service:
  grace_period: 10s
inputs:
  - type: tail
    path: $WORK/logs/app.log
    tag: app
    read_from_head: true
    refresh_interval: 200ms
    rotate_wait: 2s
    db: $WORK/state/tail.db
outputs:
  - type: file
    match: app
    path: $WORK/out.jsonl
YAML

start_ferry() {
  "$FERRY_BIN" run -c "$WORK/cfg.yaml" 2>> "$WORK/err.txt" &
  FERRY_PID=$!
  PIDS+=("$FERRY_PID")
}
# SIGTERM, then wait (in this shell: `wait` only knows its own children) for exit code 0.
stop_ferry() {
  kill -TERM "$FERRY_PID"
  local end=$(( $(date +%s) + 20 )) rc=0
  while kill -0 "$FERRY_PID" 2>/dev/null; do
    [ "$(date +%s)" -lt "$end" ] || { kill -9 "$FERRY_PID"; fail "ferry did not stop within 20 s"; }
    sleep 0.05
  done
  wait "$FERRY_PID" || rc=$?
  [ "$rc" = 0 ] || { cat "$WORK/err.txt"; fail "ferry exited $rc on SIGTERM"; }
}
progress() { cat "$WORK/logs/app.log.progress" 2>/dev/null || echo 0; }
delivered() { [ -f "$WORK/out.jsonl" ] && wc -l < "$WORK/out.jsonl" || echo 0; }
written_at_least() { [ "$(progress)" -ge "$1" ]; }
delivered_at_least() { [ "$(delivered)" -ge "$1" ]; }

t0=$(date +%s)
touch "$WORK/logs/app.log"
start_ferry
python3 "$E2E_DIR/tail_writer.py" "$WORK/logs/app.log" "$WORK/out.jsonl" "$N" "$RATE" \
  --rename-at $((N / 4)) --copytruncate-at $((N * 3 / 4)) &
writer=$!; PIDS+=("$writer")

# Restart in the middle, while the writer keeps writing.
wait_for 60 written_at_least $((N / 2)) || fail "writer too slow: $(progress) lines"
stop_ferry
stopped_at=$(delivered)
sleep 0.5   # lines written while ferry is down must not be skipped
start_ferry

wait "$writer" || fail "the writer failed"
wait_for 60 delivered_at_least "$N" || { tail -5 "$WORK/err.txt"; fail "only $(delivered) of $N lines delivered"; }
sleep 1     # anything more would be a duplicate
stop_ferry

python3 - "$WORK/out.jsonl" "$N" <<'PY' || { cat "$WORK/err.txt"; fail "lines lost, duplicated or out of order"; }
import sys, json, collections
n = int(sys.argv[2])
seen = collections.Counter()
last = {}
disorder = 0
for line in open(sys.argv[1], encoding="utf-8"):
    g, s, _ = json.loads(line)["log"].split(" ", 2)
    seq = int(s[1:])
    seen[seq] += 1
    if g in last and seq <= last[g]:
        disorder += 1
    last[g] = seq
missing = [i for i in range(n) if seen[i] == 0]
dups = sum(c - 1 for c in seen.values() if c > 1)
print(f"written {n}, delivered {sum(seen.values())}, missing {len(missing)}, duplicates {dups}, out of order {disorder}")
assert not missing, f"missing lines, first: {missing[:10]}"
assert dups == 0, f"{dups} duplicated lines"
assert disorder == 0, f"{disorder} lines out of order within their file"
PY
grep -q "was rotated" "$WORK/err.txt" || fail "the rename rotation was not noticed"
grep -q "was truncated" "$WORK/err.txt" || fail "the copytruncate was not noticed"
pass "tail: $N lines through rename + copytruncate + SIGTERM restart ($stopped_at delivered before it), exactly once, in $(( $(date +%s) - t0 )) s"
