#!/usr/bin/env bash
# stdin → s3 → a strict SigV4 proxy (tests/e2e/s3_sigv4_proxy.js: every signature recomputed
# with @smithy/signature-v4, payload hash checked) → s3rver. Proves: N records land in objects
# whose decompressed lines are exactly the records, once each, for gzip (many small objects,
# keys as formatted, with a session token) and zstd; an object over the part size goes up as a
# multipart upload (parts of 5 MiB, a failed part and SlowDown retried); a wrong secret key is
# refused with 403, /health and the log say why, and the records wait (none dropped) until the
# key is right; SIGTERM uploads the open object; with $TAG in key_format, records of three
# tags sent side by side land in objects of one tag each, named as Fluent Bit names them.
source "$(dirname "$0")/lib.sh"

command -v node >/dev/null || fail "node is required for s3rver and the SigV4 proxy"
[ -d "$E2E_DIR/node_modules/s3rver" ] && [ -d "$E2E_DIR/node_modules/@smithy/signature-v4" ] ||
  fail "s3rver / @smithy/signature-v4 missing: run 'npm install' in tests/e2e"

N=${S3_E2E_LINES:-100000}
BUCKET=ferry-e2e
# s3rver knows one account (S3RVER/S3RVER); the proxy checks the full signature.
AKID=S3RVER
SECRET=S3RVER
TODAY=$(date -u +%Y/%m/%d)

python3 - "$WORK/in.txt" "$N" <<'PY'
import sys
n = int(sys.argv[2])
with open(sys.argv[1], 'w', encoding='utf-8', newline='\n') as f:
    for i in range(n):
        extra = ['', ' "quoted"', ' tab\there', ' caf\u00e9 \u6771\u4eac', ' ' + 'x' * 100][i % 5]
        f.write('rec %06d%s\n' % (i, extra))
PY
# Large, incompressible lines for the multipart case (~24 MB: parts of 5 MiB and a last one).
python3 - "$WORK/big.txt" "$N" <<'PY'
import sys, os
n = int(sys.argv[2])
with open(sys.argv[1], 'w') as f:
    for i in range(n):
        f.write('big %06d %s\n' % (i, os.urandom(100).hex()))
PY

mkdir -p "$WORK/store"
node "$E2E_DIR/s3_server.js" --dir "$WORK/store" --buckets "$BUCKET" --port-file "$WORK/s3rver.port" \
  2> "$WORK/s3rver.err" &
PIDS+=($!)
wait_for 15 test -s "$WORK/s3rver.port" || { cat "$WORK/s3rver.err"; fail "s3rver did not start"; }
S3PORT=$(cat "$WORK/s3rver.port")

PROXY_PID=""
# start_proxy NAME [OPTIONS...]: a fresh proxy (fresh counters), sets PORT.
start_proxy() {
  local name=$1; shift
  node "$E2E_DIR/s3_sigv4_proxy.js" --port-file "$WORK/$name.port" --upstream "$S3PORT" \
    --access-key "$AKID" --secret-key "$SECRET" --region us-east-1 "$@" 2> "$WORK/$name.proxy-err" &
  PROXY_PID=$!; PIDS+=("$PROXY_PID")
  wait_for 10 test -s "$WORK/$name.port" || { cat "$WORK/$name.proxy-err"; fail "$name: proxy did not start"; }
  PORT=$(cat "$WORK/$name.port")
}
stop_proxy() {
  proxy_stats > "$WORK/$1.stats" || fail "$1: cannot read the proxy's stats"
  kill "$PROXY_PID" 2>/dev/null || true
  wait "$PROXY_PID" 2>/dev/null || true
}
proxy_stats() { curl -sf --max-time 5 "http://127.0.0.1:$PORT/__stats"; }
stat() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$WORK/$1.stats"; }

