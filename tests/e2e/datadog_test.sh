#!/usr/bin/env bash
# stdin → datadog → a strict intake (tests/e2e/datadog_intake.js) that refuses anything the
# real one would not take. 100,000 numbered lines arrive exactly once with the configured
# service/ddsource/ddtags/hostname, gzip and zstd; through 503s then 429s (Retry-After) every
# record still arrives once; a 400 drops only that batch (counted by the intake and reported by
# ferry); 413s on big requests make ferry split them and everything arrives; lines over 1 MB
# arrive truncated and marked. Config values come from injected env vars, as on Fargate.
source "$(dirname "$0")/lib.sh"

command -v node >/dev/null || fail "node is required for the intake stand-in"
[ -d "$E2E_DIR/node_modules/fzstd" ] ||
  node -e 'require("zlib").zstdDecompressSync || process.exit(1)' ||
  fail "fzstd missing: run 'npm install' in tests/e2e"

N=100000
export DD_API_KEY="e2e-key-0123456789abcdef01234567"
export DD_SERVICE="checkout"
export DD_SOURCE="ferry-e2e"
export DD_TAGS="env:e2e,team:logs"
HOST=$(python3 -c 'import socket; print(socket.gethostname())')

# The input: numbered lines (bounded), with quotes, tabs and UTF-8 among them.
python3 - "$WORK/in.txt" "$N" <<'PY'
import sys
n = int(sys.argv[2])
with open(sys.argv[1], 'w', encoding='utf-8', newline='\n') as f:
    for i in range(n):
        extra = ['', ' "quoted"', ' tab\there', ' caf\u00e9 \u6771\u4eac', ' ' + 'x' * 300][i % 5]
        f.write('rec %06d%s\n' % (i, extra))
PY
# The same plus three lines over Datadog's 1 MB entry limit.
python3 - "$WORK/in.txt" "$WORK/in-big.txt" <<'PY'
import sys
lines = open(sys.argv[1], encoding='utf-8').read().split('\n')[:-1]
for k, at in enumerate((10, 50000, 99990)):
    lines.insert(at, 'big %d ' % k + '\u00e9' * 750000)  # 1.5 MB of 2-byte characters
open(sys.argv[2], 'w', encoding='utf-8', newline='\n').write('\n'.join(lines) + '\n')
PY

INTAKE_PID=""
# start_intake NAME ENCODING [FAULT OPTIONS...]: starts the intake, sets PORT.
start_intake() {
  local name=$1 enc=$2; shift 2
  node "$E2E_DIR/datadog_intake.js" --port-file "$WORK/$name.port" --api-key "$DD_API_KEY" \
    --out "$WORK/$name.out" --refused-out "$WORK/$name.refused" --encoding "$enc" \
    --expect-service "$DD_SERVICE" --expect-source "$DD_SOURCE" --expect-tags "$DD_TAGS" \
    --expect-hostname "$HOST" "$@" 2> "$WORK/$name.intake-err" &
  INTAKE_PID=$!; PIDS+=("$INTAKE_PID")
  wait_for 10 test -s "$WORK/$name.port" ||
    { cat "$WORK/$name.intake-err"; fail "$name: intake did not start"; }
  PORT=$(cat "$WORK/$name.port")
  touch "$WORK/$name.out" "$WORK/$name.refused"
}

stop_intake() {
  python3 - "http://127.0.0.1:$PORT/stats" > "$WORK/$1.stats" <<'PY' ||
import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())
PY
    fail "$1: cannot read the intake's stats"
  kill "$INTAKE_PID" 2>/dev/null || true
  wait "$INTAKE_PID" 2>/dev/null || true
}

# run_ferry NAME ENCODING INPUT: ships INPUT through the datadog sink; fails unless exit 0.
run_ferry() {
  local name=$1 enc=$2 input=$3
  cat > "$WORK/$name.yaml" <<YAML
service:
  grace_period: 60s
inputs:
  - type: stdin
    max_line_bytes: 4MiB
outputs:
  - type: datadog
    api_key: \${DD_API_KEY}
    url: http://127.0.0.1:$PORT/api/v2/logs
    service: \${DD_SERVICE}
    source: \${DD_SOURCE:-}
    tags: \${DD_TAGS}
    compression: $enc
    retry: { initial_backoff: 100ms, max_backoff: 1s }
YAML
  local rc=0
  env -u ECS_CONTAINER_METADATA_URI_V4 timeout 150 "$FERRY_BIN" run -c "$WORK/$name.yaml" \
    < "$input" > /dev/null 2> "$WORK/$name.err" || rc=$?
  if [ "$rc" != 0 ]; then
    tail -20 "$WORK/$name.err"; cat "$WORK/$name.intake-err"
    fail "$name: ferry exited $rc"
  fi
}

