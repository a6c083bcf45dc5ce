#!/usr/bin/env bash
# The image's entrypoint (packaging/docker/entrypoint.sh) picks the config: the task's own
# (FERRY_CONFIG / FERRY_CONFIG_YAML / a command), the FireLens-generated Fluent Bit config
# when it names outputs (drop-in for the Fluent Bit image), else the baked one. Each case
# checks the exact command it execs, then one case runs the real binary through it.
source "$(dirname "$0")/lib.sh"
EP="$FERRY_SOURCE_DIR/packaging/docker/entrypoint.sh"
cat > "$WORK/fake-ferry" <<'SH'
#!/bin/sh
echo "$*"
SH
chmod +x "$WORK/fake-ferry"
export FERRY_ENTRYPOINT_BIN="$WORK/fake-ferry" FERRY_FIRELENS_CONF="$WORK/fluent-bit.conf" \
  FERRY_BAKED_CONF=/etc/ferry/ferry.yaml
unset FERRY_CONFIG FERRY_CONFIG_YAML

expect() { # expect "WANTED ARGS" [ENV=VALUE...] -- ENTRYPOINT ARGS...
  local want=$1; shift
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  local got
  got=$(env "${envs[@]}" sh "$EP" "$@")
  [ "$got" = "$want" ] || fail "entrypoint $* (${envs[*]}): ran 'ferry $got', expected 'ferry $want'"
}

expect "run -c /etc/ferry/ferry.yaml" -- run
printf '[INPUT]\n    Name forward\n    unix_path /var/run/fluent.sock\n' > "$WORK/fluent-bit.conf"
expect "run -c /etc/ferry/ferry.yaml" -- run   # FireLens config without outputs: baked config
printf '[INPUT]\n    Name forward\n\n[OUTPUT]\n    Name datadog\n    Match *\n' > "$WORK/fluent-bit.conf"
expect "run --fluent-bit-config $WORK/fluent-bit.conf" -- run
printf '[INPUT]\n    Name forward\n@INCLUDE /extra.conf\n' > "$WORK/fluent-bit.conf"
expect "run --fluent-bit-config $WORK/fluent-bit.conf" -- run
expect "run" FERRY_CONFIG_YAML=x -- run
expect "run" FERRY_CONFIG=/x.yaml -- run
expect "validate -c /x.yaml" -- validate -c /x.yaml
pass "entrypoint: task config, FireLens-generated config with outputs, else the baked config"

# A user who cannot create the socket (FireLens mounts a root-owned directory at /var/run) is
# told the fix and gets exit 2, for either default config; root, or a writable directory, runs.
# Root may write anywhere, so the refusals run as nobody (setpriv) when the test runs as root.
as_nobody() { if [ "$(id -u)" = 0 ]; then setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; else "$@"; fi; }
chmod 0755 "$WORK"
mkdir "$WORK/run"
chmod 0555 "$WORK/run"
printf 'inputs:\n  - type: forward\n    listen: [unix://%s/fluent.sock]\n' "$WORK/run" > "$WORK/baked.yaml"
printf '[INPUT]\n    Name forward\n    unix_path %s/fluent.sock\n[OUTPUT]\n    Name stdout\n' "$WORK/run" > "$WORK/fluent-bit.conf"
refused() { # refused NAME CONFIG_ENV...: the entrypoint must refuse as nobody, naming the fix
  local name=$1 rc=0; shift
  as_nobody env FERRY_RUN_DIR="$WORK/run" FERRY_BAKED_CONF="$WORK/baked.yaml" "$@" sh "$EP" run \
    > "$WORK/refused.out" 2>&1 || rc=$?
  [ "$rc" = 2 ] || fail "$name, socket directory not writable: exit $rc, expected 2: $(cat "$WORK/refused.out")"
  grep -qF "cannot create $WORK/run/fluent.sock" "$WORK/refused.out" && grep -qF '"user": "0"' "$WORK/refused.out" ||
    fail "$name: the refusal does not name the socket and the fix: $(cat "$WORK/refused.out")"
}
refused "FireLens config"
refused "baked config" FERRY_FIRELENS_CONF="$WORK/none.conf"
if [ "$(id -u)" = 0 ]; then
  expect "run --fluent-bit-config $WORK/fluent-bit.conf" FERRY_RUN_DIR="$WORK/run" -- run
fi
chmod 1777 "$WORK/run"
got=$(as_nobody env FERRY_RUN_DIR="$WORK/run" FERRY_BAKED_CONF="$WORK/baked.yaml" \
  FERRY_FIRELENS_CONF="$WORK/none.conf" sh "$EP" run 2>&1) || fail "writable socket directory refused: $got"
[ "$got" = "run -c $WORK/baked.yaml" ] || fail "writable socket directory: ran 'ferry $got'"
pass "socket directory not writable by the user: exit 2 naming \"user\": \"0\"; writable or root: runs"

# The real binary through the entrypoint: a FireLens-style config with a stdout output.
cat > "$WORK/fluent-bit.conf" <<CONF
[SERVICE]
    Flush 1
[INPUT]
    Name forward
    unix_path $WORK/fluent.sock
[OUTPUT]
    Name stdout
    Match *
CONF
FERRY_ENTRYPOINT_BIN="$FERRY_BIN" sh "$EP" run > "$WORK/out.txt" 2> "$WORK/err.txt" &
pid=$!; PIDS+=("$pid")
wait_for 10 test -S "$WORK/fluent.sock" || { cat "$WORK/err.txt"; fail "ferry did not listen on the FireLens socket"; }
kill -TERM "$pid"
wait_exit "$pid" 30
[ "$RC" = 0 ] || { cat "$WORK/err.txt"; fail "ferry exited $RC"; }
pass "entrypoint runs the real binary on the FireLens-generated config"
