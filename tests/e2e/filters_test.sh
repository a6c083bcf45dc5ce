#!/usr/bin/env bash
# Every record filter through the real binary: stdin lines (kLine batches) and forward
# records (msgpack batches) → add_fields (${VAR}), grep, parse, rename_fields, remove_fields,
# sample → file; the output is checked record by record. A bad regex is a start-up error.
source "$(dirname "$0")/lib.sh"
command -v node >/dev/null || fail "node is required for the forward client"

python3 - "$WORK/in.txt" <<'PY'
import json, sys
with open(sys.argv[1], 'w') as f:
    for i in range(3000):
        if i % 3 == 0:
            f.write('GET /health %d\n' % i)
        elif i % 3 == 1:
            f.write(json.dumps({'level': 'info', 'n': i, 'secret': 's3cr3t', 'msg': 'hello %d' % i}) + '\n')
        else:
            f.write('level=warn n=%d msg=plain\n' % i)
PY

cat > "$WORK/stdin.yaml" <<'YAML'
inputs:
  - type: stdin
    tag: app
filters:
  - type: add_fields
    match: "app"
    fields: { env: "${FILTER_ENV}", team: "${FILTER_TEAM:-core}" }
  - type: grep
    match: "a*"
    exclude: { field: log, regex: '^GET /health' }
  - type: parse
    format: json
  - type: parse
    format: logfmt
  - type: rename_fields
    fields: { msg: message }
  - type: remove_fields
    fields: [secret]
  - type: add_fields
    match: "other"
    fields: { never: "applied" }
outputs:
  - type: file
    path: ${OUT}
YAML
rc=0
FILTER_ENV=e2e OUT="$WORK/stdin.jsonl" timeout 60 "$FERRY_BIN" run -c "$WORK/stdin.yaml" \
  < "$WORK/in.txt" 2> "$WORK/stdin.err" || rc=$?
[ "$rc" = 0 ] || { cat "$WORK/stdin.err"; fail "stdin run exited $rc"; }
python3 - "$WORK/stdin.jsonl" <<'PY' || fail "stdin: filtered records are wrong"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 2000, f'{len(recs)} records, expected 2000 (health checks excluded)'
for r in recs:
    assert r['env'] == 'e2e' and r['team'] == 'core', r
    assert 'secret' not in r and 'never' not in r and 'log' not in r, r
    assert r['message'] in ('plain',) or r['message'].startswith('hello '), r
    assert r['level'] in ('info', 'warn'), r
    assert str(r['n']) == r['message'].split(' ')[-1] or r['message'] == 'plain', r
print('stdin: 2000 records enriched, parsed, renamed, trimmed; 1000 excluded')
PY
pass "filters on line batches"

cat > "$WORK/forward.yaml" <<YAML
inputs:
  - type: forward
    listen: unix://$WORK/fwd.sock
filters:
  - type: sample
    rate: 10
  - type: grep
    include: { field: source, regex: '^stdout$' }
  - type: add_fields
    overwrite: false
    fields: { container_id: "not-used", region: eu }
outputs:
  - type: file
    path: $WORK/forward.jsonl
YAML
"$FERRY_BIN" run -c "$WORK/forward.yaml" 2> "$WORK/forward.err" &
pid=$!
PIDS+=("$pid")
wait_for 10 test -S "$WORK/fwd.sock" || { cat "$WORK/forward.err"; fail "forward: ferry did not listen"; }
timeout 60 node "$E2E_DIR/forward_client.js" --path "$WORK/fwd.sock" --count 1000 --tag app \
  > "$WORK/client.out" || { cat "$WORK/client.out"; fail "forward client failed"; }
kill -TERM "$pid"
wait_exit "$pid" 30
[ "$RC" = 0 ] || { cat "$WORK/forward.err"; fail "forward run exited $RC"; }
python3 - "$WORK/forward.jsonl" <<'PY' || fail "forward: filtered records are wrong"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
# sample keeps records 0, 10, 20, ... (100 of them, all even: source stdout).
assert len(recs) == 100, f'{len(recs)} records, expected 100'
for r in recs:
    assert r['n'] % 10 == 0 and r['source'] == 'stdout', r
    assert r['container_id'] == 'c0ffee%d' % (r['n'] % 7) and r['region'] == 'eu', r
print('forward: 1000 → sample 1/10 → 100 records, fields kept and added')
PY
pass "filters on msgpack batches"

cat > "$WORK/bad.yaml" <<'YAML'
inputs:
  - type: stdin
filters:
  - type: grep
    include: { field: log, regex: '(unclosed' }
outputs:
  - type: file
    path: /dev/null
YAML
rc=0
timeout 20 "$FERRY_BIN" run -c "$WORK/bad.yaml" < /dev/null 2> "$WORK/bad.err" || rc=$?
[ "$rc" != 0 ] || fail "a bad regex was accepted"
grep -q "include.regex" "$WORK/bad.err" || { cat "$WORK/bad.err"; fail "the error does not name include.regex"; }
pass "bad regex refused"
