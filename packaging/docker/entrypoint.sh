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
set -eu
FERRY=${FERRY_ENTRYPOINT_BIN:-/usr/bin/ferry}
FIRELENS_CONF=${FERRY_FIRELENS_CONF:-/fluent-bit/etc/fluent-bit.conf}
BAKED_CONF=${FERRY_BAKED_CONF:-/etc/ferry/ferry.yaml}

if [ "$#" -eq 1 ] && [ "$1" = run ] && [ -z "${FERRY_CONFIG:-}" ] && [ -z "${FERRY_CONFIG_YAML:-}" ]; then
  if [ -f "$FIRELENS_CONF" ] && grep -Eiq '^[[:space:]]*(\[OUTPUT\]|@INCLUDE)' "$FIRELENS_CONF"; then
    exec "$FERRY" run --fluent-bit-config "$FIRELENS_CONF"
  fi
  exec "$FERRY" run -c "$BAKED_CONF"
fi
exec "$FERRY" "$@"
