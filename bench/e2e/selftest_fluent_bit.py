#!/usr/bin/env python3
# A self-check of compare.sh's Fluent Bit half where no Fluent Bit is installed, NOT Fluent Bit:
#   SHIM_FERRY=build-release/bin/ferry FLUENT_BIT=bench/e2e/selftest_fluent_bit.py \
#     RUNS=1 BENCH_LINES=200000 bench/e2e/compare.sh build-release
# It reads the classic config compare.sh writes (only the keys compare.sh writes) and execs
# ferry with the same pipeline (tail/forward -> datadog/null, HTTP on; Retry_Limit 1 as
# retry max_attempts 2), so the Fluent Bit path (start, counts from the intake or
# /api/v1/metrics, drops, /proc readings, SIGTERM) runs for real. Its figures are ferry's.
import os, sys
FERRY = os.environ["SHIM_FERRY"]
a = sys.argv[1:]
if a[:1] == ["--version"]:
    print("selftest_fluent_bit.py: not Fluent Bit, runs ferry"); sys.exit(0)
conf = a[a.index("-c") + 1]
secs, cur = [], None
for line in open(conf):
    line = line.strip()
    if line.startswith("["):
        cur = {"_": line.strip("[]")}; secs.append(cur)
    elif line:
        k, _, v = line.partition(" "); cur[k.lower()] = v.strip()
if "--dry-run" in a:
    sys.exit(0)
y = []
svc = [s for s in secs if s["_"] == "SERVICE"][0]
if svc.get("http_server") == "On":
    y += ["service:", f"  http: {{ listen: 127.0.0.1:{svc['http_port']} }}"]
y.append("inputs:")
limit = None
for s in secs:
    if s["_"] != "INPUT": continue
    limit = s.get("mem_buf_limit", limit)
    if s["name"] == "forward":
        y += ["  - type: forward", f"    listen: tcp://127.0.0.1:{s['port']}"]
    else:
        y += ["  - type: tail", f"    path: {s['path']}", "    tag: bench",
              f"    parser: {s.get('parser', 'none')}",
              f"    read_from_head: {'true' if s.get('read_from_head') == 'On' else 'false'}",
              f"    db: {conf}.db"]
o = [s for s in secs if s["_"] == "OUTPUT"][0]
y.append("outputs:")
if o["name"] == "null":
    y += ["  - type: null", '    match: "*"']
else:
    y += ["  - type: datadog", '    match: "*"', f"    api_key: {o['apikey']}",
          f"    url: http://127.0.0.1:{o['port']}/api/v2/logs", "    compression: gzip"]
    if o.get("retry_limit") != "no_limits":
        y.append("    retry: { max_attempts: 2 }")   # Fluent Bit's Retry_Limit 1
    if limit:
        y.append(f"    buffer: {{ max_bytes: {limit.replace('MB', 'MiB')} }}")
try: os.remove(conf + ".db")
except OSError: pass
open(conf + ".yaml", "w").write("\n".join(y) + "\n")
os.execv(FERRY, [FERRY, "run", "-c", conf + ".yaml"])
