#!/usr/bin/env bash
# `ferry validate` and `ferry run` agree on the components' own settings checks, the outputs'
# (ferry_on_check) and the built-in inputs' and filters' (registry SettingsCheck): each bad
# setting below is refused by both with exit 1 (a config error, which systemd does not
# restart) and the same message naming file, line and key; a good config of each plugin, and
# one of the built-ins with `type: null` unquoted, validates and starts.
source "$(dirname "$0")/lib.sh"

# Credentials from the environment: the AWS chain resolves at once, with no metadata lookup.
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret AWS_EC2_METADATA_DISABLED=true

config() { # NAME OUTPUT_LINES... : a stdin → output config in $WORK/NAME.yaml
  local name=$1; shift
  { printf 'inputs:\n  - type: stdin\noutputs:\n'; printf '%s\n' "$@"; } > "$WORK/$name.yaml"
}

# NAME REGEX OUTPUT_LINES... [-- ENV...]: validate and run both exit 1 with a line matching
# REGEX, and it is the same line.
expect_refused() {
  local name=$1 regex=$2; shift 2
  local lines=() envs=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do lines+=("$1"); shift; done
  [ $# -gt 0 ] && shift && envs=("$@")
  config "$name" "${lines[@]}"
  refused_as "$name" "$regex" "${envs[@]}"
}

# NAME REGEX [ENV...]: the same for $WORK/NAME.yaml as it is.
refused_as() {
  local name=$1 regex=$2; shift 2
  local envs=("$@") rc=0 out
  out=$(env "${envs[@]}" "$FERRY_BIN" validate -c "$WORK/$name.yaml" 2>&1) || rc=$?
  [ "$rc" = 1 ] || fail "$name: validate exited $rc (expected 1): $out"
  local v_line
  v_line=$(grep -E "$regex" <<<"$out" | head -1) || fail "$name: validate says no /$regex/: $out"
  local start=$SECONDS
  rc=0
  out=$(env "${envs[@]}" timeout 20 "$FERRY_BIN" run -c "$WORK/$name.yaml" </dev/null 2>&1) || rc=$?
  [ "$rc" = 1 ] || fail "$name: run exited $rc (expected 1): $out"
  [ $((SECONDS - start)) -le 5 ] || fail "$name: run took $((SECONDS - start)) s to refuse"
  grep -qxF "$v_line" <<<"$out" || fail "$name: run does not say what validate said ($v_line): $out"
  pass "$name → $v_line"
}

expect_refused s3_short_bucket "s3_short_bucket\.yaml:6: outputs\[0\]\.bucket: 'b1' is not a valid bucket name" \
  '  - type: s3' '    region: eu-west-1' '    bucket: b1'
expect_refused s3_upper_bucket "s3_upper_bucket\.yaml:6: outputs\[0\]\.bucket: .*not a valid bucket name" \
  '  - type: s3' '    region: eu-west-1' '    bucket: My_Logs'
expect_refused s3_region "s3_region\.yaml:5: outputs\[0\]\.region: invalid 'EU WEST'" \
  '  - type: s3' "    region: 'EU WEST'" '    bucket: my-logs'
expect_refused s3_kms_without_sse "s3_kms_without_sse\.yaml:7: outputs\[0\]\.kms_key_id: only meaningful with sse" \
  '  - type: s3' '    region: eu-west-1' '    bucket: my-logs' '    kms_key_id: alias/logs'
expect_refused firehose_stream_chars "firehose_stream_chars\.yaml:5: outputs\[0\]\.delivery_stream: 'logs/prod' is not a stream name" \
  '  - type: firehose' '    delivery_stream: logs/prod' '    region: eu-west-1'
long=$(printf 's%.0s' $(seq 65))
expect_refused firehose_stream_long "firehose_stream_long\.yaml:5: outputs\[0\]\.delivery_stream: '$long' is not a stream name" \
  '  - type: firehose' "    delivery_stream: $long" '    region: eu-west-1'
expect_refused firehose_endpoint "firehose_endpoint\.yaml:7: outputs\[0\]\.endpoint: only http:// and https://" \
  '  - type: firehose' '    delivery_stream: logs' '    region: eu-west-1' '    endpoint: ftp://127.0.0.1/'
# The key comes from the environment with a stray CR/LF; the message never shows it.
expect_refused datadog_key_crlf "datadog_key_crlf\.yaml:5: outputs\[0\]\.api_key: contains control characters" \
  '  - type: datadog' '    api_key: ${DD_KEY}' '    url: http://127.0.0.1:9/api/v2/logs' \
  -- DD_KEY=$'0123456789abcdef\r\nX-Injected: 1'
out=$(DD_KEY=$'0123456789abcdef\r\nX' "$FERRY_BIN" validate -c "$WORK/datadog_key_crlf.yaml" 2>&1 || true)
! grep -q 0123456789abcdef <<<"$out" || fail "the API key was printed: $out"
expect_refused datadog_url_space "datadog_url_space\.yaml:6: outputs\[0\]\.url: must not contain spaces" \
  '  - type: datadog' '    api_key: k' '    url: "http://127.0.0.1:9/api/v2/logs?x=a b"'
expect_refused datadog_url "datadog_url\.yaml:6: outputs\[0\]\.url: expected http\(s\)://host/path" \
  '  - type: datadog' '    api_key: k' '    url: intake.example.com'
expect_refused file_mode "file_mode\.yaml:6: outputs\[0\]\.file_mode: expected an octal mode like 0640" \
  '  - type: file' "    path: $WORK/out.jsonl" '    file_mode: "0999"'

# Several outputs refused: each is reported, in config order.
config two_bad '  - type: s3' '    region: eu-west-1' '    bucket: b1' \
  '  - type: firehose' '    delivery_stream: a/b' '    region: eu-west-1'
rc=0; out=$("$FERRY_BIN" validate -c "$WORK/two_bad.yaml" 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q 'outputs\[0\]\.bucket' <<<"$out" && grep -q 'outputs\[1\]\.delivery_stream' <<<"$out" ||
  fail "not both outputs reported (rc $rc): $out"
pass "every refused output is reported"

# A good config of each plugin validates, and `run` starts it (stdin at EOF: it then stops,
# exit 0). Nothing is sent: no record comes in.
good() { # NAME OUTPUT_LINES...
  local name=$1
  config "$@"
  local rc=0 out
  out=$("$FERRY_BIN" validate -c "$WORK/$name.yaml" 2>&1) || fail "$name: good config refused: $out"
  out=$(timeout 20 "$FERRY_BIN" run -c "$WORK/$name.yaml" </dev/null 2>&1) || rc=$?
  [ "$rc" = 0 ] || fail "$name: run exited $rc: $out"
  grep -q 'started' <<<"$out" || fail "$name: run did not start: $out"
  pass "$name validates and starts"
}
good good_s3 '  - type: s3' '    region: eu-west-1' '    bucket: my-logs.example' \
  '    endpoint: http://127.0.0.1:9' '    sse: aws:kms' '    kms_key_id: alias/logs'
good good_firehose '  - type: firehose' "    delivery_stream: logs_prod-1.$(printf "x%.0s" $(seq 52))" \
  '    region: eu-west-1' '    endpoint: http://127.0.0.1:9'
good good_datadog '  - type: datadog' '    api_key: 0123456789abcdef' '    url: http://127.0.0.1:9/api/v2/logs'
good good_file '  - type: file' "    path: $WORK/out.jsonl" '    file_mode: "0600"'
good good_stdout '  - type: stdout' '    format: pretty'
good good_null '  - type: null'

# A path that cannot be opened is a runtime failure (exit 2), not a config error: validate
# accepts it (the directory may exist on the host it runs on).
config file_missing_dir '  - type: file' "    path: $WORK/no/such/dir/out.jsonl"
"$FERRY_BIN" validate -c "$WORK/file_missing_dir.yaml" >/dev/null 2>&1 || fail "validate refused a path it cannot check"
rc=0; out=$(timeout 20 "$FERRY_BIN" run -c "$WORK/file_missing_dir.yaml" </dev/null 2>&1) || rc=$?
[ "$rc" = 2 ] || fail "an unopenable file exited $rc, expected 2: $out"
pass "an unopenable path stays a runtime failure (exit 2)"

# --- The built-in inputs and filters: their settings checks run at load too ---------------
pipeline() { # NAME LINES...: the inputs and filters given, then `type: null` unquoted
  local name=$1; shift
  { printf '%s\n' "$@"; printf 'outputs:\n  - type: null\n'; } > "$WORK/$name.yaml"
}
builtin_refused() { # NAME REGEX LINES...
  local name=$1 regex=$2; shift 2
  pipeline "$name" "$@"
  refused_as "$name" "$regex"
}
LOG="$WORK/app.log"
STDIN=('inputs:' '  - type: stdin' 'filters:')
builtin_refused forward_port "forward_port\.yaml:3: inputs\[0\]\.listen: 'tcp://127\.0\.0\.1:99999': the port must be a number" \
  'inputs:' '  - type: forward' '    listen: tcp://127.0.0.1:99999'
builtin_refused forward_scheme "forward_scheme\.yaml:3: inputs\[0\]\.listen: 'udp://127\.0\.0\.1:1': expected unix:///path or tcp://host:port" \
  'inputs:' '  - type: forward' '    listen: udp://127.0.0.1:1'
builtin_refused forward_key_unix "forward_key_unix\.yaml:4: inputs\[0\]\.shared_key: the handshake applies to TCP listeners" \
  'inputs:' '  - type: forward' "    listen: unix://$WORK/f.sock" '    shared_key: k'
builtin_refused tail_multiline_start "tail_multiline_start\.yaml:4: inputs\[0\]\.multiline\.start: missing \)" \
  'inputs:' '  - type: tail' "    path: $LOG" '    multiline:' "      start: '^(\\d+'"
builtin_refused tail_multiline_preset "tail_multiline_preset\.yaml:4: inputs\[0\]\.multiline\.preset: unknown preset 'ruby'" \
  'inputs:' '  - type: tail' "    path: $LOG" '    multiline: {preset: ruby}'
builtin_refused tail_regex "tail_regex\.yaml:5: inputs\[0\]\.regex: missing \)" \
  'inputs:' '  - type: tail' "    path: $LOG" '    parser: regex' "    regex: '(?P<a>x'"
builtin_refused tail_time_format "tail_time_format\.yaml:6: inputs\[0\]\.time_format: '%Q': unsupported" \
  'inputs:' '  - type: tail' "    path: $LOG" '    parser: json' '    time_key: t' "    time_format: '%Q'"
builtin_refused tail_unknown_parser "tail_unknown_parser\.yaml:4: inputs\[0\]\.parser: .*apache" \
  'inputs:' '  - type: tail' "    path: $LOG" '    parser: apache'
builtin_refused grep_regex "grep_regex\.yaml:5: filters\[0\]\.include\.regex: missing \]" \
  "${STDIN[@]}" '  - type: grep' "    include: {field: log, regex: '[a-'}"
builtin_refused grep_exclude_field "grep_exclude_field\.yaml:5: filters\[0\]\.exclude\.field: required" \
  "${STDIN[@]}" '  - type: grep' "    exclude: {regex: x}"
builtin_refused parse_no_group "parse_no_group\.yaml:7: filters\[0\]\.regex: no named group" \
  "${STDIN[@]}" '  - type: parse' '    field: log' '    format: regex' "    regex: 'abc'"
builtin_refused rename_empty "rename_empty\.yaml:5: filters\[0\]\.fields\.a: the new name must not be empty" \
  "${STDIN[@]}" '  - type: rename_fields' '    fields: {a: ""}'
builtin_refused ecs_uri "ecs_uri\.yaml:5: filters\[0\]\.metadata_uri: 'ftp://x' is not an http\(s\):// URL" \
  "${STDIN[@]}" '  - type: ecs_metadata' '    metadata_uri: ftp://x'
builtin_refused tcp_separator "tcp_separator\.yaml:4: inputs\[0\]\.separator: must not be empty" \
  'inputs:' '  - type: tcp' '    port: 0' '    separator: ""'
builtin_refused multiline_parser "multiline_parser\.yaml:5: filters\[0\]\.parser: .*unknown parser 'nosuch'" \
  "${STDIN[@]}" '  - type: multiline' '    parser: nosuch'
builtin_refused multiline_partial "multiline_partial\.yaml:5: filters\[0\]\.mode: partial_message takes no parser" \
  "${STDIN[@]}" '  - type: multiline' '    mode: partial_message' '    parser: go'
builtin_refused null_input "null_input\.yaml:2: inputs\[0\]\.type: inputs have no null type" \
  'inputs:' '  - type: null'

# Every refused section at once, inputs and filters and outputs, in one run.
{ printf 'inputs:\n  - type: forward\n    listen: tcp://x\nfilters:\n  - type: grep\n'
  printf "    include: {field: log, regex: '('}\noutputs:\n  - type: s3\n    region: eu-west-1\n    bucket: b1\n"
} > "$WORK/all_bad.yaml"
rc=0; out=$("$FERRY_BIN" validate -c "$WORK/all_bad.yaml" 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q 'inputs\[0\]\.listen' <<<"$out" && grep -q 'filters\[0\]\.include\.regex' <<<"$out" &&
  grep -q 'outputs\[0\]\.bucket' <<<"$out" && grep -q '3 error(s)' <<<"$out" ||
  fail "not every refused section reported (rc $rc): $out"
pass "a bad input, filter and output are reported together"

# A good pipeline of built-ins validates and runs: tail (multiline) → parse (regex) → grep,
# to stdout and to `type: null` written unquoted; the ERROR record alone comes out, whole.
printf 'ERROR boom\n  at main.go:12\nINFO fine\n' > "$LOG"
pipeline good_builtins 'inputs:' '  - type: tail' "    path: $LOG" "    db: $WORK/tail.db" \
  '    read_from_head: true' '    exit_on_eof: true' "    multiline: {start: '^[A-Z]+ ', timeout: 100ms}" \
  'filters:' '  - type: parse' '    format: regex' "    regex: '^(?P<level>[A-Z]+) '" '    keep_original: true' \
  '  - type: grep' "    include: {field: level, regex: '^ERROR\$'}"
printf '  - type: stdout\n' >> "$WORK/good_builtins.yaml"
out=$("$FERRY_BIN" validate -c "$WORK/good_builtins.yaml" 2>&1) || fail "good built-ins refused: $out"
grep -q '"null"\|type: null' <<<"$out" || fail "validate does not show the null output: $out"
rc=0
timeout 20 "$FERRY_BIN" run -c "$WORK/good_builtins.yaml" </dev/null >"$WORK/good.out" 2>"$WORK/good.err" || rc=$?
[ "$rc" = 0 ] || fail "good built-ins: run exited $rc: $(cat "$WORK/good.err")"
grep -q 'boom\\n  at main.go:12' "$WORK/good.out" || fail "the ERROR record did not come out whole: $(cat "$WORK/good.out")"
! grep -q fine "$WORK/good.out" || fail "grep let the INFO record through: $(cat "$WORK/good.out")"
[ "$(wc -l <"$WORK/good.out")" = 1 ] || fail "expected one record: $(cat "$WORK/good.out")"
pass "tail → parse → grep → stdout and unquoted null: validates, runs, one record"

# What only start-up can know stays a runtime failure (exit 2): a forward port already taken.
"$E2E_PYTHON" -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True); time.sleep(20)' >"$WORK/held.port" &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/held.port" ] && break; sleep 0.05; done
[ -s "$WORK/held.port" ] || fail "the port holder did not start"
pipeline port_taken 'inputs:' '  - type: forward' "    listen: tcp://127.0.0.1:$(cat "$WORK/held.port")"
"$FERRY_BIN" validate -c "$WORK/port_taken.yaml" >/dev/null 2>&1 || fail "validate refused a port it cannot check"
rc=0; out=$(timeout 20 "$FERRY_BIN" run -c "$WORK/port_taken.yaml" </dev/null 2>&1) || rc=$?
[ "$rc" = 2 ] || fail "a taken port exited $rc, expected 2: $out"
pass "a port in use stays a runtime failure (exit 2)"
