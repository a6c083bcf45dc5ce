# Shared helpers for the end-to-end tests (sourced). Every test runs the real ferry binary,
# bounds its own time, and cleans up only the processes it started.
set -euo pipefail
: "${FERRY_BIN:?FERRY_BIN must point at the ferry binary}"
: "${FERRY_SOURCE_DIR:?}"
export FERRY_PLUGIN_DIR="${FERRY_PLUGIN_DIR:-$(dirname "$FERRY_BIN")/../lib/ferry/plugins}"
E2E_DIR="$FERRY_SOURCE_DIR/tests/e2e"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ferry-e2e.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# free_port: a free TCP port on 127.0.0.1 for a server the test starts next. It is drawn at
# random below the kernel's ephemeral range (ip_local_port_range), so no outgoing connection
# of a test running beside this one can take it before the server binds it (a port the kernel
# hands out for bind(0) is also what it hands to connect()). The system python starts far
# faster than a version manager's shim. free_port N: N distinct ports, one a line.
E2E_PYTHON=$(command -v /usr/bin/python3 || command -v python3)
free_port() {
  "$E2E_PYTHON" - "${1:-1}" <<'PY'
import random, socket, sys
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except OSError:
    low = 32768
low = max(low, 2048)
want, ports = int(sys.argv[1]), set()
for _ in range(200 * want):
    if len(ports) == want:
        break
    port = random.randrange(1024, low)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    if port not in ports:
        ports.add(port)
        print(port)
else:
    if len(ports) < want:
        raise SystemExit("free_port: no free port below the ephemeral range")
PY
}
pass() { echo "ok: $*"; }

# health: ferry's GET /health on its service.http listener at $HTTP (host:port), printed as
# "<status> <body>"; health_says REGEX: that line matches REGEX (grep).
health() {
  curl -s --max-time 2 -o "$WORK/health.body" -w '%{http_code} ' "http://$HTTP/health" &&
    cat "$WORK/health.body"
}
health_says() { health | grep -q "$1"; }

# wait_for TIMEOUT_S COMMAND... : polls COMMAND every 50 ms until it succeeds.
wait_for() {
  local timeout=$1; shift
  local end=$(( $(date +%s) + timeout ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || return 1
    sleep 0.05
  done
}

# wait_exit PID TIMEOUT_S : waits for a child of this shell to exit and sets RC to its exit
# status; kills it and fails on timeout. Call it directly, never in $(...): `wait` only
# works in the shell that started the child.
RC=
wait_exit() {
  local pid=$1 timeout=$2
  local end=$(( $(date +%s) + timeout ))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$(date +%s)" -ge "$end" ]; then
      kill -9 "$pid" 2>/dev/null || true
      fail "process $pid did not exit within ${timeout}s"
    fi
    sleep 0.05
  done
  RC=0
  wait "$pid" || RC=$?
}

# start_aws_server NAME SCRIPT [ARGS...]: the strict AWS stand-in tests/e2e/SCRIPT
# (firehose_server.js, kinesis_server.js, cloudwatch_logs_server.js) with the test's region
# and credentials; sets SERVER_PID and PORT. It appends what it stores to $WORK/NAME.out and
# writes its counts to $WORK/NAME.stats when stopped (stop_aws_server NAME).
start_aws_server() {
  local name=$1 script=$2; shift 2
  node "$E2E_DIR/$script" --port-file "$WORK/$name.port" --out "$WORK/$name.out" \
    --region "$AWS_REGION" --access-key-id "$AWS_ACCESS_KEY_ID" \
    --secret-access-key "$AWS_SECRET_ACCESS_KEY" --stats-file "$WORK/$name.stats" "$@" \
    2> "$WORK/$name.server-err" &
  SERVER_PID=$!; PIDS+=("$SERVER_PID")
  wait_for 10 test -s "$WORK/$name.port" ||
    { cat "$WORK/$name.server-err"; fail "$name: server did not start"; }
  PORT=$(cat "$WORK/$name.port")
  touch "$WORK/$name.out"
}
# stop_aws_server NAME: stops the stand-in start_aws_server started; its stats must be there.
stop_aws_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  [ -s "$WORK/$1.stats" ] || fail "$1: the server left no stats"
}
