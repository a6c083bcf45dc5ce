#!/usr/bin/env bash
# Fluent Bit's regexes (Onigmo) through the real binary. Real FireLens configs whose only
# refusal was their regexes (parsers.conf's (?<name>...) groups and /.../ delimiters, the ELB
# health-check look-ahead) validate; one whose regex Onigmo refuses too stays refused with
# file and line. Then `run --fluent-bit-config` with the health-check Exclude and the apache2
# parser of Fluent Bit's parsers.conf: health-check lines are dropped, every other line is
# kept and parsed, and the look-ahead's switch to PCRE2 is logged once.
source "$(dirname "$0")/lib.sh"
command -v node >/dev/null || fail "node is required for the forward client"
DATA="$FERRY_SOURCE_DIR/tests/data"

# validate_corpus NAME: `ferry validate --fluent-bit-config` in the config's folder, with its
# ENV's dummy values; sets RC and leaves stderr in $WORK/NAME.err.
validate_corpus() {
  local dir="$DATA/firelens/$1"
  RC=0
  (set -a; source "$dir/ENV"; set +a; cd "$dir" &&
    timeout 20 "$FERRY_BIN" validate --fluent-bit-config fluent-bit.conf) \
    > /dev/null 2> "$WORK/$1.err" || RC=$?
}
for name in ecs-s3-parse-apache user-jp-healthcheck-lookahead user-moj-syslog-firehose; do
  validate_corpus "$name"
  [ "$RC" = 0 ] || { cat "$WORK/$name.err"; fail "$name: validate exited $RC"; }
done
pass "three corpus configs with Onigmo regexes validate"
validate_corpus ecs-agent-unit-test
[ "$RC" = 1 ] || fail "ecs-agent-unit-test: validate exited $RC, expected 1"
grep -q 'fluent-bit.conf:21: \[FILTER grep\] Regex: regex not supported' \
  "$WORK/ecs-agent-unit-test.err" || { cat "$WORK/ecs-agent-unit-test.err"; fail "no file:line"; }
pass "a regex Onigmo refuses (*failure*) is refused with file and line"

# The user's health-check filter, word for word from the corpus config.
EXCLUDE=$(grep -m1 '^ *Exclude' "$DATA/firelens/user-jp-healthcheck-lookahead/extra.conf")
[[ "$EXCLUDE" == *'(?='* ]] || fail "the corpus filter has no look-ahead: $EXCLUDE"
cat > "$WORK/fluent-bit.conf" <<CONF
[SERVICE]
    Flush 1
    Parsers_File $DATA/fluent-bit-parsers/parsers.conf

[INPUT]
    Name forward
    unix_path $WORK/fluent.sock

[FILTER]
    Name    grep
    Match   *-firelens-*
$EXCLUDE

[FILTER]
    Name         parser
    Match        *
    Key_Name     log
    Parser       apache2
    Reserve_Data On

[OUTPUT]
    Name  stdout
    Match *
    Format json_lines
CONF

python3 - "$WORK/lines.txt" <<'PY'
import sys
with open(sys.argv[1], 'w') as f:
    for i in range(300):
        agent = 'ELB-HealthChecker/2.0' if i % 3 == 0 else 'Mozilla/5.0 (X11; Linux x86_64)'
        f.write('10.0.%d.%d - - [01/May/2024:12:00:%02d +0000] "GET /item/%d HTTP/1.1" 200 %d "-" "%s"\n'
                % (i // 256, i % 256, i % 60, i, 100 + i, agent))
PY

"$FERRY_BIN" run --fluent-bit-config "$WORK/fluent-bit.conf" > "$WORK/out.jsonl" 2> "$WORK/run.err" &
FERRY_PID=$!
PIDS+=($FERRY_PID)
wait_for 10 test -S "$WORK/fluent.sock" || { cat "$WORK/run.err"; fail "ferry did not listen"; }
timeout 60 node "$E2E_DIR/forward_client.js" --path "$WORK/fluent.sock" --count 300 \
  --lines "$WORK/lines.txt" --tag app-firelens-0123 > "$WORK/client.out" ||
  { cat "$WORK/client.out" "$WORK/run.err"; fail "forward client failed"; }
lines_at_least() { [ -f "$1" ] && [ "$(wc -l < "$1")" -ge "$2" ]; }
wait_for 20 lines_at_least "$WORK/out.jsonl" 200 ||
  { tail "$WORK/run.err"; fail "stdout: $(wc -l < "$WORK/out.jsonl") of 200 records"; }
kill -TERM "$FERRY_PID"
wait_exit "$FERRY_PID" 30
[ "$RC" = 0 ] || { cat "$WORK/run.err"; fail "ferry exited $RC"; }

python3 - "$WORK/out.jsonl" <<'PY' || fail "the records are not as expected"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 200, f'{len(recs)} records, expected 200 (300 less 100 health checks)'
assert not any('ELB-HealthChecker' in json.dumps(r) for r in recs), 'a health check got through'
items = sorted(int(r['path'].rsplit('/', 1)[1]) for r in recs)
assert items == [i for i in range(300) if i % 3], 'lines lost or duplicated'
for r in recs:
    i = int(r['path'].rsplit('/', 1)[1])
    assert r['host'] == '10.0.%d.%d' % (i // 256, i % 256) and r['code'] == '200', r
    assert r['method'] == 'GET' and r['size'] == str(100 + i), r
    assert r['agent'].startswith('Mozilla/5.0'), r
    # apache2's Time_Format gives the record its time; without Time_Keep the field goes.
    assert 'time' not in r, r
    assert r['date'].startswith('2024-05-01T12:00:%02d' % (i % 60)), r
print('200 of 300 records: the health checks dropped, the rest parsed by apache2 with its time')
PY
n=$(grep -c 'which RE2 cannot run: using PCRE2' "$WORK/run.err" || true)
[ "$n" = 1 ] || { cat "$WORK/run.err"; fail "expected one PCRE2 log line, got $n"; }
grep -q 'uses look-ahead' "$WORK/run.err" || fail "the log line does not say why"
pass "run --fluent-bit-config: ELB health checks dropped by the look-ahead, apache2 parses the rest (time read, field dropped)"
