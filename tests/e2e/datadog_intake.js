#!/usr/bin/env node
// A strict stand-in for the Datadog Logs intake (POST /api/v2/logs) for ferry's e2e tests.
// It refuses with 400 and a reason anything the real intake would not accept (wrong method,
// path, DD-API-KEY, Content-Type, Content-Encoding, body not a JSON array of 1..1,000 objects,
// over 5,000,000 bytes uncompressed, an entry over 1,000,000 bytes, a missing attribute, a
// message or hostname that is not a string), so a mistake fails the test. Accepted messages are appended to
// --out, one JSON string per line (null for an entry without one, as Fluent Bit sends a record
// whose log a parser took apart), whole entries to --entries-out; GET /stats returns counts. A fault schedule makes it misbehave on purpose (see usage).
// Listens on 127.0.0.1 only, port 0; the port is written to --port-file.
'use strict';

const http = require('http');
const fs = require('fs');
const zlib = require('zlib');

const usage = `usage: datadog_intake.js --port-file F --api-key K --out F [options]
  --encoding gzip|zstd|none     the Content-Encoding every request must carry
  --expect-service S --expect-source S --expect-tags S --expect-hostname S
  --expect-tags-re RE           every entry's ddtags must match RE whole (tags that vary)
  --entries-out F               append every accepted entry here, one JSON object per line
  --fail-503 N                  answer 503 to the first N requests
  --fail-503-ms T               answer 503 to every request for T ms from the first one (an
                                outage; stats count outage_requests, first/last_accepted_ms)
  --fail-429 M                  then 429 (Retry-After: 1) to the next M
  --fail-400-at K               answer 400 to request number K (1-based; counted as refused)
  --max-entries-413 X           answer 413 to any request with more than X entries
  --refused-out F               append the messages of deliberately refused requests here`;

const MAX_ENTRIES = 1000;
const MAX_PAYLOAD = 5000000;
const MAX_ENTRY = 1000000;
const MAX_COMPRESSED = 64 * 1024 * 1024;

function parseArgs(argv) {
  const opts = { encoding: 'gzip', fail503: 0, fail503Ms: 0, fail429: 0, fail400At: 0, maxEntries413: 0 };
  const names = {
    '--port-file': 'portFile', '--api-key': 'apiKey', '--out': 'out', '--encoding': 'encoding',
    '--expect-service': 'service', '--expect-source': 'source', '--expect-tags': 'tags',
    '--expect-hostname': 'hostname', '--fail-503': 'fail503', '--fail-503-ms': 'fail503Ms', '--fail-429': 'fail429',
    '--fail-400-at': 'fail400At', '--max-entries-413': 'maxEntries413',
    '--refused-out': 'refusedOut', '--expect-tags-re': 'tagsRe', '--entries-out': 'entriesOut',
  };
  for (let i = 2; i < argv.length; i += 2) {
    const key = names[argv[i]];
    if (!key || i + 1 >= argv.length) {
      console.error(`unknown or incomplete option ${argv[i]}\n${usage}`);
      process.exit(2);
    }
    const v = argv[i + 1];
    opts[key] = ['fail503', 'fail503Ms', 'fail429', 'fail400At', 'maxEntries413'].includes(key) ? Number(v) : v;
  }
  if (!opts.portFile || !opts.apiKey || !opts.out) {
    console.error(usage);
    process.exit(2);
  }
  return opts;
}

const opts = parseArgs(process.argv);
const tagsRe = opts.tagsRe === undefined ? null : new RegExp(`^(?:${opts.tagsRe})$`);

let zstdDecompress = null;
if (typeof zlib.zstdDecompressSync === 'function') {
  zstdDecompress = (buf) => zlib.zstdDecompressSync(buf);
} else {
  try {
    const fzstd = require('fzstd');
    zstdDecompress = (buf) => Buffer.from(fzstd.decompress(new Uint8Array(buf)));
  } catch (e) {
    zstdDecompress = null; // refused below with a reason naming the missing package
  }
}

const stats = {
  requests: 0,
  outage_requests: 0, // answered 503 during the --fail-503-ms outage
  first_accepted_ms: null, // since the first request
  last_accepted_ms: null,
  accepted_requests: 0,
  accepted_entries: 0,
  refused_requests: 0, // deliberate 400s from the schedule
  refused_entries: 0,
  invalid_requests: 0, // requests that broke the intake's rules: always a bug
  invalid_reasons: [],
  status: {},
  max_entries_accepted: 0,
  max_payload_seen: 0,
  max_entry_seen: 0,
  truncated_entries: 0,
};

