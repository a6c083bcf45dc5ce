#!/usr/bin/env bash
# `ferry top` against a real daemon (tail → null, and a Datadog output whose intake is down):
# in a tmux pane (a real terminal, 160x40) it shows the input and output rows with non-zero
# rates, the buffer against its budget, and the dead output unhealthy and retrying; q quits
# with exit 0, Ctrl-C too, and the terminal is restored. Piped, it prints one snapshot and exits; an
# endpoint that does not answer is exit 2.
source "$(dirname "$0")/lib.sh"
command -v tmux > /dev/null || fail "tmux is not installed (scripts/dev.sh installs it)"

PORT=$(free_port)
DEAD_PORT=$(free_port) # nothing listens there
while [ "$DEAD_PORT" = "$PORT" ]; do DEAD_PORT=$(free_port); done
mkdir "$WORK/logs"
: > "$WORK/logs/app.log"
cat > "$WORK/ferry.yaml" <<YAML
service:
  log_level: error
  http: { listen: 127.0.0.1:$PORT, unhealthy_after: 1s }
  grace_period: 1s
inputs:
  - type: tail
    name: applog
    path: $WORK/logs/*.log
    read_from_head: true
    refresh_interval: 200ms
outputs:
  - type: null
    name: sink
    buffer: { max_bytes: 8MiB }
  - type: datadog
    name: dd_down
    api_key: not-a-real-key
    url: http://127.0.0.1:$DEAD_PORT/api/v2/logs
    flush_interval: 100ms
    retry: { initial_backoff: 200ms, max_backoff: 500ms }
YAML
"$FERRY_BIN" run -c "$WORK/ferry.yaml" 2> "$WORK/ferry.err" &
PIDS+=("$!")
wait_for 10 curl -fs -o /dev/null "http://127.0.0.1:$PORT/metrics" || fail "ferry never answered: $(cat "$WORK/ferry.err")"
# A steady writer, bounded: 20 lines every 50 ms for at most 30 s.
( for i in $(seq 1 600); do
    for j in $(seq 1 20); do echo "{\"level\":\"info\",\"msg\":\"line $i.$j\"}"; done >> "$WORK/logs/app.log"
    sleep 0.05
  done ) &
PIDS+=("$!")

# row SCREEN NAME: the row of NAME (first column) in a captured screen.
row() { awk -v n="$2" '$1 == n' "$1"; }
# nonzero VALUE: a rate as top prints it ("0", "12", "1.5k", "3.2 KiB/s") is above zero.
nonzero() { [ -n "$1" ] && [ "$1" != 0 ] && [ "$1" != "0.0" ]; }

# --- in a terminal ---------------------------------------------------------------------
SOCK="ferry-top-$$" # a tmux server of this test's own
tmux -L "$SOCK" -f /dev/null new-session -d -s top -x 160 -y 40 \
  "'$FERRY_BIN' top --url 127.0.0.1:$PORT --interval 500ms; echo \$? > '$WORK/top.rc'"
PIDS+=("$(tmux -L "$SOCK" display-message -p -t top '#{pid}')")
screen_ready() {
  tmux -L "$SOCK" capture-pane -p -t top > "$WORK/screen.txt" &&
    grep -q UNHEALTHY "$WORK/screen.txt" && nonzero "$(row "$WORK/screen.txt" applog | awk '{print $2}')" &&
    nonzero "$(row "$WORK/screen.txt" sink | awk '{print $2}')"
}
sleep 2.5
wait_for 10 screen_ready || { cat "$WORK/screen.txt"; fail "ferry top never showed moving rows and the unhealthy output"; }
cp "$WORK/screen.txt" "${TOP_SCREEN_COPY:-/dev/null}" 2> /dev/null || true
grep -q '^INPUT ' "$WORK/screen.txt" && grep -q '^OUTPUT ' "$WORK/screen.txt" || { cat "$WORK/screen.txt"; fail "no INPUT/OUTPUT headers"; }
sink=$(row "$WORK/screen.txt" sink)
echo "$sink" | grep -Eq ' [0-9.]+ [KMG]?i?B/[0-9.]+ MiB +[0-9]+% ' || { cat "$WORK/screen.txt"; fail "sink: no buffer used/max"; }
echo "$sink" | grep -q '8.0 MiB' || { cat "$WORK/screen.txt"; fail "sink: the budget is not 8 MiB"; }
dd=$(row "$WORK/screen.txt" dd_down)
echo "$dd" | grep -q 'UNHEALTHY' || { cat "$WORK/screen.txt"; fail "dd_down is not shown unhealthy"; }
[ "$(echo "$dd" | awk '{print $2}')" = 0 ] || { cat "$WORK/screen.txt"; fail "dd_down shows records sent"; }
tmux -L "$SOCK" send-keys -t top q
gone() { ! tmux -L "$SOCK" has-session -t top 2> /dev/null; }
wait_for 5 gone || fail "q did not end ferry top"
[ "$(cat "$WORK/top.rc")" = 0 ] || fail "ferry top exited $(cat "$WORK/top.rc") on q"

# Ctrl-C quits too, and the terminal is as before: main screen, cursor shown, line mode
# and echo back (the pane stays open a moment after, to look).
tmux -L "$SOCK" -f /dev/null new-session -d -s top2 -x 160 -y 40 \
  "'$FERRY_BIN' top --url 127.0.0.1:$PORT --interval 500ms; echo \$? > '$WORK/top2.rc'; stty -a > '$WORK/stty.txt'; sleep 20"
PIDS+=("$(tmux -L "$SOCK" display-message -p -t top2 '#{pid}')")
on_alternate() { [ "$(tmux -L "$SOCK" display-message -p -t top2 '#{alternate_on}')" = 1 ]; }
wait_for 10 on_alternate || fail "ferry top did not switch to the alternate screen"
sleep 1
tmux -L "$SOCK" send-keys -t top2 C-c
wait_for 5 test -s "$WORK/stty.txt" || fail "Ctrl-C did not end ferry top"
[ "$(cat "$WORK/top2.rc")" = 0 ] || fail "ferry top exited $(cat "$WORK/top2.rc") on Ctrl-C"
[ "$(tmux -L "$SOCK" display-message -p -t top2 '#{alternate_on} #{cursor_flag}')" = "0 1" ] ||
  fail "after Ctrl-C: still on the alternate screen or the cursor hidden"
grep -qw -- '-icanon' "$WORK/stty.txt" || grep -qw -- '-echo' "$WORK/stty.txt" &&
  fail "after Ctrl-C the terminal is left raw: $(cat "$WORK/stty.txt")"
tmux -L "$SOCK" kill-server 2> /dev/null || true

# --- piped: one snapshot, then exit ------------------------------------------------------
timeout 20 "$FERRY_BIN" top --url "http://127.0.0.1:$PORT/" --interval 500ms > "$WORK/snap.txt" 2> "$WORK/snap.err" ||
  fail "piped ferry top failed: $(cat "$WORK/snap.err")"
nonzero "$(row "$WORK/snap.txt" applog | awk '{print $2}')" || { cat "$WORK/snap.txt"; fail "snapshot: applog rate is zero"; }
nonzero "$(row "$WORK/snap.txt" sink | awk '{print $2}')" || { cat "$WORK/snap.txt"; fail "snapshot: sink rate is zero"; }
if grep -q $'\x1b' "$WORK/snap.txt"; then fail "snapshot has escape codes"; fi

# --- nothing listening: exit 2 with the reason -------------------------------------------
rc=0; timeout 20 "$FERRY_BIN" top --url "127.0.0.1:$DEAD_PORT" --interval 200ms > /dev/null 2> "$WORK/dead.err" || rc=$?
[ "$rc" = 2 ] && grep -q "cannot read" "$WORK/dead.err" || fail "unreachable endpoint: exit $rc, $(cat "$WORK/dead.err")"
rc=0; "$FERRY_BIN" top --interval 5 --bogus > /dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "ferry top --bogus exited $rc"
pass "ferry top: tmux screen with moving input/output rows, budget, unhealthy output; q and Ctrl-C exit 0, terminal restored; snapshot when piped"
