#!/usr/bin/env bash
# forward → concat_partial (on by default for forward inputs) → file: 100 KiB lines that the
# client splits into 16 KiB partial records, as Docker does, arrive as one record each, and
# the interleaved parts of two containers stay apart. With `enabled: false` the parts pass.
source "$(dirname "$0")/lib.sh"
command -v node >/dev/null || fail "node is required for the forward client"

run_case() { # run_case NAME EXTRA_FILTERS_YAML
  local name=$1 filters=$2
  cat > "$WORK/$name.yaml" <<YAML
inputs:
  - type: forward
    listen: unix://$WORK/$name.sock
$filters
outputs:
  - type: file
    path: $WORK/$name.jsonl
YAML
  "$FERRY_BIN" run -c "$WORK/$name.yaml" 2> "$WORK/$name.err" &
  local pid=$!
  PIDS+=("$pid")
  wait_for 10 test -S "$WORK/$name.sock" || { cat "$WORK/$name.err"; fail "$name: ferry did not listen"; }
  timeout 60 node "$E2E_DIR/concat_partial_client.js" --path "$WORK/$name.sock" --lines 3 \
    > "$WORK/$name.client" || { cat "$WORK/$name.client" "$WORK/$name.err"; fail "$name: client failed"; }
  kill -TERM "$pid"
  wait_exit "$pid" 30
  [ "$RC" = 0 ] || { cat "$WORK/$name.err"; fail "$name: ferry exited $RC"; }
}

run_case default ""
python3 - "$WORK/default.jsonl" <<'PY' || fail "default: reassembly check failed"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
longs = [r for r in recs if len(r.get('log', '')) > 1000]
shorts = [r for r in recs if r.get('log', '').startswith('short-')]
assert len(shorts) == 3, f'{len(shorts)} short records'
assert len(longs) == 6, f'{len(longs)} long records, expected 6: {[len(r["log"]) for r in recs]}'
for r in longs:
    assert len(r['log']) == 102400, len(r['log'])
    c = r['container_name'].lstrip('/')
    assert r['log'].startswith(c + '-line-'), r['log'][:30]
    assert r['container_id'].startswith(c), (c, r['container_id'])
    assert not any(k.startswith('partial_') for k in r), sorted(r)
    n = int(r['log'].split(':')[0].rsplit('-', 1)[1])
    alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
    head = f'{c}-line-{n}:'
    body = ''.join(alphabet[(i * 7 + n + len(c)) % 36] for i in range(102400 - len(head)))
    assert r['log'] == head + body, f'{c} line {n}: content differs'
print('6 lines of 100 KiB reassembled from 7 parts each, two containers kept apart')
PY
pass "partial records reassembled"

run_case disabled "filters:
  - type: concat_partial
    enabled: false"
n=$(grep -c '"partial_message":"true"' "$WORK/disabled.jsonl" || true)
[ "$n" = 42 ] || fail "disabled: expected the 42 parts to pass as they are, got $n"
pass "enabled: false passes the parts through"
