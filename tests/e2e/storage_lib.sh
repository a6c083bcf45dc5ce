# Helpers for the storage_* e2e tests (sourced after lib.sh): a free port for ferry's
# /metrics endpoint and a reader for one series of it.
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
