#!/usr/bin/env bash
# The multiline filter in mode partial_message (Fluent Bit's FireLens example config): the
# 16 KiB partial records Docker's fluentd log driver makes of 100 KiB lines, sent over forward
# with two containers' parts interleaved, come out as one record per line, each container's
# lines whole and apart. (It stands for the concat_partial ferry adds for forward inputs.)
source "$(dirname "$0")/lib.sh"
command -v node >/dev/null || fail "node is required for the forward client"

cat > "$WORK/cfg.yaml" <<YAML
inputs:
  - type: forward
    listen: unix://$WORK/fwd.sock
filters:
  - type: multiline
    mode: partial_message
    key_content: log
outputs:
  - type: file
    path: $WORK/out.jsonl
YAML
"$FERRY_BIN" run -c "$WORK/cfg.yaml" 2> "$WORK/err.txt" &
pid=$!; PIDS+=("$pid")
wait_for 10 test -S "$WORK/fwd.sock" || { cat "$WORK/err.txt"; fail "ferry did not listen"; }
timeout 60 node "$E2E_DIR/concat_partial_client.js" --path "$WORK/fwd.sock" --lines 3 \
  > "$WORK/client.txt" || { cat "$WORK/client.txt" "$WORK/err.txt"; fail "client failed"; }
kill -TERM "$pid"; wait_exit "$pid" 30
[ "$RC" = 0 ] || { cat "$WORK/err.txt"; fail "ferry exited $RC"; }
python3 - "$WORK/out.jsonl" <<'PY' || fail "partial records not reassembled"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
whole = {}
for r in recs:
    assert not any(k.startswith('partial_') for k in r), sorted(r)
    if r['log'].startswith('short-'):
        continue
    c = r['container_name'].lstrip('/')
    assert r['container_id'].startswith(c) and r['log'].startswith(c + '-line-'), r['log'][:40]
    assert len(r['log']) == 102400, len(r['log'])
    whole.setdefault(c, set()).add(r['log'].split(':')[0])
assert len(recs) == 9, len(recs)
assert sorted(len(v) for v in whole.values()) == [3, 3], whole
PY
pass "interleaved partial records of two containers reassembled by multiline mode partial_message"
