#!/usr/bin/env node
// A strict stand-in for Amazon Data Firehose's PutRecordBatch (POST /, JSON 1.1 protocol)
// for ferry's e2e tests. Anything the real service would refuse is answered with the error the
// service would give and counted as invalid (a test fails on any): wrong method or path,
// X-Amz-Target, Content-Type, a SigV4 signature that does not verify (recomputed with
// @smithy/signature-v4 from the signed headers and the body), a clock skew over 5 minutes,
// another access key, region or service in the scope, an unknown stream, 0 or over 500
// records, a body over 4 MiB, a record over 1,000 KiB or not strict base64. Each record must
// decode to newline-terminated JSON lines; every line is appended to --out.
// Faults on purpose: --fail-fraction F (< 0.5) fails that share of the records it sees
// (FailedPutCount, ErrorCode ServiceUnavailableException per record); --throttle-first N
// answers the first N valid requests ThrottlingException (400) or ServiceUnavailable (503),
// alternating; --not-found-first N answers the next N ResourceNotFoundException.
// GET /__deny?status=403 (or 401) refuses every valid request from then on as IAM would
// (403 AccessDeniedException; 401 UnrecognizedClientException; &type=T for another error
// type) until GET /__deny?status=0, so a test can break and fix the permissions at will.
// Listens on 127.0.0.1, port 0; the port is written to --port-file. GET /stats: counts
// (also written to --stats-file on SIGTERM).
'use strict';

const http = require('http');
const fs = require('fs');
const crypto = require('crypto');
const { SignatureV4 } = require('@smithy/signature-v4');
const { Sha256 } = require('@aws-crypto/sha256-js');

const usage = `usage: firehose_server.js --port-file F --out F --stream NAME --region R
       --access-key-id K --secret-access-key S [--session-token T]
       [--fail-fraction F] [--throttle-first N] [--not-found-first N] [--stats-file F]`;

const MAX_RECORDS = 500;
const MAX_BODY = 4 * 1024 * 1024;
const MAX_RECORD = 1000 * 1024;
const MAX_SKEW_MS = 5 * 60 * 1000;
const TARGET = 'Firehose_20150804.PutRecordBatch';
const CONTENT_TYPE = 'application/x-amz-json-1.1';

function parseArgs(argv) {
  const opts = { failFraction: 0, throttleFirst: 0, notFoundFirst: 0 };
  const names = {
    '--port-file': 'portFile', '--out': 'out', '--stream': 'stream', '--region': 'region',
    '--access-key-id': 'accessKeyId', '--secret-access-key': 'secretAccessKey',
    '--session-token': 'sessionToken', '--stats-file': 'statsFile', '--fail-fraction': 'failFraction',
    '--throttle-first': 'throttleFirst', '--not-found-first': 'notFoundFirst',
  };
  const numeric = ['failFraction', 'throttleFirst', 'notFoundFirst'];
  for (let i = 2; i < argv.length; i += 2) {
    const key = names[argv[i]];
    if (!key || i + 1 >= argv.length) {
      console.error(`unknown or incomplete option ${argv[i]}\n${usage}`);
      process.exit(2);
    }
    opts[key] = numeric.includes(key) ? Number(argv[i + 1]) : argv[i + 1];
  }
  for (const k of ['portFile', 'out', 'stream', 'region', 'accessKeyId', 'secretAccessKey']) {
    if (!opts[k]) {
      console.error(`missing ${k}\n${usage}`);
      process.exit(2);
    }
  }
  return opts;
}

const opts = parseArgs(process.argv);
const signer = new SignatureV4({
  credentials: {
    accessKeyId: opts.accessKeyId,
    secretAccessKey: opts.secretAccessKey,
    sessionToken: opts.sessionToken,
  },
  region: opts.region,
  service: 'firehose',
  sha256: Sha256,
  applyChecksum: false, // Firehose does not use x-amz-content-sha256
});

