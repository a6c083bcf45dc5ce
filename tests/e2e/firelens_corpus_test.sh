#!/usr/bin/env bash
# Every folder of the FireLens corpus (shared/testdata/firelens/configs) through the real
# binary: `ferry validate --fluent-bit-config` and `ferry convert`, with the folder's ENV.
# The table states what each one does today: accepted, or refused with a fragment of the
# error. A config that moves either way, or a new folder, fails the test until the table
# says so. Also: the budget rule shows in validate's output (Mem_Buf_Limit 25MB of the
# ECS agent's forward input → the Firehose output's buffer.max_bytes).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/firelens_lib.sh"
CORPUS=$(firelens_corpus)

declare -A EXPECT=(
  [afb-configs-minimize-log-loss]=accept
  [afb-configs-output-metrics-healthcheck]=accept
  [afb-configs-plugin-metrics-to-cloudwatch]="refuse:[INPUT exec]: input 'exec' has no ferry equivalent"
  [afb-ecs-cloudwatch]=accept
  [afb-ecs-firehose]=accept
  [afb-ecs-s3]=accept
  [blog-datadog-firehose]=accept
  [ecs-agent-unit-test]="refuse:[FILTER grep] Regex: regex not supported"
  [ecs-captured-under-the-hood]=accept
  [ecs-datadog-parse-json]=accept
  [ecs-ec2-datadog-literal-key]=accept
  [ecs-fargate-datadog]=accept
  [ecs-fargate-envoy-parser]=accept
  [ecs-fargate-firehose-nometa]=accept
  [ecs-fargate-firehose]=accept
  [ecs-fargate-include-exclude]=accept
  [ecs-file-efs-output-in-extra]=accept
  [ecs-file-extra-conf]=accept
  [ecs-file-multiline-partial]=accept
  [ecs-file-multiline]=accept
  [ecs-nerves-hub-datadog]=accept
  [ecs-s3-add-keys]=accept
  [ecs-s3-debug-logging]=accept
  [ecs-s3-multiple-destinations]=accept
  [ecs-s3-parse-apache]=accept
  [ecs-s3-parse-json]=accept
  [fe-oomkill-full-filesystem]=accept
  [fe-oomkill-full-memory]=accept
  [user-issue381-modify-wrapper]=accept
  [user-issue45-nginx-es]="refuse:[OUTPUT es]: output 'es' has no ferry equivalent"
  [user-jp-healthcheck-lookahead]=accept
  [user-moj-syslog-firehose]=accept
)

# run_in NAME CMD...: CMD in the folder with its ENV; sets RC, output in $WORK/NAME.{out,err}.
run_in() {
  local name=$1; shift
  RC=0
  (firelens_in "$CORPUS/$name" timeout 20 "$@") > "$WORK/$name.out" 2> "$WORK/$name.err" || RC=$?
}

accepted=0 refused=0 problems=()
seen=0
for dir in "$CORPUS"/*/; do
  name=$(basename "$dir")
  seen=$((seen + 1))
  want=${EXPECT[$name]:-}
  [ -n "$want" ] || { problems+=("$name: not in the table (add it)"); continue; }
  run_in "$name" "$FERRY_BIN" validate --fluent-bit-config fluent-bit.conf
  if [ "$want" = accept ]; then
    if [ "$RC" != 0 ]; then
      problems+=("$name: expected accepted, validate exited $RC: $(head -c 400 "$WORK/$name.err")")
      continue
    fi
    run_in "$name" "$FERRY_BIN" convert fluent-bit.conf
    [ "$RC" = 0 ] || { problems+=("$name: validates but convert exited $RC"); continue; }
    accepted=$((accepted + 1))
  else
    fragment=${want#refuse:}
    if [ "$RC" = 0 ]; then
      problems+=("$name: now accepted (was refused: $fragment): update the table")
    elif [ "$RC" != 1 ] || ! grep -qF -- "$fragment" "$WORK/$name.err"; then
      problems+=("$name: validate exited $RC without '$fragment': $(head -c 400 "$WORK/$name.err")")
    else
      grep -qE '^ferry: [^ ]+:[0-9]+: ' "$WORK/$name.err" || problems+=("$name: the error names no file:line")
      refused=$((refused + 1))
    fi
  fi
done
[ "$seen" = "${#EXPECT[@]}" ] || problems+=("the corpus has $seen folders, the table ${#EXPECT[@]}")
if [ "${#problems[@]}" -gt 0 ]; then
  printf '  %s\n' "${problems[@]}" >&2
  fail "${#problems[@]} corpus config(s) differ from the table"
fi
pass "$seen corpus configs: $accepted accepted, $refused refused as the table says"

# The budget rule, visible in validate's resolved config.
run_in afb-configs-output-metrics-healthcheck "$FERRY_BIN" validate --fluent-bit-config fluent-bit.conf
grep -A40 'type: firehose' "$WORK/afb-configs-output-metrics-healthcheck.out" | grep -q 'max_bytes: 25MB' ||
  fail "Mem_Buf_Limit 25MB did not become the firehose output's buffer.max_bytes"
run_in afb-configs-output-metrics-healthcheck "$FERRY_BIN" convert fluent-bit.conf
grep -q '^# note: budget: 25000000 bytes of input memory (fluent-bit.conf:4: Mem_Buf_Limit 25MB)' \
  "$WORK/afb-configs-output-metrics-healthcheck.out" || fail "convert does not explain the budget"
pass "Mem_Buf_Limit 25MB bounds the firehose output (buffer.max_bytes 25MB), explained by convert"