# write_config NAME OUTPUT_OPTIONS...: a stdin → s3 config through the proxy.
write_config() {
  local name=$1; shift
  {
    cat <<YAML
service:
  grace_period: 30s
  http: { listen: "127.0.0.1:0" }
inputs:
  - type: stdin
outputs:
  - type: s3
    bucket: $BUCKET
    region: us-east-1
    endpoint: http://127.0.0.1:$PORT
    retry: { initial_backoff: 100ms, max_backoff: 500ms }
YAML
    for line in "$@"; do echo "    $line"; done
  } > "$WORK/$name.yaml"
}

# run_ferry NAME INPUT: ships INPUT (stdin closes at its end); fails unless exit 0.
run_ferry() {
  local name=$1 input=$2 rc=0
  sed -i '/http: /d' "$WORK/$name.yaml"
  timeout 60 "$FERRY_BIN" run -c "$WORK/$name.yaml" < "$input" > /dev/null 2> "$WORK/$name.err" || rc=$?
  if [ "$rc" != 0 ]; then
    tail -20 "$WORK/$name.err"; cat "$WORK/$name.proxy-err"
    fail "$name: ferry exited $rc"
  fi
}

check() { # NAME INPUT KEY_REGEX [check options]
  local name=$1 input=$2 regex=$3; shift 3
  [ "$(stat "$name" "['rejected']")" = 0 ] || fail "$name: the proxy rejected requests: $(stat "$name" "['reasons']")"
  python3 "$E2E_DIR/s3_check.py" "$WORK/store/$BUCKET" "$input" "$regex" --prefix "$name/" "$@" ||
    fail "$name: objects do not hold the records exactly once"
}

# 1. gzip through many small objects (total_file_size 64KiB), with a session token; keys as
echo "[${SECONDS}s] 1. gzip"
#    formatted ($TAG, strftime in UTC, $INDEX, $UUID).
start_proxy gzip --session-token "e2e-session-token"
write_config gzip 'compression: gzip' 'total_file_size: 64KiB' \
  'key_format: "gzip/$TAG/%Y/%m/%d/obj-$INDEX-$UUID.ndjson.gz"'
AWS_ACCESS_KEY_ID=$AKID AWS_SECRET_ACCESS_KEY=$SECRET AWS_SESSION_TOKEN=e2e-session-token \
  run_ferry gzip "$WORK/in.txt"
stop_proxy gzip
summary=$(check gzip "$WORK/in.txt" \
  "gzip/stdin/$TODAY/obj-[0-9]+-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.ndjson\.gz")
echo "gzip: $summary"
objects=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['objects'])" "$summary")
[ "$objects" -ge 5 ] || fail "gzip: expected many small objects, got $objects"
[ "$(stat gzip "['token_seen']")" = "$(stat gzip "['requests']")" ] ||
  fail "gzip: not every request carried the signed session token"
# $INDEX counts objects from 1 (as Fluent Bit's) without gaps.
python3 - "$WORK/store/$BUCKET/gzip" <<'PY' || fail "gzip: \$INDEX values are not 1..n"
import os, re, sys
idx = sorted(int(re.search(r'obj-(\d+)-', f).group(1)) for _, _, fs in os.walk(sys.argv[1]) for f in fs if f.endswith('._S3rver_object'))
assert idx == list(range(1, len(idx) + 1)), idx[:10]
PY

# 2. zstd, default object size: one object at the end of input.
echo "[${SECONDS}s] 2. zstd"
start_proxy zstd
write_config zstd 'compression: zstd' 'key_format: "zstd/$TAG-%Y%m%dT%H%M%SZ-$UUID.ndjson.zst"'
AWS_ACCESS_KEY_ID=$AKID AWS_SECRET_ACCESS_KEY=$SECRET run_ferry zstd "$WORK/in.txt"
stop_proxy zstd
echo "zstd: $(check zstd "$WORK/in.txt" "zstd/stdin-[0-9]{8}T[0-9]{6}Z-[0-9a-f-]{36}\.ndjson\.zst")"

