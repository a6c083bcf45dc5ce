#!/usr/bin/env bash
# Secrets never reach ferry's log through a quoted response (README "Secrets in the log"): a
# Datadog intake behind a proxy that echoes the request answers 400, then 500, with a body
# quoting the DD-API-KEY header, the bare key and an Authorization header. ferry logs both
# answers with their snippet, the key and the token masked as ***, and still delivers after.
source "$(dirname "$0")/lib.sh"

export DD_API_KEY="e2e-secret-key-5f0c2a9b7d41e38c6a"
TOKEN="bearer-token-not-in-config-77c1"
PORT=$(free_port)
INTAKE_PORT=$(free_port)
while [ "$INTAKE_PORT" = "$PORT" ]; do INTAKE_PORT=$(free_port); done

cat > "$WORK/echo_intake.py" <<'PY'
# A Datadog intake behind an echoing proxy: request 1 → 400, request 2 → 500, then 202.
# Each refusal quotes the request's headers (the API key among them) as such proxies do.
import http.server, sys
token = sys.argv[2]
seen = [0]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        seen[0] += 1
        key = self.headers.get("DD-API-KEY", "")
        if seen[0] <= 2:
            body = (f"echo: DD-API-KEY: {key}\r\nkey {key} refused\r\n"
                    f"Authorization: Bearer {token}\r\n").encode()
            self.send_response(400 if seen[0] == 1 else 500)
        else:
            body = b"{}"
            self.send_response(202)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with open(sys.argv[3], "a") as f:
            f.write(f"{seen[0]}\n")
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
"$E2E_PYTHON" "$WORK/echo_intake.py" "$INTAKE_PORT" "$TOKEN" "$WORK/requests" &
PIDS+=("$!")

mkdir "$WORK/logs"
echo "first" > "$WORK/logs/app.log"
cat > "$WORK/ferry.yaml" <<YAML
service:
  log_level: warn
  http: { listen: 127.0.0.1:$PORT }
  grace_period: 1s
inputs:
  - type: tail
    path: $WORK/logs/*.log
    read_from_head: true
outputs:
  - type: datadog
    name: dd
    api_key: \${DD_API_KEY}
    url: http://127.0.0.1:$INTAKE_PORT/api/v2/logs
    flush_interval: 100ms
    retry: { initial_backoff: 200ms, max_backoff: 500ms }
YAML
"$FERRY_BIN" run -c "$WORK/ferry.yaml" 2>"$WORK/ferry.err" &
PID=$!
PIDS+=("$PID")
requests() { if [ -f "$WORK/requests" ]; then wc -l <"$WORK/requests"; else echo 0; fi; }
seen_at_least() { [ "$(requests)" -ge "$1" ]; }
wait_for 10 seen_at_least 1 || fail "the intake saw no request: $(cat "$WORK/ferry.err")"
sleep 0.3 # let the first batch be judged before the second line
echo "second" >> "$WORK/logs/app.log"
wait_for 15 seen_at_least 3 || fail "no delivery after the refusals ($(requests) requests): $(cat "$WORK/ferry.err")"
kill -TERM "$PID"
wait_exit "$PID" 10
[ "$RC" = 0 ] || fail "exit status $RC after SIGTERM: $(cat "$WORK/ferry.err")"

log=$(cat "$WORK/ferry.err")
grep -q 'HTTP 400' <<<"$log" || fail "the 400 was not logged: $log"
grep -q 'HTTP 500' <<<"$log" || fail "the 500 was not logged: $log"
grep -qF "$DD_API_KEY" <<<"$log" && fail "the log leaks the API key: $(grep -F "$DD_API_KEY" <<<"$log")"
grep -qF "${DD_API_KEY:0:12}" <<<"$log" && fail "the log leaks the start of the API key: $log"
grep -qF "$TOKEN" <<<"$log" && fail "the log leaks the echoed Authorization token: $log"
grep -qF 'HTTP 400): echo: DD-API-KEY: ***  key *** refused  Authorization: ***' <<<"$log" ||
  fail "the 400's snippet is not quoted masked: $log"
grep -qF 'HTTP 500): echo: DD-API-KEY: ***' <<<"$log" || fail "the 500's snippet is not quoted masked: $log"
pass "400 and 500 snippets logged with the key and the token masked; delivered after"