// Which records fail: exactly the share --fail-fraction of the records seen, spread evenly
// (record c fails when floor((c+1)F) > floor(cF)), so every run fails the same share and a
// resent record (F < 0.5) never fails twice in a row.
let recordsSeen = 0;
function nextRecordFails() {
  const c = recordsSeen++;
  return Math.floor((c + 1) * opts.failFraction) > Math.floor(c * opts.failFraction);
}

const stats = {
  requests: 0,
  valid_requests: 0,
  invalid_requests: 0, // broke a rule of the service: always a bug in ferry
  invalid_reasons: [],
  status: {},
  errors: {},               // error type → count (scheduled faults)
  firehose_records: 0,      // accepted Firehose records
  failed_records: 0,        // records refused on purpose inside a 200 (FailedPutCount)
  partial_responses: 0,     // 200 answers with FailedPutCount > 0
  lines: 0,                 // JSON lines in accepted records
  max_records_seen: 0,
  max_body_seen: 0,
  max_record_seen: 0,
  max_lines_per_record: 0,
  session_tokens_seen: 0,
  denied_requests: 0,       // valid requests refused while /__deny was on
};

// The /__deny switch: the status and error type to answer every valid request, or null.
let deny = null;
const DENY_TYPES = { 401: 'UnrecognizedClientException', 403: 'AccessDeniedException' };
function setDeny(req, res) {
  const q = new URL(req.url, 'http://x').searchParams;
  const status = Number(q.get('status'));
  if (status === 0) {
    deny = null;
  } else if (status === 401 || status === 403) {
    deny = { status, type: q.get('type') || DENY_TYPES[status] };
  } else {
    res.writeHead(400, { 'Content-Type': 'text/plain' });
    return res.end('status must be 0, 401 or 403\n');
  }
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end(deny ? `denying: ${deny.status} ${deny.type}\n` : 'allowing\n');
}

function answer(res, status, body, headers = {}) {
  stats.status[status] = (stats.status[status] || 0) + 1;
  res.writeHead(status, { 'Content-Type': CONTENT_TYPE, ...headers });
  res.end(JSON.stringify(body));
}

// An AWS JSON-protocol error, as Firehose sends it.
function awsError(res, status, type, message) {
  stats.errors[type] = (stats.errors[type] || 0) + 1;
  answer(res, status, { __type: type, message }, { 'x-amzn-ErrorType': `${type}:` });
}

function invalid(res, status, type, reason) {
  stats.invalid_requests += 1;
  if (stats.invalid_reasons.length < 20) stats.invalid_reasons.push(reason);
  awsError(res, status, type, reason);
}