# 3. Multipart: ~24 MB uncompressed in one object of 5 MiB parts; the first part answered
echo "[${SECONDS}s] 3. multipart"
#    500 and two uploads answered 503 SlowDown, all retried.
start_proxy multipart --fail-part 1 --slowdown 2
write_config multipart 'compression: none' 'part_size: 5MiB' \
  'key_format: "multipart/$TAG/$UUID.ndjson"'
AWS_ACCESS_KEY_ID=$AKID AWS_SECRET_ACCESS_KEY=$SECRET run_ferry multipart "$WORK/big.txt"
stop_proxy multipart
echo "multipart: $(check multipart "$WORK/big.txt" "multipart/stdin/[0-9a-f-]{36}\.ndjson")"
echo "multipart: proxy saw $(stat multipart "['ops']"), statuses $(stat multipart "['status']")"
[ "$(stat multipart "['ops'].get('CreateMultipartUpload', 0) >= 1")" = True ] || fail "multipart: no CreateMultipartUpload"
[ "$(stat multipart "['ops'].get('UploadPart', 0) >= 3")" = True ] || fail "multipart: fewer than 3 parts"
[ "$(stat multipart "['ops'].get('CompleteMultipartUpload', 0) >= 1")" = True ] || fail "multipart: not completed"
[ "$(stat multipart "['max_part_bytes'] <= 5 * 1024 * 1024")" = True ] || fail "multipart: a part over part_size"
[ "$(stat multipart "['injected']")" = 3 ] || fail "multipart: the injected failures were not all hit"

# metric VALUE_REGEX: reads ferry's /metrics.
metric() {
  curl -sf --max-time 2 "http://$HTTP/metrics" | grep -E "$1" | awk '{s+=$2} END {print s+0}'
}
log_says() { grep -q "$2" "$WORK/$1.err"; }
# start_background NAME: ferry reading a fifo held open (only SIGTERM ends it); sets FPID, HTTP.
start_background() {
  local name=$1 port
  port=$(free_port)
  sed -i "s/127.0.0.1:0/127.0.0.1:$port/" "$WORK/$name.yaml"
  HTTP=127.0.0.1:$port
  mkfifo "$WORK/$name.fifo"
  "$FERRY_BIN" run -c "$WORK/$name.yaml" < "$WORK/$name.fifo" > /dev/null 2> "$WORK/$name.err" &
  FPID=$!; PIDS+=("$FPID")
  exec 3> "$WORK/$name.fifo"
  wait_for 10 health || { cat "$WORK/$name.err"; fail "$name: /health never answered"; }
}

# 4. A wrong secret key: every upload is refused (403 SignatureDoesNotMatch); /health turns
echo "[${SECONDS}s] 4. wrong secret key"
#    503 and says why, the log says why, nothing is dropped; once the key is accepted (the
#    proxy rotates to it) every record arrives exactly once.
start_proxy badkey
write_config badkey 'compression: gzip' 'total_file_size: 256KiB' 'upload_timeout: 1s' \
  'key_format: "badkey/$UUID.ndjson.gz"'
AWS_ACCESS_KEY_ID=$AKID AWS_SECRET_ACCESS_KEY=not-the-secret start_background badkey
cat "$WORK/in.txt" >&3
wait_for 20 log_says badkey 'SignatureDoesNotMatch' ||
  { tail -5 "$WORK/badkey.err"; fail "badkey: the log never said SignatureDoesNotMatch"; }
wait_for 10 health_says '^503 .*403' ||
  { health; fail "badkey: /health did not report the 403"; }
echo "badkey: /health says: $(health | cut -c1-200)"
[ "$(metric 'ferry_output_records_total\{.*result="dropped"')" = 0 ] || fail "badkey: records were dropped"
[ "$(metric 'ferry_output_retries_total')" -gt 0 ] || fail "badkey: no retries counted"
curl -sf --max-time 5 "http://127.0.0.1:$PORT/__secret?value=not-the-secret"
wait_for 30 health_says '^200' ||
  { health; fail "badkey: never healthy after the key was accepted"; }
