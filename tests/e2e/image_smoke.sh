#!/usr/bin/env bash
# Smoke test of the real container image ($FERRY_IMAGE, built by scripts/image.sh), run the way
# ECS runs it, against the strict Datadog and Firehose stand-ins on 127.0.0.1:
#  1. FireLens: the generated config of tests/data/firelens-blog-datadog-firehose mounted at
#     /fluent-bit/etc/, a host directory at /var/run, "user": "0" as the task definition sets;
#     records over /var/run/fluent.sock and TCP (the real Fluent client, with acks); SIGTERM →
#     exit 0, and both services hold every record exactly once.
#     As the default user on such a root-owned /var/run: exit 2 with a message naming the fix.
#  2. packaging/docker/README.md's `docker run` line, only the environment: the baked config.
#  3. The non-root user and file permissions inside the running container.
#  4. The image's own HEALTHCHECK command, run inside the container, exits 0.
# Not a ctest test (it needs the image): scripts/image.sh runs it. Every command of that
# README runs here as written, `docker` being `podman` plus the flags in PODMAN_FLAGS, which
# this sandbox needs (runc, not crun; the host network; no systemd timer for the health check;
# explicit limits): the only difference.
source "$(dirname "$0")/lib.sh"
: "${FERRY_IMAGE:?FERRY_IMAGE must name the image to test}"
command -v node >/dev/null || fail "node is required for the stand-ins"
[ -d "$E2E_DIR/node_modules/@smithy/signature-v4" ] || fail "tests/e2e/node_modules missing: run 'npm ci' in tests/e2e"
DATA=$FERRY_SOURCE_DIR/tests/data/firelens-blog-datadog-firehose
PODMAN_FLAGS=(--runtime=runc --network=host --no-healthcheck --ulimit nofile=20000:20000
  --ulimit nproc=4096:4096)
# Containers this test started, by name; removed on exit whatever happens.
CONTAINERS=()
remove_containers() {
  for c in "${CONTAINERS[@]}"; do podman rm -f -t 0 "$c" >/dev/null 2>&1 || true; done
  # The Firehose stand-in writes its stats file as it stops: let it finish before $WORK goes.
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  cleanup
}
trap remove_containers EXIT
name_for() { local n="ferry-smoke-$$-$1"; CONTAINERS+=("$n"); echo "$n"; }

# The values the services check. The AWS keys exist only here; nothing may ask IMDS.
export DD_API_KEY="smoke-key-0123456789abcdef0123456"
export DELIVERY_STREAM=smoke-logs AWS_REGION=eu-west-1
export AWS_ACCESS_KEY_ID="AKIAFERRYSMOKE000001"
export AWS_SECRET_ACCESS_KEY="smoke/secret+key/0123456789abcdefghijk"
export AWS_EC2_METADATA_DISABLED=true
N_SOCK=300 N_TCP=200

# start_servers NAME DD_OPTIONS...: the two stand-ins; sets DD_PORT, FH_PORT, FH_PID.
start_servers() {
  local name=$1; shift
  node "$E2E_DIR/datadog_intake.js" --port-file "$WORK/$name.dd.port" --api-key "$DD_API_KEY" \
    --out "$WORK/$name.dd.out" --encoding gzip "$@" 2> "$WORK/$name.dd.err" &
  PIDS+=($!)
  node "$E2E_DIR/firehose_server.js" --port-file "$WORK/$name.fh.port" --out "$WORK/$name.fh.out" \
    --stream "$DELIVERY_STREAM" --region "$AWS_REGION" --access-key-id "$AWS_ACCESS_KEY_ID" \
    --secret-access-key "$AWS_SECRET_ACCESS_KEY" --stats-file "$WORK/$name.fh.stats" 2> "$WORK/$name.fh.err" &
  FH_PID=$!
  PIDS+=($FH_PID)
  wait_for 10 test -s "$WORK/$name.dd.port" || { cat "$WORK/$name.dd.err"; fail "$name: datadog stand-in did not start"; }
  wait_for 10 test -s "$WORK/$name.fh.port" || { cat "$WORK/$name.fh.err"; fail "$name: firehose stand-in did not start"; }
  DD_PORT=$(cat "$WORK/$name.dd.port") FH_PORT=$(cat "$WORK/$name.fh.port")
  touch "$WORK/$name.dd.out" "$WORK/$name.fh.out"
}

