#!/usr/bin/env bash
# Retries are scheduled per output: stdin → datadog while the intake answers 503 to everything
# for 4 s. The 30 requests waiting do not each retry on their own timer: one probe at a time
# goes, at the backoff rate (0.1, 0.2, 0.4, 0.5 s... with jitter: at most ~14 in 4 s with the
# 4 requests in flight when it began; per-request backoff sent hundreds), and once the intake
# is back every record arrives exactly once.
source "$(dirname "$0")/lib.sh"

command -v node >/dev/null || fail "node is required for the intake stand-in"
N=30000
export DD_API_KEY="e2e-key-0123456789abcdef01234567"
python3 -c "
import sys
with open(sys.argv[1], 'w') as f:
    for i in range(int(sys.argv[2])): f.write('outage %06d\n' % i)" "$WORK/in.txt" "$N"

node "$E2E_DIR/datadog_intake.js" --port-file "$WORK/port" --api-key "$DD_API_KEY" \
  --out "$WORK/out" --encoding none --fail-503-ms 4000 2> "$WORK/intake-err" &
PIDS+=($!)
wait_for 10 test -s "$WORK/port" || { cat "$WORK/intake-err"; fail "intake did not start"; }
PORT=$(cat "$WORK/port")
cat > "$WORK/ferry.yaml" <<YAML
service:
  grace_period: 60s
inputs:
  - type: stdin
outputs:
  - type: datadog
    api_key: \${DD_API_KEY}
    url: http://127.0.0.1:$PORT/api/v2/logs
    service: checkout
    source: ferry-e2e
    tags: env:e2e
    compression: none
    retry: { initial_backoff: 200ms, max_backoff: 1s }
YAML
env -u ECS_CONTAINER_METADATA_URI_V4 timeout 60 "$FERRY_BIN" run -c "$WORK/ferry.yaml" \
  < "$WORK/in.txt" > /dev/null 2> "$WORK/ferry.err" || { tail -20 "$WORK/ferry.err"; fail "ferry exited $?"; }

python3 - "http://127.0.0.1:$PORT/stats" "$WORK/in.txt" "$WORK/out" <<'PY' || { tail -5 "$WORK/ferry.err"; fail "outage: check failed"; }
import collections, json, sys, urllib.request
stats = json.loads(urllib.request.urlopen(sys.argv[1], timeout=5).read())
want = open(sys.argv[2]).read().split('\n')[:-1]
got = collections.Counter(json.loads(l) for l in open(sys.argv[3]) if l.strip())
assert stats['invalid_requests'] == 0, stats['invalid_reasons']
missing = [l for l in want if got[l] == 0]
dups = sum(c - 1 for c in got.values() if c > 1)
assert not missing and dups == 0, f"{len(missing)} missing, {dups} duplicates"
print(f"outage: {stats['outage_requests']} requests during the 4 s outage, {stats['accepted_requests']} "
      f"accepted from {stats['first_accepted_ms']} ms to {stats['last_accepted_ms']} ms")
assert 2 <= stats['outage_requests'] <= 16, f"{stats['outage_requests']} requests during the outage"
PY
pass "outage: one probe at a time while the sink failed, every record once after"