// "20150830T123600Z" → Date, or null.
function parseAmzDate(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
  if (!m) return null;
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

// Recomputes the signature from the request's signed headers and body; a reason or null.
async function verifySignature(req, raw) {
  const auth = req.headers.authorization || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return ['IncompleteSignatureException', `malformed Authorization '${auth.slice(0, 80)}'`];
  const [, keyId, scopeDate, region, service, signedList, signature] = m;
  if (keyId !== opts.accessKeyId) return ['UnrecognizedClientException', `unknown access key ${keyId}`];
  if (region !== opts.region) return ['InvalidSignatureException', `scope region ${region}`];
  if (service !== 'firehose') return ['InvalidSignatureException', `scope service ${service}`];
  const date = parseAmzDate(req.headers['x-amz-date']);
  if (!date) return ['IncompleteSignatureException', 'X-Amz-Date missing or malformed'];
  if (req.headers['x-amz-date'].slice(0, 8) !== scopeDate) {
    return ['InvalidSignatureException', 'scope date differs from X-Amz-Date'];
  }
  if (Math.abs(date.getTime() - Date.now()) > MAX_SKEW_MS) {
    return ['InvalidSignatureException', `signature expired or from the future (${req.headers['x-amz-date']})`];
  }
  const signed = signedList.split(';');
  for (const required of ['host', 'x-amz-date', 'x-amz-target', 'content-type']) {
    if (!signed.includes(required)) return ['InvalidSignatureException', `${required} not signed`];
  }
  if (opts.sessionToken !== undefined) {
    if (req.headers['x-amz-security-token'] !== opts.sessionToken) {
      return ['UnrecognizedClientException', 'X-Amz-Security-Token missing or wrong'];
    }
    if (!signed.includes('x-amz-security-token')) {
      return ['InvalidSignatureException', 'x-amz-security-token not signed'];
    }
    stats.session_tokens_seen += 1;
  }
  const headers = {};
  for (const name of signed) {
    if (req.headers[name] === undefined) return ['InvalidSignatureException', `signed header ${name} absent`];
    headers[name] = req.headers[name];
  }
  const [hostname, port] = req.headers.host.split(':');
  const request = {
    method: req.method, protocol: 'http:', hostname, port: port ? Number(port) : undefined,
    path: req.url, query: {}, headers, body: raw,
  };
  const out = await signer.sign(request, { signingDate: date });
  const want = /Signature=([0-9a-f]{64})/.exec(out.headers.authorization)[1];
  const wantSigned = /SignedHeaders=([^,]+)/.exec(out.headers.authorization)[1];
  if (wantSigned !== signedList) return ['InvalidSignatureException', `SignedHeaders ${signedList}, recomputed ${wantSigned}`];
  if (!crypto.timingSafeEqual(Buffer.from(want), Buffer.from(signature))) {
    return ['InvalidSignatureException', 'The request signature we calculated does not match the signature you provided'];
  }
  return null;
}

// Strict base64: only the canonical padded form decodes.
function decodeBase64(s) {
  if (typeof s !== 'string' || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null;
  const b = Buffer.from(s, 'base64');
  return b.toString('base64') === s ? b : null;
}

async function handle(req, res, raw, size) {
  if (req.method === 'GET' && req.url === '/stats') return answer(res, 200, stats);
  if (req.method === 'GET' && req.url.startsWith('/__deny?')) return setDeny(req, res);
  stats.requests += 1;
  if (req.method !== 'POST') return invalid(res, 405, 'UnknownOperationException', `method ${req.method}`);
  if (req.url !== '/') return invalid(res, 404, 'UnknownOperationException', `path ${req.url}`);
  if (req.headers['x-amz-target'] !== TARGET) {
    return invalid(res, 400, 'UnknownOperationException', `X-Amz-Target ${req.headers['x-amz-target']}`);
  }
  if (req.headers['content-type'] !== CONTENT_TYPE) {
    return invalid(res, 400, 'SerializationException', `Content-Type ${req.headers['content-type']}`);
  }
  if (req.headers['content-encoding'] !== undefined) {
    return invalid(res, 400, 'SerializationException', `Content-Encoding ${req.headers['content-encoding']}`);
  }
  if (raw.length > MAX_BODY || size > MAX_BODY) return invalid(res, 413, 'RequestEntityTooLargeException', `body ${raw.length} bytes`);
  stats.max_body_seen = Math.max(stats.max_body_seen, raw.length);
  const sigError = await verifySignature(req, raw);
  if (sigError) return invalid(res, sigError[0] === 'UnrecognizedClientException' ? 403 : 400, sigError[0], sigError[1]);

  let body;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    return invalid(res, 400, 'SerializationException', `body is not JSON: ${e.message}`);
  }
  if (body === null || typeof body !== 'object' || Object.keys(body).sort().join() !== 'DeliveryStreamName,Records') {
    return invalid(res, 400, 'SerializationException', 'body must hold exactly DeliveryStreamName and Records');
  }
  if (body.DeliveryStreamName !== opts.stream) {
    return invalid(res, 400, 'ResourceNotFoundException', `stream ${body.DeliveryStreamName} not found`);
  }
  const records = body.Records;
  if (!Array.isArray(records) || records.length < 1 || records.length > MAX_RECORDS) {
    return invalid(res, 400, 'ValidationException', `Records must hold 1..${MAX_RECORDS} (got ${records && records.length})`);
  }
  const decoded = [];
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    if (r === null || typeof r !== 'object' || Object.keys(r).join() !== 'Data') {
      return invalid(res, 400, 'SerializationException', `record ${i} must hold exactly Data`);
    }
    const data = decodeBase64(r.Data);
    if (data === null) return invalid(res, 400, 'SerializationException', `record ${i}: Data is not strict base64`);
    if (data.length === 0 || data.length > MAX_RECORD) {
      return invalid(res, 400, 'ValidationException', `record ${i}: ${data.length} bytes (1..${MAX_RECORD})`);
    }
    const text = data.toString('utf8');
    if (!text.endsWith('\n')) return invalid(res, 400, 'ValidationException', `record ${i} is not newline terminated`);
    const lines = text.slice(0, -1).split('\n');
    for (const line of lines) {
      try {
        const obj = JSON.parse(line);
        if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new Error('not an object');
      } catch (e) {
        return invalid(res, 400, 'ValidationException', `record ${i}: a line is not a JSON object: ${line.slice(0, 60)}`);
      }
    }
    stats.max_record_seen = Math.max(stats.max_record_seen, data.length);
    decoded.push(lines);
  }
  if (deny) {
    stats.denied_requests += 1;
    return awsError(res, deny.status, deny.type, deny.status === 403
      ? `User: arn:aws:iam::123456789012:user/ferry-e2e is not authorized to perform: ` +
        `firehose:PutRecordBatch on resource: deliverystream/${opts.stream} (denied on purpose)`
      : 'The security token included in the request is invalid. (denied on purpose)');
  }
  stats.valid_requests += 1;
  stats.max_records_seen = Math.max(stats.max_records_seen, records.length);

  // The fault schedule, once the request itself is known to be good.
  const n = stats.valid_requests;
  if (n <= opts.throttleFirst) {
    return n % 2 === 1
      ? awsError(res, 400, 'ThrottlingException', 'Rate exceeded (scheduled)')
      : awsError(res, 503, 'ServiceUnavailableException', 'Slow down (scheduled)');
  }
  if (n <= opts.throttleFirst + opts.notFoundFirst) {
    return awsError(res, 400, 'ResourceNotFoundException',
      `Firehose ${opts.stream} under account 123456789012 not found (scheduled)`);
  }
  const responses = [];
  const accepted = [];
  let failed = 0;
  for (const lines of decoded) {
    if (nextRecordFails()) {
      failed += 1;
      responses.push({ ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' });
      continue;
    }
    responses.push({ RecordId: crypto.randomBytes(16).toString('hex') });
    accepted.push(...lines);
    stats.max_lines_per_record = Math.max(stats.max_lines_per_record, lines.length);
  }
  if (accepted.length) fs.appendFileSync(opts.out, accepted.join('\n') + '\n');
  stats.firehose_records += decoded.length - failed;
  stats.failed_records += failed;
  stats.lines += accepted.length;
  if (failed) stats.partial_responses += 1;
  return answer(res, 200, { FailedPutCount: failed, Encrypted: false, RequestResponses: responses });
}

const server = http.createServer((req, res) => {
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size <= 4 * MAX_BODY) chunks.push(c); // beyond that it is refused anyway
  });
  req.on('end', () => {
    handle(req, res, Buffer.concat(chunks), size).catch((e) => {
      invalid(res, 500, 'InternalFailure', `server error: ${e.stack}`);
    });
  });
});
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(opts.portFile + '.tmp', String(server.address().port));
  fs.renameSync(opts.portFile + '.tmp', opts.portFile);
});
// On SIGTERM the counts go to --stats-file (cheaper for a test than another HTTP client).
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    if (opts.statsFile) fs.writeFileSync(opts.statsFile, JSON.stringify(stats));
    process.exit(0);
  });
}