kill -TERM "$FPID"; wait_exit "$FPID" 40
exec 3>&-
[ "$RC" = 0 ] || { tail -5 "$WORK/badkey.err"; fail "badkey: exit $RC"; }
proxy_stats > "$WORK/badkey.stats"
rejected=$(stat badkey "['rejected']")
[ "$rejected" -gt 0 ] || fail "badkey: the proxy refused nothing"
python3 "$E2E_DIR/s3_check.py" "$WORK/store/$BUCKET" "$WORK/in.txt" "badkey/[0-9a-f-]{36}\.ndjson\.gz" \
  --prefix badkey/ || fail "badkey: records lost or duplicated after the key was fixed"

# 4b. A bucket that does not exist: the log and /health name it (NoSuchBucket), the records
#     are kept for retry, and at the (short) shutdown deadline they are reported as lost.
write_config nobucket 'compression: gzip' 'upload_timeout: 1s'
sed -i "s/bucket: $BUCKET/bucket: no-such-bucket/; s/grace_period: 30s/grace_period: 1s/" "$WORK/nobucket.yaml"
AWS_ACCESS_KEY_ID=$AKID AWS_SECRET_ACCESS_KEY=not-the-secret start_background nobucket
cat "$WORK/in.txt" >&3
wait_for 15 log_says nobucket "bucket 'no-such-bucket' does not exist (NoSuchBucket)" ||
  { tail -5 "$WORK/nobucket.err"; fail "nobucket: the log did not name the missing bucket"; }
wait_for 10 health_says '^503 .*NoSuchBucket' || { health; fail "nobucket: /health did not say NoSuchBucket"; }
[ "$(metric 'ferry_output_records_total\{.*result="dropped"')" = 0 ] || fail "nobucket: records were dropped"
kill -TERM "$FPID"; wait_exit "$FPID" 20
exec 3>&-
log_says nobucket "$N records could not be delivered" || fail "nobucket: the loss at shutdown was not reported"
stop_proxy badkey

# 5. SIGTERM uploads the open object: upload_timeout 5m and a large total_file_size hold the
echo "[${SECONDS}s] 5. SIGTERM"
#    object open; nothing is uploaded until SIGTERM, then everything is.
start_proxy sigterm
write_config sigterm 'compression: gzip' 'upload_timeout: 5m' 'key_format: "sigterm/$UUID.ndjson.gz"'
AWS_ACCESS_KEY_ID=$AKID AWS_SECRET_ACCESS_KEY=$SECRET start_background sigterm
cat "$WORK/in.txt" >&3
sleep 2 # ferry has read the input by now; the object stays open (upload_timeout 5m)
[ "$(proxy_stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')" = 0 ] ||
  fail "sigterm: an object was uploaded before SIGTERM"
kill -TERM "$FPID"; wait_exit "$FPID" 40
exec 3>&-
[ "$RC" = 0 ] || { tail -5 "$WORK/sigterm.err"; fail "sigterm: exit $RC"; }
stop_proxy sigterm
echo "sigterm: $(check sigterm "$WORK/in.txt" "sigterm/[0-9a-f-]{36}\.ndjson\.gz")"

# 6. $TAG keys (Fluent Bit's s3_key_format): records of three tags, sent side by side over
echo "[${SECONDS}s] 6. tag keys"
#    forward, land in objects of one tag each (the runner partitions by tag), named by the tag
#    and its parts, every record exactly once and in order within its tag; $INDEX numbers the
#    objects 1..n across tags, as Fluent Bit does.
TAGS=(app.web.stdout app.api.stderr app.worker.stdout)
T=${S3_E2E_TAG_RECORDS:-8000}
start_proxy tags
write_config tags 'compression: gzip' 'total_file_size: 64KiB' 'upload_timeout: 1s' \
  'key_format: "/tags/$TAG[1]/$TAG/%Y/%m/%d/$INDEX-$UUID.gz"'
