#!/usr/bin/env bash
# `ferry tail`: follows files from their end (or --from-head), prints records as JSON lines
# (--json, with --parser) or in the pretty form, picks up a file created later, and exits 0
# on SIGINT and on SIGTERM. Also: a tail section passes `ferry validate`, and a bad regex
# stops `ferry run` with a message naming the option.
source "$(dirname "$0")/lib.sh"

printf '{"level":"info","msg":"first","n":1}\nplain old line\n' > "$WORK/app.log"
lines() { [ -f "$1" ] && wc -l < "$1" || echo 0; }
has_lines() { [ "$(lines "$1")" -ge "$2" ]; }
exited() { ! kill -0 "$1" 2>/dev/null; }
stop_with() { # SIGNAL PID: the command must exit 0
  kill "-$1" "$2"
  wait_for 10 exited "$2" || fail "ferry tail ignored SIG$1"
  local rc=0
  wait "$2" || rc=$?
  [ "$rc" = 0 ] || fail "ferry tail exited $rc on SIG$1"
}

# --json --parser json --from-head, then a new line; SIGINT ends it.
"$FERRY_BIN" tail --json --parser json --from-head "$WORK/app.log" > "$WORK/json.out" 2> "$WORK/err1.txt" &
pid=$!; PIDS+=("$pid")
wait_for 10 has_lines "$WORK/json.out" 2 || { cat "$WORK/err1.txt"; fail "existing lines not printed with --from-head"; }
echo '{"level":"warn","msg":"second"}' >> "$WORK/app.log"
wait_for 10 has_lines "$WORK/json.out" 3 || fail "appended line not printed"
stop_with INT "$pid"
python3 - "$WORK/json.out" <<'PY' || fail "--json output is wrong"
import sys, json
recs = [json.loads(l) for l in open(sys.argv[1])]
assert [r.get("msg", r.get("log")) for r in recs] == ["first", "plain old line", "second"], recs
assert recs[0]["n"] == 1 and recs[0]["level"] == "info" and "date" in recs[0], recs[0]
PY

# Pretty form, from the end: only what is appended shows; SIGTERM ends it.
"$FERRY_BIN" tail "$WORK/app.log" > "$WORK/pretty.out" 2> "$WORK/err2.txt" &
pid=$!; PIDS+=("$pid")
sleep 0.5
echo 'level=error msg="third one" user=42' >> "$WORK/app.log"
wait_for 10 has_lines "$WORK/pretty.out" 1 || { cat "$WORK/err2.txt"; fail "pretty: appended line not printed"; }
stop_with TERM "$pid"
[ "$(lines "$WORK/pretty.out")" = 1 ] || { cat "$WORK/pretty.out"; fail "pretty: old lines printed without --from-head"; }
grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+ .*third one' "$WORK/pretty.out" || { cat "$WORK/pretty.out"; fail "pretty form unexpected"; }
if grep -q $'\x1b\[' "$WORK/pretty.out"; then fail "colour codes written to a file"; fi

# --parser logfmt on a file that does not exist yet: read from its start once created.
"$FERRY_BIN" tail --json --parser logfmt "$WORK/later.log" > "$WORK/later.out" 2> "$WORK/err3.txt" &
pid=$!; PIDS+=("$pid")
sleep 0.3
printf 'level=info msg="created later"\n' > "$WORK/later.log"
wait_for 10 has_lines "$WORK/later.out" 1 || { cat "$WORK/err3.txt"; fail "a file created later was not followed"; }
stop_with INT "$pid"
grep -q '"msg":"created later"' "$WORK/later.out" || { cat "$WORK/later.out"; fail "logfmt fields missing"; }

# Usage errors exit 1.
rc=0; "$FERRY_BIN" tail > /dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "ferry tail without a path exited $rc"
rc=0; "$FERRY_BIN" tail --bogus x > /dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "ferry tail --bogus exited $rc"

# The input type in a config: validate accepts it; a bad regex is refused at start, named.
cat > "$WORK/cfg.yaml" <<YAML
inputs:
  - type: tail
    path: [ "$WORK/*.log", "$WORK/other/*.txt" ]
    exclude_path: "*.gz"
    parser: regex
    regex: '(?P<msg>.*'
    multiline: { preset: java, timeout: 3s }
outputs:
  - type: "null"
YAML
"$FERRY_BIN" validate -c "$WORK/cfg.yaml" > "$WORK/validate.out" 2>&1 || { cat "$WORK/validate.out"; fail "validate refused a tail section"; }
rc=0; timeout 20 "$FERRY_BIN" run -c "$WORK/cfg.yaml" > /dev/null 2> "$WORK/run.err" || rc=$?
[ "$rc" != 0 ] || fail "ferry run started with an invalid regex"
grep -q "regex" "$WORK/run.err" || { cat "$WORK/run.err"; fail "the error does not name the regex option"; }
pass "ferry tail: --json/--parser, pretty, files created later, SIGINT/SIGTERM exit 0; tail config validated"
