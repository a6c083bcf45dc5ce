#!/usr/bin/env bash
# buffer.max_bytes auto, end to end: the budgets ferry gives its outputs without a memory limit,
# and inside a real cgroup with one (a child of the cgroup this test runs in, with a 128 MiB
# limit: v2 memory.max, or v1 memory.limit_in_bytes on a hybrid host), as `ferry validate`
# reports them and as the running daemon exports them (ferry_output_buffer_max_bytes).
source "$(dirname "$0")/lib.sh"

cat > "$WORK/two.yaml" <<YAML
inputs:
  - type: forward
    listen: unix://$WORK/fwd.sock
outputs:
  - type: stdout
    name: first
  - type: file
    path: /dev/null
  - type: null
  - type: stdout
    name: small
    buffer: { max_bytes: 3MiB }
YAML

# 1. No limit (this test's own cgroup must have none, or step 1 checks the wrong rule).
"$FERRY_BIN" validate -c "$WORK/two.yaml" > "$WORK/v.out" 2> "$WORK/v.err" || { cat "$WORK/v.err"; fail "validate failed"; }
if grep -q 'cgroup memory limit [0-9]' "$WORK/v.err"; then
  echo "note: this test runs under a memory limit already: $(grep memory: "$WORK/v.err")"
else
  grep -qF 'memory: no cgroup memory limit; outputs at buffer.max_bytes auto share the fixed default 24MiB: 12MiB each for 2 output(s)' "$WORK/v.err" ||
    fail "no limit: unexpected rule: $(cat "$WORK/v.err")"
  [ "$(grep -c 'max_bytes: auto}  # = 12MiB' "$WORK/v.out")" = 2 ] || fail "no limit: the two shares are not 12MiB: $(grep max_bytes "$WORK/v.out")"
  grep -q 'max_bytes: auto}  # = 4MiB' "$WORK/v.out" || fail "no limit: null did not get 4MiB"
  grep -q 'max_bytes: 3MiB}' "$WORK/v.out" || fail "an explicit budget was not kept: $(grep max_bytes "$WORK/v.out")"
  pass "no cgroup limit: 24MiB shared, 12MiB each for stdout and file, 4MiB for null, 3MiB kept"
fi

# A bad value names file, line and key.
printf 'inputs:\n  - type: stdin\noutputs:\n  - type: stdout\n    buffer:\n      max_bytes: plenty\n' > "$WORK/bad.yaml"
rc=0; "$FERRY_BIN" validate -c "$WORK/bad.yaml" > /dev/null 2> "$WORK/bad.err" || rc=$?
[ "$rc" = 1 ] || fail "max_bytes: plenty: exit $rc, expected 1"
grep -q "bad.yaml:6.*outputs\[0\].buffer.max_bytes.*'plenty' is neither 'auto' nor a size" "$WORK/bad.err" ||
  fail "max_bytes: plenty: message does not name file:line:key: $(cat "$WORK/bad.err")"
pass "buffer.max_bytes: plenty → exit 1 naming bad.yaml:6 outputs[0].buffer.max_bytes"

# 2. Under a real 128 MiB limit: a child cgroup of ours.
LIMIT=$((128 << 20))
CG=""
own_v2=$(sed -n 's/^0:://p' /proc/self/cgroup)
own_v1=$(sed -n 's/^[0-9]*:\([^:]*,\)\{0,1\}memory\(,[^:]*\)\{0,1\}:\(.*\)$/\3/p' /proc/self/cgroup)
if [ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
  parent=/sys/fs/cgroup${own_v2%/}
  [ -d "$parent" ] || parent=/sys/fs/cgroup
  CG="$parent/ferry-e2e-$$"
  FILE=memory.max
elif [ -n "$own_v1" ] && [ -d /sys/fs/cgroup/memory ]; then
  parent=/sys/fs/cgroup/memory${own_v1%/}
  [ -d "$parent" ] || parent=/sys/fs/cgroup/memory
  CG="$parent/ferry-e2e-$$"
  FILE=memory.limit_in_bytes
fi
remove_cgroup() {
  [ -n "$CG" ] && [ -d "$CG" ] || return 0
  for p in $(cat "$CG/cgroup.procs" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  for _ in $(seq 50); do rmdir "$CG" 2>/dev/null && return 0; sleep 0.1; done
}
trap 'remove_cgroup; cleanup' EXIT
if [ -z "$CG" ] || ! mkdir "$CG" 2>/dev/null || ! echo "$LIMIT" > "$CG/$FILE" 2>/dev/null; then
  # Only where cgroups cannot be written (not root, read-only cgroupfs): say so loudly.
  echo "SKIPPED: cannot create a memory cgroup here (${CG:-no memory controller}); only the no-limit rule was checked"
  exit 0
fi
# The command joins the cgroup and becomes the process (exec): started with &, $! is its PID.
JOIN='echo $$ > "$1/cgroup.procs" && shift && exec "$@"'
in_cgroup() { sh -c "$JOIN" sh "$CG" "$@"; }

in_cgroup "$FERRY_BIN" validate -c "$WORK/two.yaml" > "$WORK/v2.out" 2> "$WORK/v2.err" ||
  { cat "$WORK/v2.err"; fail "validate in the cgroup failed"; }
grep -qF 'memory: cgroup memory limit 128MiB; outputs at buffer.max_bytes auto share a quarter of it, 32MiB: 16MiB each for 2 output(s)' "$WORK/v2.err" ||
  fail "128 MiB cgroup ($CG): unexpected rule: $(cat "$WORK/v2.err")"
[ "$(grep -c 'max_bytes: auto}  # = 16MiB' "$WORK/v2.out")" = 2 ] || fail "128 MiB cgroup: the shares are not 16MiB"
pass "in a 128 MiB cgroup ($FILE): a quarter, 32MiB, shared: 16MiB each"

# The daemon itself, in that cgroup: what it exports and logs.
HTTP=127.0.0.1:$(free_port)
sed "1i service:\n  http: { listen: $HTTP }" "$WORK/two.yaml" > "$WORK/run.yaml"
sh -c "$JOIN" sh "$CG" "$FERRY_BIN" run -c "$WORK/run.yaml" > /dev/null 2> "$WORK/run.err" &
pid=$!; PIDS+=("$pid")
wait_for 10 health_says '^200' || { cat "$WORK/run.err"; fail "ferry did not start in the cgroup"; }
metrics=$(curl -s --max-time 2 "http://$HTTP/metrics")
for want in 'output="first"} 16777216' 'output="file"} 16777216' 'output="null"} 4194304' 'output="small"} 3145728'; do
  grep "^ferry_output_buffer_max_bytes" <<<"$metrics" | grep -qF "$want" ||
    fail "ferry_output_buffer_max_bytes lacks $want: $(grep '^ferry_output_buffer_max_bytes' <<<"$metrics")"
done
grep -q 'memory: cgroup memory limit 128MiB' "$WORK/run.err" || fail "the start-up log does not state the rule"
grep -qx "$pid" "$CG/cgroup.procs" || fail "ferry ($pid) is not in $CG"
kill -TERM "$pid"
wait_exit "$pid" 10
[ "$RC" = 0 ] || fail "ferry exited $RC after SIGTERM"
pass "ferry run in the cgroup: ferry_output_buffer_max_bytes 16MiB, 16MiB, 4MiB (null), 3MiB (its own); rule logged at start"