# send NAME (--path P | --port N) COUNT FIRST: COUNT numbered records, acknowledged.
send() {
  local name=$1 how=$2 where=$3 count=$4 first=$5
  timeout 60 node "$E2E_DIR/forward_client.js" "$how" "$where" --count "$count" --first "$first" \
    --tag app-firelens-0123 --time-base now --timeout-ms 50000 > "$WORK/$name.client" ||
    { cat "$WORK/$name.client"; podman logs "$CONTAINER" 2>&1 | tail -20; fail "$name: forward client over $how failed"; }
}

lines_at_least() { [ "$(wc -l < "$1")" -ge "$2" ]; }

# stop_and_check NAME PID WANT: SIGTERM to the container; the `podman run` PID must exit 0 and
# each service hold the WANT records exactly once, with no request it would refuse. Sets
# COUNTS to "<datadog>/<firehose>". Call it directly, never in $(...) (wait_exit).
COUNTS=
stop_and_check() {
  local name=$1 pid=$2 want=$3
  wait_for 30 lines_at_least "$WORK/$name.dd.out" "$want" ||
    { podman logs "$CONTAINER" 2>&1 | tail; fail "$name: datadog has $(wc -l < "$WORK/$name.dd.out") of $want"; }
  wait_for 30 lines_at_least "$WORK/$name.fh.out" "$want" ||
    { podman logs "$CONTAINER" 2>&1 | tail; fail "$name: firehose has $(wc -l < "$WORK/$name.fh.out") of $want"; }
  podman kill --signal TERM "$CONTAINER" >/dev/null
  wait_exit "$pid" 40
  [ "$RC" = 0 ] || { tail -20 "$WORK/$name.run"; fail "$name: the container exited $RC after SIGTERM"; }
  curl -s --max-time 5 "http://127.0.0.1:$DD_PORT/stats" > "$WORK/$name.dd.stats" || fail "$name: no intake stats"
  kill "$FH_PID"; wait "$FH_PID" 2>/dev/null || true
  COUNTS=$(python3 - "$WORK/$name" "$want" 2>&1 <<'PY'
import json, re, sys
base, want = sys.argv[1], int(sys.argv[2])
dd = [json.loads(l) for l in open(base + '.dd.out')]
fh = [json.loads(l) for l in open(base + '.fh.out')]
for who, stats in (('datadog', json.load(open(base + '.dd.stats'))), ('firehose', json.load(open(base + '.fh.stats')))):
    assert stats.get('invalid_requests', 0) == 0, (who, stats)
def numbers(msgs):
    return sorted(int(re.match(r'rec (\d{7})', m).group(1)) for m in msgs)
assert numbers(dd) == list(range(want)), f'datadog: {len(dd)} messages, not records 0..{want - 1} once each'
assert numbers(r['log'] for r in fh) == list(range(want)), f'firehose: {len(fh)} lines, not records 0..{want - 1} once each'
print(f'{len(dd)}/{len(fh)}')
PY
  ) || fail "$name: delivered records are not as expected: $COUNTS"
}

IMAGE_ID=$(podman image inspect --format '{{.Id}}' "$FERRY_IMAGE") || fail "no image $FERRY_IMAGE"

