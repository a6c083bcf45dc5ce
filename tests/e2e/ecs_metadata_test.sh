#!/usr/bin/env bash
# ecs_metadata against a local stand-in for the ECS task metadata endpoint v4 (node, on
# 127.0.0.1): records get ecs_cluster, ecs_task_arn, ecs_task_definition, aws_region and
# aws_availability_zone; when the endpoint fails, the failure is logged and records pass.
source "$(dirname "$0")/lib.sh"
command -v node >/dev/null || fail "node is required for the metadata stand-in"

cat > "$WORK/metadata.js" <<'JS'
'use strict';
const http = require('http');
const fs = require('fs');
const [portFile, mode] = process.argv.slice(2);
const task = {
  Cluster: 'arn:aws:ecs:us-east-2:111122223333:cluster/prod', TaskARN:
  'arn:aws:ecs:us-east-2:111122223333:task/prod/0123456789abcdef0123456789abcdef',
  Family: 'checkout', Revision: '7', AvailabilityZone: 'us-east-2b', Containers: [],
};
const container = { DockerId: 'abc', Name: 'log_router', Labels: {} };
const server = http.createServer((req, res) => {
  fs.appendFileSync(portFile + '.log', req.url + '\n');
  if (mode === 'fail') { res.writeHead(500); res.end('boom'); return; }
  if (req.url === '/v4/abc/task') { res.writeHead(200); res.end(JSON.stringify(task)); return; }
  if (req.url === '/v4/abc') { res.writeHead(200); res.end(JSON.stringify(container)); return; }
  res.writeHead(404); res.end();
});
server.listen(0, '127.0.0.1', () => fs.writeFileSync(portFile, String(server.address().port)));
JS

cat > "$WORK/ecs.yaml" <<'YAML'
inputs:
  - type: stdin
filters:
  - type: ecs_metadata
outputs:
  - type: file
    path: ${OUT}
YAML
printf 'one\ntwo\n' > "$WORK/in.txt"

run_case() { # run_case NAME MODE
  node "$WORK/metadata.js" "$WORK/$1.port" "$2" 2> "$WORK/$1.node-err" &
  PIDS+=($!)
  wait_for 10 test -s "$WORK/$1.port" || fail "$1: metadata stand-in did not start"
  local rc=0
  ECS_CONTAINER_METADATA_URI_V4="http://127.0.0.1:$(cat "$WORK/$1.port")/v4/abc" OUT="$WORK/$1.jsonl" \
    timeout 30 "$FERRY_BIN" run -c "$WORK/ecs.yaml" < "$WORK/in.txt" 2> "$WORK/$1.err" || rc=$?
  [ "$rc" = 0 ] || { cat "$WORK/$1.err"; fail "$1: ferry exited $rc"; }
}

run_case ok ok
python3 - "$WORK/ok.jsonl" <<'PY' || fail "metadata fields are wrong"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert [r['log'] for r in recs] == ['one', 'two'], recs
for r in recs:
    assert r['ecs_cluster'] == 'prod', r
    assert r['ecs_task_arn'].endswith('task/prod/0123456789abcdef0123456789abcdef'), r
    assert r['ecs_task_definition'] == 'checkout:7', r
    assert r['aws_region'] == 'us-east-2' and r['aws_availability_zone'] == 'us-east-2b', r
print('records carry the task metadata')
PY
grep -q '^/v4/abc/task$' "$WORK/ok.port.log" || fail "the task document was not requested"
pass "ecs_metadata adds the task metadata"

run_case down fail
python3 - "$WORK/down.jsonl" <<'PY' || fail "records did not pass unchanged"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert [sorted(r) for r in recs] == [['date', 'log']] * 2, recs
PY
grep -q "cannot read ECS task metadata" "$WORK/down.err" || { cat "$WORK/down.err"; fail "the failure was not logged"; }
pass "endpoint failure: logged, records unchanged"
