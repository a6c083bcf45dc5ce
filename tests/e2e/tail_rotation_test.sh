#!/usr/bin/env bash
# tail → file through rotations and a restart: a bounded writer appends 200,000 lines while
# the log is rotated once by rename (logrotate's default) and once by copytruncate, and
# ferry is stopped (SIGTERM) and started again in the middle. Every line must reach the
# `file` output exactly once, in order within each file the writer wrote.
source "$(dirname "$0")/lib.sh"

N=${TAIL_E2E_LINES:-200000}
RATE=${TAIL_E2E_RATE:-12000}
mkdir -p "$WORK/logs" "$WORK/state"
cat > "$WORK/writer.py" <<'PY'
"""Bounded log writer for the tail end-to-end tests.

Usage: tail_writer.py LOG OUT LINES RATE [--rename-at N] [--copytruncate-at N]

Appends LINES lines "g<gen> s<seq> <payload>" to LOG at about RATE lines/s, opening it in
append mode as a real application does, and writes its progress (lines written) to
LOG.progress. Rotations it performs itself, at the line counts given:

--rename-at N       logrotate's default: LOG is renamed to LOG.1; the writer keeps writing
                    200 lines to the old file (as an app does until it reopens), then
                    reopens LOG (a new file, gen + 1).
--copytruncate-at N logrotate's copytruncate: LOG is copied to LOG.2 and truncated in place.
                    Lines written between the copy and the truncate are lost by logrotate
                    itself, and lines ferry had not read before the truncate are only in
                    the copy (which ferry does not follow): so the writer pauses, waits
                    until OUT holds every line written so far, then copies and truncates,
                    and pauses 0.5 s more before writing again. This makes the test
                    deterministic; it is the rotation mode's limit, not ferry's.
"""
import os, shutil, sys, time

log, out, total, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
rename_at = copytruncate_at = -1
args = sys.argv[5:]
while args:
    flag, value = args[0], int(args[1])
    args = args[2:]
    if flag == "--rename-at":
        rename_at = value
    elif flag == "--copytruncate-at":
        copytruncate_at = value

def count_lines(path):
    try:
        with open(path, "rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    except FileNotFoundError:
        return 0

def progress(n):
    tmp = log + ".progress.tmp"
    with open(tmp, "w") as p:
        p.write(str(n))
    os.replace(tmp, log + ".progress")

gen = 0
f = open(log, "a", buffering=1 << 16)
payload = "abcdefghijklmnopqrstuvwxyz0123456789" * 2
burst = 100
start = time.monotonic()
seq = 0
while seq < total:
    if seq == rename_at:
        f.flush()
        os.rename(log, log + ".1")
        for _ in range(200):  # still writing to the renamed file
            if seq >= total:
                break
            f.write("g%d s%d %s\n" % (gen, seq, payload))
            seq += 1
        f.close()
        gen += 1
        f = open(log, "a", buffering=1 << 16)
        continue
    if seq == copytruncate_at:
        f.flush()
        deadline = time.monotonic() + 30
        while count_lines(out) < seq and time.monotonic() < deadline:
            time.sleep(0.05)
        shutil.copyfile(log, log + ".2")
        os.truncate(log, 0)  # the writer's O_APPEND file offset follows the new end
        time.sleep(0.5)
        copytruncate_at = -1
    end = min(total, seq + burst)
    if rename_at > seq:
        end = min(end, rename_at)
    if copytruncate_at > seq:
        end = min(end, copytruncate_at)
    for i in range(seq, end):
        f.write("g%d s%d %s\n" % (gen, i, payload))
    seq = end
    f.flush()
    progress(seq)
    # Bounded rate: never more than `rate` lines per second on average.
    ahead = seq / rate - (time.monotonic() - start)
    if ahead > 0:
        time.sleep(ahead)
f.close()
progress(seq)
PY

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
python3 "$WORK/writer.py" "$WORK/logs/app.log" "$WORK/out.jsonl" "$N" "$RATE" \
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