sed -i "s|^  - type: stdin\$|  - type: forward\n    listen: [ \"unix://$WORK/tags.sock\" ]|" "$WORK/tags.yaml"
grep -q 'type: forward' "$WORK/tags.yaml" || fail "tags: the config has no forward input"
AWS_ACCESS_KEY_ID=$AKID AWS_SECRET_ACCESS_KEY=$SECRET start_background tags
wait_for 10 test -S "$WORK/tags.sock" || fail "tags: the forward socket never appeared"
client_pids=()
for i in 0 1 2; do
  timeout 60 node "$E2E_DIR/forward_client.js" --path "$WORK/tags.sock" --tag "${TAGS[$i]}" \
    --first $((i * T)) --count "$T" > "$WORK/tags.client$i" 2>&1 &
  client_pids+=($!); PIDS+=($!)
done
for i in 0 1 2; do
  wait "${client_pids[$i]}" || { cat "$WORK/tags.client$i"; fail "tags: client ${TAGS[$i]} failed"; }
done
kill -TERM "$FPID"; wait_exit "$FPID" 40
exec 3>&-
[ "$RC" = 0 ] || { tail -5 "$WORK/tags.err"; fail "tags: exit $RC"; }
stop_proxy tags
[ "$(stat tags "['rejected']")" = 0 ] || fail "tags: the proxy rejected requests: $(stat tags "['reasons']")"
tag_summary=$(python3 - "$WORK/store/$BUCKET" "$T" "$TODAY" "${TAGS[@]}" <<'PY'
import collections, gzip, json, os, re, sys
bucket, T, today, tags = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
uuid = r'[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'
pattern = re.compile(r'tags/([^/]+)/([^/]+)/' + re.escape(today) + r'/(\d+)-' + uuid + r'\.gz')
SUFFIX = '._S3rver_object'
objects = []  # (index, tag, key, record numbers)
for root, _, files in os.walk(os.path.join(bucket, 'tags')):
    for f in files:
        if not f.endswith(SUFFIX):
            continue
        path = os.path.join(root, f)
        key = os.path.relpath(path, bucket)[:-len(SUFFIX)]
        m = pattern.fullmatch(key)
        assert m, f'key {key!r} is not tags/$TAG[1]/$TAG/%Y/%m/%d/$INDEX-$UUID.gz'
        part, tag, index = m.group(1), m.group(2), int(m.group(3))
        assert tag in tags, f'{key}: unknown tag {tag!r}'
        assert part == tag.split('.')[1], f'{key}: $TAG[1] of {tag} is not {part!r}'
        lines = gzip.decompress(open(path, 'rb').read()).decode('utf-8').split('\n')
        assert lines[-1] == '', f'{key}: does not end with a newline'
        numbers = [json.loads(l)['n'] for l in lines[:-1]]
        for n in numbers:
            assert tags[n // T] == tag, f'{key}: record {n} belongs to {tags[n // T]}'
        objects.append((index, tag, key, numbers))
indexes = sorted(o[0] for o in objects)
assert indexes == list(range(1, len(objects) + 1)), f'$INDEX not 1..{len(objects)}: {indexes[:20]}'
per_tag = collections.defaultdict(list)
for index, tag, key, numbers in sorted(objects):
    per_tag[tag].extend(numbers)
for i, tag in enumerate(tags):
    got = per_tag[tag]
    assert sorted(got) == list(range(i * T, (i + 1) * T)), f'{tag}: records missing or twice'
    assert got == sorted(got), f'{tag}: records out of order across its objects'
counts = collections.Counter(o[1] for o in objects)
assert all(counts[t] >= 2 for t in tags), f'expected several objects per tag: {dict(counts)}'
print(json.dumps({'objects': len(objects), 'per_tag': dict(counts)}))
PY
) || fail "tags: the objects do not hold each tag's records exactly once"
echo "tags: $tag_summary"

pass "s3: $N records exactly once via gzip ($objects objects) and zstd, multipart with retried" \
  "part/SlowDown, 403 on a wrong key reported and retried without loss ($rejected refused)," \
  "NoSuchBucket named, SIGTERM flushed the open object; \$TAG keys: one tag per object ($tag_summary)"
