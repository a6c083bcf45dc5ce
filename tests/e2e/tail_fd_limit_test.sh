#!/usr/bin/env bash
# tail → file with 2,000 files under a hard open-files limit of 1,024 (`ulimit -n 1024`: the
# soft and the hard limit, so raising the soft one cannot help): ferry starts, /health
# answers while it runs, the files it cannot hold open at once are closed and reopened in
# turn (max_open_files defaults to half the limit), lines appended at run time to files
# open or not are read too, every line arrives exactly once, in order within its file, no
# "Too many open files" anywhere, and SIGTERM stops it with 0. Prints the figures.
source "$(dirname "$0")/lib.sh"

FILES=${TAIL_FD_FILES:-2000}
LIMIT=1024
HTTP="127.0.0.1:$(free_port)"
mkdir -p "$WORK/logs" "$WORK/store"
python3 - "$WORK/logs" "$FILES" <<'PY'
import sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    with open(f"{d}/f{i}.log", "w") as f:
        f.write("".join(f"f{i} {s}\n" for s in range(3)))
PY
cat > "$WORK/cfg.yaml" <<YAML
service:
  http: { listen: $HTTP }
  storage: { path: $WORK/store }
  grace_period: 10s
inputs:
  - type: tail
    path: $WORK/logs/*.log
    tag: app
    read_from_head: true
    refresh_interval: 500ms
outputs:
  - type: file
    match: app
    path: $WORK/out.jsonl
YAML

delivered() { [ -f "$WORK/out.jsonl" ] && wc -l < "$WORK/out.jsonl" || echo 0; }
delivered_at_least() { [ "$(delivered)" -ge "$1" ]; }
alive() { kill -0 "$pid" 2>/dev/null || { cat "$WORK/err.txt"; fail "ferry exited under ulimit -n $LIMIT"; }; }
metric() { curl -sf --max-time 2 "http://$HTTP/metrics" | awk -v m="$1" 'index($0, m) == 1 {s += $NF} END {print s + 0}'; }

t0=$(date +%s.%N)
bash -c "ulimit -n $LIMIT && exec \"\$0\" run -c \"\$1\"" "$FERRY_BIN" "$WORK/cfg.yaml" 2> "$WORK/err.txt" &
pid=$!; PIDS+=("$pid")
# Peak descriptors of the ferry process, sampled every 50 ms (bounded: 20 min at most).
( peak=0; for _ in $(seq 24000); do
    n=$(ls /proc/"$pid"/fd 2>/dev/null | wc -l) || break
    [ "$n" -gt 0 ] || break
    [ "$n" -le "$peak" ] || { peak=$n; echo "$peak" > "$WORK/peak_fds"; }
    sleep 0.05
  done ) &
PIDS+=("$!")

wait_for 10 health_says '^200' || { alive; cat "$WORK/err.txt"; fail "/health does not answer"; }
alive # the answer came from this ferry, not from another process on the port
soft=$(awk '/Max open files/ {print $4 "/" $5}' /proc/"$pid"/limits)
[ "$soft" = "$LIMIT/$LIMIT" ] || fail "ferry's open-files limits (soft/hard) are $soft, not $LIMIT/$LIMIT"

first=$((FILES * 3))
wait_for 30 delivered_at_least "$first" || { alive; tail -5 "$WORK/err.txt"; fail "only $(delivered) of $first lines delivered"; }
alive
health_says '^200' || fail "/health stopped answering"

# More lines at run time in every fifth file: some open, most closed (parked) by now.
python3 - "$WORK/logs" "$FILES" <<'PY'
import sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(0, n, 5):
    with open(f"{d}/f{i}.log", "a") as f:
        f.write("".join(f"f{i} {s}\n" for s in range(3, 5)))
PY
total=$((first + (FILES + 4) / 5 * 2))
wait_for 30 delivered_at_least "$total" || { alive; tail -5 "$WORK/err.txt"; fail "only $(delivered) of $total lines delivered"; }
health_says '^200' || fail "/health stopped answering"
open_files=$(metric 'ferry_input_files_open{')
parked=$(metric 'ferry_input_files_parked_total{')
exhausted=$(metric 'ferry_input_fd_exhausted_total{')
curl -sf --max-time 2 "http://$HTTP/metrics" | grep '^ferry_input_files_open{' >/dev/null || fail "no ferry_input_files_open series"
[ "$open_files" -gt 0 ] && [ "$open_files" -le $((LIMIT / 2)) ] ||
  fail "ferry_input_files_open is $open_files, not within (0, half the limit]"
peak_fds=$(cat "$WORK/peak_fds" 2>/dev/null || echo 0)
[ "$peak_fds" -gt 0 ] && [ "$peak_fds" -lt "$LIMIT" ] || fail "peak descriptors $peak_fds, not below the limit $LIMIT"
[ "$parked" -gt 0 ] || fail "no file was parked: the budget was not used"
sleep 1 # anything more would be a duplicate
elapsed=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$(date +%s.%N)")

kill -TERM "$pid"
wait_exit "$pid" 20
[ "$RC" = 0 ] || { tail -5 "$WORK/err.txt"; fail "ferry exited $RC on SIGTERM"; }
if grep -q "Too many open files" "$WORK/err.txt"; then
  grep -m3 "Too many open files" "$WORK/err.txt"
  fail "ferry ran out of descriptors (fd_exhausted $exhausted)"
fi

python3 - "$WORK/out.jsonl" "$FILES" <<'PY' || fail "lines lost, duplicated or out of order"
import sys, json, collections
n = int(sys.argv[2])
per_file = collections.defaultdict(list)
for line in open(sys.argv[1], encoding="utf-8"):
    name, seq = json.loads(line)["log"].split(" ")
    per_file[name].append(int(seq))
bad = []
for i in range(n):
    want = list(range(5 if i % 5 == 0 else 3))
    if per_file.get(f"f{i}") != want:
        bad.append((i, per_file.get(f"f{i}")))
assert not bad, f"{len(bad)} files wrong, first: {bad[:3]}"
assert len(per_file) == n, f"{len(per_file)} files seen"
PY
pass "tail: $FILES files under ulimit -n $LIMIT: $total lines written, $(delivered) delivered exactly once in ${elapsed} s; peak $(cat "$WORK/peak_fds") descriptors, $open_files files open at the end, $parked parks"
