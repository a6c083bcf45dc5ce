#!/bin/sh
# Entrypoint of the ferry image. It picks the config so the same image serves two kinds of
# ECS tasks with no command override:
#  1. A task that sets FERRY_CONFIG or FERRY_CONFIG_YAML, or passes its own command: ferry
#     does exactly what it is told.
#  2. A FireLens task moved over from the Fluent Bit image: ECS mounts its generated
#     /fluent-bit/etc/fluent-bit.conf. When that file names outputs (an [OUTPUT] section, or
#     an @INCLUDE of the user's own file), ferry runs it (ferry run --fluent-bit-config).
#  3. Otherwise the baked config, /etc/ferry/ferry.yaml (FireLens → Datadog + Firehose, all
#     behaviour from environment variables).
# Both default configs listen on /var/run/fluent.sock. Run as a user who cannot create it
# (FireLens mounts a root-owned socket directory there), the entrypoint names the fix and
# exits 2, the exit status of any other listener that cannot bind.
set -eu
FERRY=${FERRY_ENTRYPOINT_BIN:-/usr/bin/ferry}
FIRELENS_CONF=${FERRY_FIRELENS_CONF:-/fluent-bit/etc/fluent-bit.conf}
BAKED_CONF=${FERRY_BAKED_CONF:-/etc/ferry/ferry.yaml}
RUN_DIR=${FERRY_RUN_DIR:-/var/run}

# check_socket_dir CONFIG: when CONFIG listens on $RUN_DIR/fluent.sock, that directory must be
# writable by this user.
check_socket_dir() {
  grep -qF "$RUN_DIR/fluent.sock" "$1" 2>/dev/null || return 0
  [ -w "$RUN_DIR" ] && return 0
  uid=$(id -u)
  cat >&2 <<MSG
ferry-entrypoint: cannot create $RUN_DIR/fluent.sock: $RUN_DIR is not writable by uid $uid ($(id -un 2>/dev/null || echo "?")).
  Under ECS FireLens the socket directory mounted at $RUN_DIR belongs to root: set "user": "0"
  on the log router container. With docker run: --user 0, or mount at $RUN_DIR a directory
  that uid $uid can write (or none: the image's own is writable by the ferry user).
MSG
  exit 2
}

if [ "$#" -eq 1 ] && [ "$1" = run ] && [ -z "${FERRY_CONFIG:-}" ] && [ -z "${FERRY_CONFIG_YAML:-}" ]; then
  if [ -f "$FIRELENS_CONF" ] && grep -Eiq '^[[:space:]]*(\[OUTPUT\]|@INCLUDE)' "$FIRELENS_CONF"; then
    check_socket_dir "$FIRELENS_CONF"
    exec "$FERRY" run --fluent-bit-config "$FIRELENS_CONF"
  fi
  check_socket_dir "$BAKED_CONF"
  exec "$FERRY" run -c "$BAKED_CONF"
fi
exec "$FERRY" "$@"
