# Helpers for the storage_* e2e tests (sourced after lib.sh): a free port for ferry's
# /metrics endpoint, a reader for one series of it, the config preamble they share, the
# numbered input, and a file sink that dies and comes back.
HTTP_PORT=$(free_port)

# metric 'NAME{LABELS}': prints the value of that series (0 when absent); fails while ferry's
# endpoint is not up.
metric() {
  python3 - "http://127.0.0.1:$HTTP_PORT/metrics" "$1" <<'PY'
import sys, urllib.request
text = urllib.request.urlopen(sys.argv[1], timeout=2).read().decode()
vals = [l.split()[-1] for l in text.splitlines() if l.startswith(sys.argv[2] + ' ')]
print(int(float(vals[0])) if vals else 0)
PY
}

# storage_config FILE [grace=2s] [store=$WORK/store] [sync=MODE] [input=YAML] < OUTPUTS_YAML
# Writes a storage test's config to FILE: the service block (grace period, the http listener
# on $HTTP_PORT that metric() reads, storage at `store`, with `sync` when given), one input
# (stdin unless `input` gives its YAML list item), then `outputs:` and, read from standard
# input, the outputs' YAML list items. grace='${GRACE:-2s}' leaves the choice to a restart.
storage_config() {
  local file=$1 grace=2s store=$WORK/store sync="" input="  - type: stdin" opt
  shift
  for opt in "$@"; do
    case $opt in
      grace=* | store=* | sync=* | input=*) local "$opt" ;;
      *) fail "storage_config: unknown option '$opt'" ;;
    esac
  done
  {
    cat <<YAML
service:
  grace_period: $grace
  http: { listen: 127.0.0.1:$HTTP_PORT }
  storage: { path: $store${sync:+, sync: $sync} }
inputs:
$input
outputs:
YAML
    cat
  } > "$file"
}

# write_records N: $WORK/in.txt holds the lines 'record 0' .. 'record N-1'.
write_records() {
  python3 -c "
with open('$WORK/in.txt','w') as f:
    for i in range($1): f.write('record %d\n' % i)"
}

# kill_sink / revive_sink: the file sink at $WORK/sink/out.jsonl fails from now on (its
# directory becomes a plain file) / works again.
kill_sink() { rm -rf "$WORK/sink"; touch "$WORK/sink"; }
revive_sink() { rm -f "$WORK/sink"; mkdir "$WORK/sink"; }

# start_then_kill_sink: runs ferry on $WORK/cfg.yaml (stderr in $WORK/err1.txt, its pid in
# $pid) reading the fifo $WORK/fifo, which stays open on fd 3 so that no end of input stops
# it; once ferry is up the sink dies and $WORK/in.txt is written to the fifo.
start_then_kill_sink() {
  mkdir "$WORK/sink"
  mkfifo "$WORK/fifo"
  "$FERRY_BIN" run -c "$WORK/cfg.yaml" < "$WORK/fifo" 2> "$WORK/err1.txt" &
  pid=$!; PIDS+=("$pid")
  exec 3> "$WORK/fifo"
  wait_for 10 metric ferry_ring_capacity || { tail "$WORK/err1.txt"; fail "ferry did not start"; }
  kill_sink
  cat "$WORK/in.txt" >&3
}