function answer(res, status, body, headers = {}) {
  stats.status[status] = (stats.status[status] || 0) + 1;
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function invalid(res, reason) {
  stats.invalid_requests += 1;
  if (stats.invalid_reasons.length < 20) stats.invalid_reasons.push(reason);
  answer(res, 400, { errors: [{ status: '400', title: 'Bad Request', detail: reason }] });
}

function decode(encoding, raw) {
  if (encoding === undefined || encoding === 'identity') return raw;
  if (encoding === 'gzip') return zlib.gunzipSync(raw, { maxOutputLength: MAX_PAYLOAD + 1 });
  if (encoding === 'zstd') {
    if (!zstdDecompress) throw new Error('zstd body but no decoder: run npm install in tests/e2e');
    return zstdDecompress(raw);
  }
  throw new Error(`unsupported Content-Encoding ${encoding}`);
}

// Every rule of the intake that ferry must honour; returns a reason or null.
function check(entries) {
  if (!Array.isArray(entries)) return 'body is not a JSON array';
  if (entries.length === 0) return 'empty array';
  if (entries.length > MAX_ENTRIES) return `${entries.length} entries (max ${MAX_ENTRIES})`;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (e === null || typeof e !== 'object' || Array.isArray(e)) {
      return `entry ${i} is not an object`;
    }
    const size = Buffer.byteLength(JSON.stringify(e));
    stats.max_entry_seen = Math.max(stats.max_entry_seen, size);
    if (size > MAX_ENTRY) return `entry ${i} is ${size} bytes (max ${MAX_ENTRY})`;
    for (const k of ['ddsource', 'service', 'ddtags']) {
      if (typeof e[k] !== 'string') return `entry ${i}: ${k} missing or not a string`;
    }
    // Datadog takes the host from `hostname` (or `host`) when there is one: Fluent Bit sends
    // none unless dd_hostname is set.
    if ('hostname' in e && typeof e.hostname !== 'string') return `entry ${i}: hostname not a string`;
    if ('message' in e && typeof e.message !== 'string') return `entry ${i}: message not a string`;
    if (tagsRe && !tagsRe.test(e.ddtags)) {
      return `entry ${i}: ddtags '${e.ddtags}' do not match /${opts.tagsRe}/`;
    }
    if (!Number.isSafeInteger(e.timestamp)) return `entry ${i}: timestamp is not integer ms`;
    if (Math.abs(e.timestamp - Date.now()) > 24 * 3600 * 1000) {
      return `entry ${i}: timestamp ${e.timestamp} is not milliseconds near now`;
    }
    for (const [k, want] of [['service', opts.service], ['ddsource', opts.source],
                             ['ddtags', opts.tags], ['hostname', opts.hostname]]) {
      if (want !== undefined && e[k] !== want) {
        return `entry ${i}: ${k} is '${e[k]}', expected '${want}'`;
      }
    }
    if (e['ferry.truncated'] === true) stats.truncated_entries += 1;
  }
  return null;
}

let firstRequestAt = null;

function handle(req, res, raw) {
  if (req.method === 'GET' && req.url === '/stats') return answer(res, 200, stats);
  if (req.method !== 'POST') return invalid(res, `method ${req.method}`);
  if (req.url !== '/api/v2/logs') return invalid(res, `path ${req.url}`);
  stats.requests += 1;
  const n = stats.requests;
  const now = Date.now();
  if (firstRequestAt === null) firstRequestAt = now;
  if (req.headers['dd-api-key'] !== opts.apiKey) return invalid(res, 'DD-API-KEY missing or wrong');
  const type = req.headers['content-type'] || '';
  if (!/^application\/json(\s*;.*)?$/.test(type)) return invalid(res, `Content-Type ${type}`);
  const encoding = req.headers['content-encoding'];
  const want = opts.encoding === 'none' ? undefined : opts.encoding;
  if (encoding !== want) return invalid(res, `Content-Encoding ${encoding}, expected ${want}`);
  let body;
  try {
    body = decode(encoding, raw);
  } catch (e) {
    return invalid(res, `cannot decompress: ${e.message}`);
  }
  if (body.length > MAX_PAYLOAD) {
    return invalid(res, `payload over ${MAX_PAYLOAD} bytes uncompressed`);
  }
  stats.max_payload_seen = Math.max(stats.max_payload_seen, body.length);
  let entries;
  try {
    entries = JSON.parse(body.toString('utf8'));
  } catch (e) {
    return invalid(res, `body is not JSON: ${e.message}`);
  }
  const reason = check(entries);
  if (reason) return invalid(res, reason);

  // The fault schedule, once the request itself is known to be good.
  if (n <= opts.fail503) return answer(res, 503, { errors: ['service unavailable (scheduled)'] });
  if (now - firstRequestAt < opts.fail503Ms) {
    stats.outage_requests += 1;
    return answer(res, 503, { errors: ['service unavailable (outage)'] });
  }
  if (n <= opts.fail503 + opts.fail429) {
    return answer(res, 429, { errors: ['rate limited (scheduled)'] }, { 'Retry-After': '1' });
  }
  const lines = entries.map((e) => JSON.stringify(e.message ?? null)).join('\n') + '\n';
  if (n === opts.fail400At) {
    stats.refused_requests += 1;
    stats.refused_entries += entries.length;
    if (opts.refusedOut) fs.appendFileSync(opts.refusedOut, lines);
    return answer(res, 400, { errors: ['refused (scheduled)'] });
  }
  if (opts.maxEntries413 > 0 && entries.length > opts.maxEntries413) {
    return answer(res, 413, { errors: ['payload too large (scheduled)'] });
  }
  fs.appendFileSync(opts.out, lines);
  if (opts.entriesOut) {
    fs.appendFileSync(opts.entriesOut, entries.map((e) => JSON.stringify(e)).join('\n') + '\n');
  }
  stats.accepted_requests += 1;
  if (stats.first_accepted_ms === null) stats.first_accepted_ms = now - firstRequestAt;
  stats.last_accepted_ms = now - firstRequestAt;
  stats.accepted_entries += entries.length;
  stats.max_entries_accepted = Math.max(stats.max_entries_accepted, entries.length);
  return answer(res, 202, {});
}

const server = http.createServer((req, res) => {
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size <= MAX_COMPRESSED) chunks.push(c);
  });
  req.on('end', () => {
    if (size > MAX_COMPRESSED) return invalid(res, `body over ${MAX_COMPRESSED} bytes`);
    try {
      handle(req, res, Buffer.concat(chunks));
    } catch (e) {
      invalid(res, `server error: ${e.stack}`);
    }
  });
});
server.keepAliveTimeout = 30000;
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(opts.portFile + '.tmp', String(server.address().port));
  fs.renameSync(opts.portFile + '.tmp', opts.portFile);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
