# Helpers for the storage_* e2e tests (sourced after lib.sh): a free port for ferry's
# /metrics endpoint, a reader for one series of it, and the config preamble they share.
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