# check NAME INPUT: every input line accepted or refused exactly once, nothing unexpected;
# the intake never saw an invalid request. Prints the counts.
check() {
  python3 - "$1" "$2" "$WORK/$1.out" "$WORK/$1.refused" "$WORK/$1.stats" <<'PY'
import sys, json, collections
name, inp, out, refused, stats_file = sys.argv[1:]
stats = json.load(open(stats_file))
assert stats['invalid_requests'] == 0, f"{name}: invalid requests: {stats['invalid_reasons']}"
expected = open(inp, encoding='utf-8').read().split('\n')[:-1]
want = collections.Counter(expected)
def load(path):
    return [json.loads(l) for l in open(path, encoding='utf-8') if l.strip()]
got, gone = load(out), load(refused)
seen = collections.Counter()
big = {l.split(' ')[1]: l for l in expected if len(l.encode()) > 1_000_000}
truncated = 0
for m in got + gone:
    if m in want:
        seen[m] += 1
    elif m.startswith('big ') and m.split(' ')[1] in big and big[m.split(' ')[1]].startswith(m):
        assert len(m.encode()) < 1_000_000, f'{name}: big line not truncated'
        seen[big[m.split(' ')[1]]] += 1
        truncated += 1
    else:
        raise AssertionError(f'{name}: unexpected message {m[:80]!r}')
missing = [l for l in want if seen[l] < want[l]]
dups = sum(c - want[l] for l, c in seen.items() if c > want[l])
assert not missing, f'{name}: {len(missing)} records missing, e.g. {missing[0][:60]!r}'
assert dups == 0, f'{name}: {dups} duplicates'
assert stats['accepted_entries'] == len(got) and stats['refused_entries'] == len(gone), stats
assert truncated == len(big) == stats['truncated_entries'], (truncated, len(big), stats)
print(f"{name}: sent {len(expected)}, received {len(got)}, refused {len(gone)}, duplicates {dups}, "
      f"truncated {truncated}; requests {stats['requests']}, statuses {stats['status']}, "
      f"largest {stats['max_entries_accepted']} entries / {stats['max_payload_seen']} bytes")
PY
}

# intake_stat NAME EXPR: evaluates json_of_stats EXPR, e.g. "['status'].get('413')".
intake_stat() {
  python3 -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$WORK/$1.stats"
}

# 1. gzip, with three lines over 1 MB.
start_intake gzip gzip
run_ferry gzip gzip "$WORK/in-big.txt"
stop_intake gzip
check gzip "$WORK/in-big.txt" || fail "gzip: delivery check failed"
[ "$(intake_stat gzip "['max_entry_seen'] <= 1000000")" = True ] || fail "gzip: an entry over 1 MB"

# 2. zstd.
start_intake zstd zstd
run_ferry zstd zstd "$WORK/in.txt"
stop_intake zstd
check zstd "$WORK/in.txt" || fail "zstd: delivery check failed"

# 3. 503 for the first 3 requests, then 429 (Retry-After: 1) for the next 3.
start_intake faults gzip --fail-503 3 --fail-429 3
run_ferry faults gzip "$WORK/in.txt"
stop_intake faults
check faults "$WORK/in.txt" || fail "503/429: delivery check failed"
[ "$(intake_stat faults "['status'].get('503')")" = 3 ] || fail "503/429: expected 3 answers 503"
[ "$(intake_stat faults "['status'].get('429')")" = 3 ] || fail "503/429: expected 3 answers 429"

# 4. 400 for request number 4: that batch is dropped (and reported), everything else arrives.
start_intake drop400 gzip --fail-400-at 4
run_ferry drop400 gzip "$WORK/in.txt"
stop_intake drop400
check drop400 "$WORK/in.txt" || fail "400: delivery check failed"
refused=$(intake_stat drop400 "['refused_entries']")
[ "$refused" -gt 0 ] || fail "400: the intake refused nothing"
grep -q "refused $refused records for good" "$WORK/drop400.err" || {
  grep -i "refused\|drop" "$WORK/drop400.err" | head -5
  fail "400: ferry did not report dropping $refused records"
}

# 5. 413 for any request over 300 entries: ferry splits them; everything arrives.
start_intake split413 gzip --max-entries-413 300
run_ferry split413 gzip "$WORK/in.txt"
stop_intake split413
check split413 "$WORK/in.txt" || fail "413: delivery check failed"
[ "$(intake_stat split413 "['status'].get('413', 0) > 0")" = True ] ||
  fail "413: no request was too large"
[ "$(intake_stat split413 "['max_entries_accepted'] <= 300")" = True ] ||
  fail "413: an oversized request was accepted"

pass "datadog: gzip/zstd exactly once, 503/429 retried, 400 dropped only its batch" \
  "($refused records), 413 split, >1 MB truncated"
