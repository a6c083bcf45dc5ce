#!/usr/bin/env bash
# sd_notify (Type=notify in packaging/systemd/ferry.service): with NOTIFY_SOCKET set, ferry
# sends READY=1 only once its inputs listen (a connection right after READY succeeds), and
# STOPPING=1 when SIGTERM starts the flush; then it exits 0. A unix datagram socket plays
# systemd's part.
source "$(dirname "$0")/lib.sh"

# A port nothing listens on (checked by connecting; python would cost seconds to start).
# The system python starts far faster than a version manager's shim.
PYTHON=$(command -v /usr/bin/python3 || command -v python3)
PORT=$(free_port)
SOCK="$WORK/notify.sock"
cat > "$WORK/receiver.py" <<'PY'
# systemd's side of sd_notify: one datagram per notification, written one per line.
import socket, sys, time
path, out, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(0.1)
end = time.time() + timeout
with open(out, "ab", buffering=0) as f:
    while time.time() < end:
        try:
            data = s.recv(4096)
        except socket.timeout:
            continue
        f.write(data.replace(b"\n", b" ") + b"\n")
        if b"STOPPING=1" in data:
            break
PY
"$PYTHON" "$WORK/receiver.py" "$SOCK" "$WORK/notes" 40 &
RECEIVER=$!
PIDS+=("$RECEIVER")
wait_for 20 test -S "$SOCK" || fail "receiver socket not created"

cat > "$WORK/f.yaml" <<YAML
service:
  log_level: warn
  grace_period: 2s
inputs:
  - type: forward
    listen: tcp://127.0.0.1:$PORT
outputs:
  - type: null
YAML
touch "$WORK/notes"
NOTIFY_SOCKET="$SOCK" "$FERRY_BIN" run -c "$WORK/f.yaml" 2>"$WORK/ferry.err" &
PID=$!
PIDS+=("$PID")
wait_for 10 grep -q 'READY=1' "$WORK/notes" || fail "no READY=1: notes '$(cat "$WORK/notes")', stderr $(cat "$WORK/ferry.err")"
# READY promises the inputs listen: connect at once, no retry.
(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || fail "READY=1 sent before the forward input listens"
grep -q 'STOPPING=1' "$WORK/notes" && fail "STOPPING=1 before any signal"
pass "READY=1 once the forward input listens: $(grep READY "$WORK/notes")"

kill -TERM "$PID"
wait_exit "$PID" 20
[ "$RC" = 0 ] || fail "exit status $RC after SIGTERM: $(cat "$WORK/ferry.err")"
wait_exit "$RECEIVER" 10
grep -q 'STOPPING=1' "$WORK/notes" || fail "no STOPPING=1 after SIGTERM: $(cat "$WORK/notes")"
[ "$(grep -n READY=1 "$WORK/notes" | cut -d: -f1 | head -1)" -lt "$(grep -n STOPPING=1 "$WORK/notes" | cut -d: -f1 | head -1)" ] ||
  fail "STOPPING=1 came before READY=1: $(cat "$WORK/notes")"
[ "$(grep -c READY=1 "$WORK/notes")" = 1 ] || fail "READY=1 sent more than once: $(cat "$WORK/notes")"
pass "STOPPING=1 on SIGTERM, then exit 0"

# Without NOTIFY_SOCKET nothing is sent and ferry runs as usual (sd_notify is a no-op).
"$FERRY_BIN" run -c "$WORK/f.yaml" 2>"$WORK/plain.err" &
PID=$!
PIDS+=("$PID")
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" || fail "ferry without NOTIFY_SOCKET did not start: $(cat "$WORK/plain.err")"
kill -TERM "$PID"
wait_exit "$PID" 20
[ "$RC" = 0 ] || fail "exit status $RC without NOTIFY_SOCKET"
pass "without NOTIFY_SOCKET ferry starts and stops as usual"