# --- 1. FireLens -------------------------------------------------------------------------
# provider ecs (extra.conf): the ECS fields of forward_client.js's records become tags first.
ECS_TAGS_RE="container_id:c0ffee[0-6],container_name:ecs-app-[0-2],cluster_name:mycluster,"
ECS_TAGS_RE+="task_arn:arn:aws:ecs:us-east-2:01234567891011:task/mycluster/3de392df-6bfa-470b-97ed-aa6f482cd7a,"
ECS_TAGS_RE+="region:us-east-2,task_id:mycluster/3de392df-6bfa-470b-97ed-aa6f482cd7a,task_family:app,"
ECS_TAGS_RE+="task_version:1,env:prod"
start_servers firelens --expect-service web --expect-source ecs --expect-tags-re "$ECS_TAGS_RE"
export DD_SERVICE=web DD_SOURCE=ecs DD_TAGS=env:prod
ETC=$WORK/fluent-bit-etc SOCKDIR=$WORK/run
mkdir -p "$ETC" "$SOCKDIR"
FWD_PORT=$(free_port) HC_PORT=$(free_port)
sed "s/^    Port 24224\$/    Port $FWD_PORT/; s/^    Port 8877\$/    Port $HC_PORT/" "$DATA/fluent-bit.conf" > "$ETC/fluent-bit.conf"
sed "s/^    Host .*/    Host 127.0.0.1\n    Port $DD_PORT/; s/^    TLS .*/    TLS off/
  s#^    delivery_stream .*#&\n    endpoint http://127.0.0.1:$FH_PORT#" "$DATA/extra.conf" > "$ETC/extra.conf"
grep -q "Port $FWD_PORT" "$ETC/fluent-bit.conf" && grep -q "endpoint http://127.0.0.1:$FH_PORT" "$ETC/extra.conf" ||
  fail "the test's copy of the FireLens config was not rewritten"
ENVS=(-e DD_API_KEY -e DD_SERVICE -e DD_SOURCE -e DD_TAGS -e DELIVERY_STREAM -e AWS_REGION
  -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY -e AWS_EC2_METADATA_DISABLED)

# As the image's default user, ECS's root-owned socket directory cannot hold the socket.
chmod 0755 "$SOCKDIR"
CONTAINER=$(name_for denied)
rc=0
podman run --rm --name "$CONTAINER" "${PODMAN_FLAGS[@]}" -v "$ETC:/fluent-bit/etc:ro" -v "$SOCKDIR:/var/run" \
  "${ENVS[@]}" "$FERRY_IMAGE" > "$WORK/denied.run" 2>&1 || rc=$?
[ "$rc" = 2 ] || { cat "$WORK/denied.run"; fail "default user on a root-owned /var/run: exit $rc, expected 2"; }
grep -qF '"user": "0"' "$WORK/denied.run" && grep -q 'cannot create /var/run/fluent.sock' "$WORK/denied.run" ||
  fail "the refusal does not name the socket and the fix: $(cat "$WORK/denied.run")"
pass "default user on FireLens's root-owned /var/run: exit 2 naming \"user\": \"0\""

CONTAINER=$(name_for firelens)
podman run --rm --name "$CONTAINER" "${PODMAN_FLAGS[@]}" --user 0 -v "$ETC:/fluent-bit/etc:ro" \
  -v "$SOCKDIR:/var/run" "${ENVS[@]}" "$FERRY_IMAGE" > "$WORK/firelens.run" 2>&1 &
pid=$!; PIDS+=("$pid")
wait_for 30 test -S "$SOCKDIR/fluent.sock" || { cat "$WORK/firelens.run"; fail "firelens: no /var/run/fluent.sock"; }
grep -q 'fluent-bit-config' <(podman exec "$CONTAINER" cat /proc/1/cmdline | tr '\0' ' ') ||
  fail "firelens: the entrypoint did not run the mounted FireLens config"
send firelens-sock --path "$SOCKDIR/fluent.sock" "$N_SOCK" 0
send firelens-tcp --port "$FWD_PORT" "$N_TCP" "$N_SOCK"
stop_and_check firelens "$pid" $((N_SOCK + N_TCP))
python3 - "$WORK/firelens.fh.out" <<'PY' || fail "firelens: firehose records lack the ECS metadata"
import json, sys
assert all(json.loads(l).get('ecs_cluster') == 'mycluster' for l in open(sys.argv[1])), 'no ecs_cluster'
PY
pass "FireLens config at /fluent-bit/etc as root: $N_SOCK records over /var/run/fluent.sock + $N_TCP over TCP, SIGTERM → exit 0; datadog/firehose got $COUNTS, each once"

