#!/usr/bin/env bash
# kill -9 in the middle of a tail → file run, then a restart: no line is lost, and the only
# duplicates are the lines delivered after the last position save (saved at most every
# 200 ms once delivered): one contiguous stretch just before the kill. Prints their count.
source "$(dirname "$0")/lib.sh"

N=${TAIL_E2E_LINES:-200000}
RATE=${TAIL_E2E_RATE:-15000}
mkdir -p "$WORK/logs" "$WORK/state"

cat > "$WORK/cfg.yaml" <<YAML
inputs:
  - type: tail
    path: $WORK/logs/*.log
    tag: app
    read_from_head: true
    refresh_interval: 200ms
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
progress() { cat "$WORK/logs/app.log.progress" 2>/dev/null || echo 0; }
delivered() { [ -f "$WORK/out.jsonl" ] && wc -l < "$WORK/out.jsonl" || echo 0; }
written_at_least() { [ "$(progress)" -ge "$1" ]; }
delivered_at_least() { [ "$(delivered)" -ge "$1" ]; }
exited() { ! kill -0 "$FERRY_PID" 2>/dev/null; }

t0=$(date +%s)
touch "$WORK/logs/app.log"
start_ferry
python3 "$E2E_DIR/tail_writer.py" "$WORK/logs/app.log" "$WORK/out.jsonl" "$N" "$RATE" --rename-at $((N * 3 / 4)) &
writer=$!; PIDS+=("$writer")

wait_for 60 written_at_least $((N / 2)) || fail "writer too slow: $(progress) lines"
kill -9 "$FERRY_PID"
wait_for 10 exited || fail "kill -9 did not end ferry"
wait "$FERRY_PID" 2>/dev/null || true
killed_at=$(delivered)
sleep 0.3
start_ferry

wait "$writer" || fail "the writer failed"
wait_for 60 delivered_at_least "$N" || { tail -5 "$WORK/err.txt"; fail "only $(delivered) lines delivered (written $N)"; }
sleep 1.5   # let any further duplicate arrive before counting
kill -TERM "$FERRY_PID"
wait_for 20 exited || fail "ferry did not stop on SIGTERM"
rc=0; wait "$FERRY_PID" || rc=$?
[ "$rc" = 0 ] || { cat "$WORK/err.txt"; fail "ferry exited $rc on SIGTERM"; }

python3 - "$WORK/out.jsonl" "$N" "$killed_at" <<'PY' || { tail -20 "$WORK/err.txt"; fail "lines lost, or duplicates beyond the last unsaved stretch"; }
import sys, json, collections
path, n, killed_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
seen = collections.Counter()
order = []
for line in open(path, encoding="utf-8"):
    g, s, _ = json.loads(line)["log"].split(" ", 2)
    seq = int(s[1:])
    seen[seq] += 1
    order.append(seq)
missing = [i for i in range(n) if seen[i] == 0]
dup_seqs = sorted(i for i, c in seen.items() if c > 1)
dups = sum(c - 1 for c in seen.values() if c > 1)
print(f"written {n}, delivered {len(order)} ({killed_at} before kill -9), missing {len(missing)}, "
      f"duplicates {dups}" + (f" (lines {dup_seqs[0]}..{dup_seqs[-1]})" if dup_seqs else ""))
assert not missing, f"{len(missing)} lines lost, first: {missing[:10]}"
assert all(seen[i] <= 2 for i in dup_seqs), "a line delivered more than twice"
if dup_seqs:
    # One stretch, the last lines delivered before the kill (their position was not saved yet).
    assert dup_seqs[-1] - dup_seqs[0] + 1 == len(dup_seqs), "duplicates are not one contiguous stretch"
    assert set(dup_seqs) <= set(order[:killed_at]), "a duplicate of a line not delivered before the kill"
    assert dup_seqs[-1] == max(order[:killed_at]), "duplicates do not end where delivery stopped"
    assert dups <= n // 10, f"{dups} duplicates: far more than one save interval's worth"
PY
pass "tail: kill -9 and restart, $N lines, none lost, in $(( $(date +%s) - t0 )) s"
