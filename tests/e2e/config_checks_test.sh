#!/usr/bin/env bash
# `ferry validate` and `ferry run` agree on the outputs' own option checks (ferry_on_check):
# each bad setting below is refused by both with exit 1 (a config error, which systemd does
# not restart) and the same message naming file, line and key; a good config of each plugin
# validates and starts.
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
  local rc=0 out
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
good good_null '  - type: "null"'

# A path that cannot be opened is a runtime failure (exit 2), not a config error: validate
# accepts it (the directory may exist on the host it runs on).
config file_missing_dir '  - type: file' "    path: $WORK/no/such/dir/out.jsonl"
"$FERRY_BIN" validate -c "$WORK/file_missing_dir.yaml" >/dev/null 2>&1 || fail "validate refused a path it cannot check"
rc=0; out=$(timeout 20 "$FERRY_BIN" run -c "$WORK/file_missing_dir.yaml" </dev/null 2>&1) || rc=$?
[ "$rc" = 2 ] || fail "an unopenable file exited $rc, expected 2: $out"
pass "an unopenable path stays a runtime failure (exit 2)"