# --- 2. the README's docker run line, the baked config ------------------------------------
start_servers baked --expect-service web --expect-source ecs --expect-tags env:prod
for p in 24224 2020; do
  (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && fail "port $p on 127.0.0.1 is taken: the baked config needs it"
done
CONTAINER=$(name_for baked)
# packaging/docker/README.md, as written: docker run --rm -e DD_API_KEY=... -e DELIVERY_STREAM=...
#   -e AWS_REGION=eu-west-1 -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY ferry:0.1.0
# with the values filled; added: a name to address it, the stand-ins' endpoints, no IMDS, and
# the service/source/tags that the strict intake insists on (the real one does not).
podman run --name "$CONTAINER" "${PODMAN_FLAGS[@]}" -e DD_URL="http://127.0.0.1:$DD_PORT/api/v2/logs" \
  -e FIREHOSE_ENDPOINT="http://127.0.0.1:$FH_PORT" -e AWS_EC2_METADATA_DISABLED -e DD_SERVICE \
  -e DD_SOURCE -e DD_TAGS --rm -e DD_API_KEY="$DD_API_KEY" -e DELIVERY_STREAM="$DELIVERY_STREAM" -e AWS_REGION=eu-west-1 \
  -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY "$FERRY_IMAGE" > "$WORK/baked.run" 2>&1 &
pid=$!; PIDS+=("$pid")
HTTP=127.0.0.1:2020
wait_for 30 health_says '^200' || { cat "$WORK/baked.run"; fail "baked: /health never answered 200"; }
grep -q 'ferry.yaml' <(podman exec "$CONTAINER" cat /proc/1/cmdline | tr '\0' ' ') ||
  fail "baked: the entrypoint did not run /etc/ferry/ferry.yaml"
send baked-tcp --port 24224 "$N_TCP" 0

# --- 3. user and permissions, in the running container -------------------------------------
in_ctr() { podman exec "$CONTAINER" sh -c "$1" 2>&1; }
[ "$(in_ctr 'id -un')" = ferry ] || fail "the image's user is $(in_ctr 'id -un'), not ferry"
uid=$(in_ctr 'id -u')
[ "$uid" != 0 ] || fail "the image runs as root"
[ "$(in_ctr "awk '/^Uid:/ {print \$2}' /proc/1/status")" = "$uid" ] || fail "ferry (pid 1) does not run as uid $uid"
[ "$(in_ctr 'cat /proc/1/comm')" = ferry ] || fail "pid 1 is $(in_ctr 'cat /proc/1/comm'), not ferry (the entrypoint must exec it)"
in_ctr 'touch /var/lib/ferry/.w && rm /var/lib/ferry/.w' >/dev/null || fail "/var/lib/ferry is not writable by ferry"
in_ctr ': >> /usr/bin/ferry' >/dev/null && fail "/usr/bin/ferry is writable by the ferry user"
in_ctr ': >> /etc/ferry/ferry.yaml' >/dev/null && fail "/etc/ferry/ferry.yaml is writable by the ferry user"
in_ctr 'touch /usr/lib/ferry/plugins/x.so' >/dev/null && fail "the plugin directory is writable by the ferry user"
in_ctr 'test -S /var/run/fluent.sock' >/dev/null || fail "baked: no /var/run/fluent.sock as the default user"
pass "runs as ferry (uid $uid, pid 1 = ferry); /var/lib/ferry writable; binary, config, plugins not; its own /var/run/fluent.sock"

# --- 4. the image's HEALTHCHECK command, inside the container -----------------------------
mapfile -t hc < <(podman image inspect --format '{{range .Config.Healthcheck.Test}}{{println .}}{{end}}' "$IMAGE_ID" | sed '/^$/d')
[ "${hc[0]:-}" = CMD ] && [ "${#hc[@]}" -gt 1 ] || fail "the image has no HEALTHCHECK CMD: ${hc[*]:-none}"
podman exec "$CONTAINER" "${hc[@]:1}" || fail "HEALTHCHECK (${hc[*]:1}) exited $? in the container"
pass "HEALTHCHECK ${hc[*]:1} → 0 inside the container"

stop_and_check baked "$pid" "$N_TCP"
pass "README's docker run (baked config, env only): $N_TCP records over TCP 24224, SIGTERM → exit 0; datadog/firehose got $COUNTS, each once"
