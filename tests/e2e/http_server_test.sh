#!/usr/bin/env bash
# service.http under misbehaving clients (README "Health and metrics"): with 100 connections
# that send nothing or trickle a byte every 0.5 s, ten sequential GET /health each answer in
# under 100 ms; the slow connections are closed at their 2 s deadline; a request head over
# 8 KiB is answered 431 and closed at once.
source "$(dirname "$0")/lib.sh"

SLOW=100
PORT=$(free_port)
HTTP="127.0.0.1:$PORT"
mkdir "$WORK/logs"
cat > "$WORK/ferry.yaml" <<YAML
service:
  log_level: warn
  http: { listen: $HTTP }
  grace_period: 1s
inputs:
  - type: tail
    path: $WORK/logs/*.log
outputs:
  - type: null
YAML
"$FERRY_BIN" run -c "$WORK/ferry.yaml" 2>"$WORK/ferry.err" &
PID=$!
PIDS+=("$PID")
wait_for 10 curl -fs --max-time 1 "http://$HTTP/health" || fail "/health never answered: $(cat "$WORK/ferry.err")"

# The slow clients, in the background; they report once the server has closed them all.
"$E2E_PYTHON" "$E2E_DIR/http_slow_clients.py" slow 127.0.0.1 "$PORT" "$SLOW" 8 >"$WORK/slow.out" 2>&1 &
SLOW_PID=$!
PIDS+=("$SLOW_PID")
wait_for 10 grep -q ready "$WORK/slow.out" || fail "slow clients could not connect: $(cat "$WORK/slow.out")"

times=()
for i in $(seq 1 10); do
  out=$(curl -s -o "$WORK/h" -w '%{http_code} %{time_total}' --max-time 2 "http://$HTTP/health" || true)
  read -r code secs <<<"$out"
  [ "$code" = 200 ] || fail "/health #$i with $SLOW slow clients: status '$code' after ${secs:-?} s"
  times+=("$secs")
done
read -r median max < <(printf '%s\n' "${times[@]}" | sort -g | awk '{ t[NR] = $1 } END { printf "%.4f %.4f\n", (t[5] + t[6]) / 2, t[NR] }')
awk -v m="$max" 'BEGIN { exit !(m < 0.1) }' || fail "/health too slow with $SLOW slow clients: max ${max}s (all: ${times[*]})"
pass "/health with $SLOW slow clients: median ${median}s, max ${max}s over 10 requests"

# Every slow connection is closed by the server near its 2 s deadline (not early, not never).
wait_exit "$SLOW_PID" 15
line=$(grep closed "$WORK/slow.out" || true)
[[ "$line" == "closed $SLOW of $SLOW,"* ]] || fail "slow connections left open: ${line:-$(cat "$WORK/slow.out")}"
read -r lo hi < <(awk '{ print $7, $9 }' <<<"$line")
awk -v lo="$lo" -v hi="$hi" 'BEGIN { exit !(lo >= 1.8 && hi <= 3.5) }' ||
  fail "slow connections closed outside their 2 s deadline: $line"
pass "all $SLOW slow connections closed at their deadline ($line)"

# An over-long request head gets 431 and the connection is closed well before the deadline.
big=$("$E2E_PYTHON" "$E2E_DIR/http_slow_clients.py" big 127.0.0.1 "$PORT" 10000)
[[ "$big" == "HTTP/1.1 431 "* ]] || fail "over-long request head: $big"
secs=${big##* }
awk -v s="$secs" 'BEGIN { exit !(s < 1.0) }' || fail "over-long request head not closed promptly: $big"
pass "over-long request head → $big"

code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$HTTP/health" || true)
[ "$code" = 200 ] || fail "/health after the misbehaving clients: $code"
kill -TERM "$PID"
wait_exit "$PID" 10
[ "$RC" = 0 ] || fail "exit status $RC after SIGTERM: $(cat "$WORK/ferry.err")"
pass "still serving afterwards; SIGTERM exits 0"
