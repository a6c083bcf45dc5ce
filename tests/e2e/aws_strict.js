// What every strict stand-in for an AWS JSON 1.1 service in ferry's e2e tests shares
// (firehose_server.js, cloudwatch_logs_server.js, kinesis_server.js): the command line, the
// HTTP server on 127.0.0.1 port 0 (port written to --port-file), GET /stats (written to
// --stats-file on SIGTERM), the GET /__deny switch, and the checks every call passes before
// its action sees it: POST /, an X-Amz-Target the service knows, Content-Type
// application/x-amz-json-1.1, no Content-Encoding, a body within the service's limit, a SigV4
// signature recomputed with @smithy/signature-v4 from the signed headers and the body (the
// access key, region and service of the scope, X-Amz-Date within 5 minutes, host, x-amz-date,
// x-amz-target and content-type signed, the session token when one is configured), strict
// UTF-8 JSON holding an object. Errors are answered in AWS's shape
// {"__type": T, "message": M} with x-amzn-ErrorType; a call that breaks a rule of the service
// is counted in stats.invalid_requests (a bug in the client: tests fail on any).
'use strict';

const http = require('http');
const fs = require('fs');
const crypto = require('crypto');
const { SignatureV4 } = require('@smithy/signature-v4');
const { Sha256 } = require('@aws-crypto/sha256-js');

const CONTENT_TYPE = 'application/x-amz-json-1.1';
const MAX_SKEW_MS = 5 * 60 * 1000;
const ACCOUNT = '123456789012'; // the stand-ins' AWS account id
const COMMON_OPTIONS = {
  '--port-file': 'portFile', '--out': 'out', '--region': 'region',
  '--access-key-id': 'accessKeyId', '--secret-access-key': 'secretAccessKey',
  '--session-token': 'sessionToken', '--stats-file': 'statsFile',
};
const COMMON_USAGE = '--port-file F --out F --region R --access-key-id K --secret-access-key S\n' +
  '       [--session-token T] [--stats-file F]';

// parseArgs(argv, spec): the common options plus spec.options ({flag: key}); keys in
// spec.numeric are numbers, in spec.lists arrays (the flag may repeat), spec.required must
// be given. Exits 2 with the usage on anything else.
function parseArgs(argv, spec) {
  const opts = { ...(spec.defaults || {}) };
  const names = { ...COMMON_OPTIONS, ...spec.options };
  const numeric = spec.numeric || [];
  const lists = spec.lists || [];
  for (const k of lists) opts[k] = [];
  const usage = `usage: ${spec.name} ${COMMON_USAGE}\n       ${spec.usage}`;
  for (let i = 2; i < argv.length; i += 2) {
    const key = names[argv[i]];
    if (!key || i + 1 >= argv.length) {
      console.error(`unknown or incomplete option ${argv[i]}\n${usage}`);
      process.exit(2);
    }
    const value = numeric.includes(key) ? Number(argv[i + 1]) : argv[i + 1];
    if (numeric.includes(key) && !Number.isFinite(value)) {
      console.error(`${argv[i]} wants a number, not '${argv[i + 1]}'\n${usage}`);
      process.exit(2);
    }
    if (lists.includes(key)) opts[key].push(value);
    else opts[key] = value;
  }
  const required = ['portFile', 'out', 'region', 'accessKeyId', 'secretAccessKey', ...(spec.required || [])];
  for (const k of required) {
    if (Array.isArray(opts[k]) ? opts[k].length === 0 : !opts[k]) {
      console.error(`missing ${k}\n${usage}`);
      process.exit(2);
    }
  }
  return opts;
}

// "20150830T123600Z" → Date, or null.
function parseAmzDate(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
  if (!m) return null;
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

// Strict base64: only the canonical padded form decodes; a Buffer or null.
function decodeBase64(s) {
  if (typeof s !== 'string' || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null;
  const b = Buffer.from(s, 'base64');
  return b.toString('base64') === s ? b : null;
}

// checkKeys(obj, required, optional): a reason when obj is not an object holding every
// required key and nothing but required and optional ones, else null.
function checkKeys(obj, required, optional = []) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return 'not a JSON object';
  for (const k of required) if (!(k in obj)) return `missing ${k}`;
  for (const k of Object.keys(obj)) {
    if (!required.includes(k) && !optional.includes(k)) return `unknown member ${k}`;
  }
  return null;
}

// A string made of whole code points (no lone UTF-16 surrogate, which has no UTF-8 form).
function wellFormed(s) {
  return typeof s === 'string' && !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

// The scheduled faults: schedule is a list of [count, answer]; the nth valid call (from 1)
// gets the answer of the entry its n falls in, counted in order. Returns a function or null.
function scheduledFault(n, schedule) {
  let end = 0;
  for (const [count, answer] of schedule) {
    end += count;
    if (n <= end) return answer;
  }
  return null;
}

// An evenly spread share F of a sequence fails: item c fails when floor((c+1)F) > floor(cF),
// so every run fails the same share and, for F < 0.5, a resent item never fails twice in a row.
function failureSpreader(fraction) {
  let seen = 0;
  return () => {
    const c = seen++;
    return Math.floor((c + 1) * fraction) > Math.floor(c * fraction);
  };
}

// serve(spec): starts the stand-in. spec: name, usage, options/numeric/lists/required/
// defaults (parseArgs), service (the SigV4 signing name), targets ({X-Amz-Target: async
// handler(call)}), maxBody, bodyTooLarge ([status, type] for a body over maxBody), stats
// (the service's own counters), denied(call) (the IAM message for a denied call).
// A handler gets call = {req, target, body (the parsed JSON), raw, reply(body), error(status,
// type, message), invalid(status, type, reason), admit()}; admit() ends the checks: it
// answers a denied call itself (false), else counts the call valid and returns its number.
// Returns {opts, stats}.
function serve(spec) {
  const opts = parseArgs(process.argv, spec);
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: opts.accessKeyId,
      secretAccessKey: opts.secretAccessKey,
      sessionToken: opts.sessionToken,
    },
    region: opts.region,
    service: spec.service,
    sha256: Sha256,
    applyChecksum: false, // JSON 1.1 services do not use x-amz-content-sha256
  });
  const stats = {
    requests: 0,
    valid_requests: 0,
    invalid_requests: 0, // broke a rule of the service: always a bug in the client
    invalid_reasons: [],
    status: {},
    errors: {},          // error type → count (scheduled faults and service answers)
    targets: {},         // action → valid calls
    max_body_seen: 0,
    session_tokens_seen: 0,
    denied_requests: 0,  // valid requests refused while /__deny was on
    ...spec.stats,
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
    res.writeHead(status, {
      'Content-Type': CONTENT_TYPE, 'x-amzn-RequestId': crypto.randomUUID(), ...headers,
    });
    res.end(JSON.stringify(body));
  }
  function awsError(res, status, type, message) {
    stats.errors[type] = (stats.errors[type] || 0) + 1;
    answer(res, status, { __type: type, message }, { 'x-amzn-ErrorType': `${type}:` });
  }
  function invalid(res, status, type, reason) {
    stats.invalid_requests += 1;
    if (stats.invalid_reasons.length < 20) stats.invalid_reasons.push(reason);
    awsError(res, status, type, reason);
  }

  // Recomputes the signature from the request's signed headers and body; [type, reason] or null.
  async function verifySignature(req, raw) {
    const auth = req.headers.authorization || '';
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
    if (!m) return ['IncompleteSignatureException', `malformed Authorization '${auth.slice(0, 80)}'`];
    const [, keyId, scopeDate, region, service, signedList, signature] = m;
    if (keyId !== opts.accessKeyId) return ['UnrecognizedClientException', `unknown access key ${keyId}`];
    if (region !== opts.region) return ['InvalidSignatureException', `scope region ${region}`];
    if (service !== spec.service) return ['InvalidSignatureException', `scope service ${service}`];
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

  const utf8 = new TextDecoder('utf-8', { fatal: true });
  async function handle(req, res, raw, size) {
    if (req.method === 'GET' && req.url === '/stats') return answer(res, 200, stats);
    if (req.method === 'GET' && req.url.startsWith('/__deny?')) return setDeny(req, res);
    stats.requests += 1;
    const bad = (status, type, reason) => invalid(res, status, type, reason);
    if (req.method !== 'POST') return bad(405, 'UnknownOperationException', `method ${req.method}`);
    if (req.url !== '/') return bad(404, 'UnknownOperationException', `path ${req.url}`);
    const target = req.headers['x-amz-target'];
    const handler = Object.hasOwn(spec.targets, target) ? spec.targets[target] : undefined;
    if (!handler) return bad(400, 'UnknownOperationException', `X-Amz-Target ${target}`);
    if (req.headers['content-type'] !== CONTENT_TYPE) {
      return bad(400, 'SerializationException', `Content-Type ${req.headers['content-type']}`);
    }
    if (req.headers['content-encoding'] !== undefined) {
      return bad(400, 'SerializationException', `Content-Encoding ${req.headers['content-encoding']}`);
    }
    if (raw.length > spec.maxBody || size > spec.maxBody) {
      const [status, type] = spec.bodyTooLarge;
      return bad(status, type, `body ${size} bytes (at most ${spec.maxBody})`);
    }
    stats.max_body_seen = Math.max(stats.max_body_seen, raw.length);
    const sigError = await verifySignature(req, raw);
    if (sigError) return bad(sigError[0] === 'UnrecognizedClientException' ? 403 : 400, sigError[0], sigError[1]);

    let body;
    try {
      body = JSON.parse(utf8.decode(raw));
    } catch (e) {
      return bad(400, 'SerializationException', `body is not UTF-8 JSON: ${e.message}`);
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      return bad(400, 'SerializationException', 'body is not a JSON object');
    }
    const action = target.slice(target.indexOf('.') + 1);
    const call = {
      req, target, action, body, raw,
      reply: (out) => answer(res, 200, out),
      error: (status, type, message) => awsError(res, status, type, message),
      invalid: bad,
      admit: () => {
        if (deny) {
          stats.denied_requests += 1;
          awsError(res, deny.status, deny.type, deny.status === 403
            ? `User: arn:aws:iam::${ACCOUNT}:user/ferry-e2e is not authorized to perform: ` +
              `${spec.denied(call)} (denied on purpose)`
            : 'The security token included in the request is invalid. (denied on purpose)');
          return false;
        }
        stats.valid_requests += 1;
        stats.targets[action] = (stats.targets[action] || 0) + 1;
        return stats.valid_requests;
      },
    };
    return handler(call);
  }

  const server = http.createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size <= 4 * spec.maxBody) chunks.push(c); // beyond that it is refused anyway
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
  return { opts, stats };
}

module.exports = {
  ACCOUNT, serve, decodeBase64, checkKeys, wellFormed, scheduledFault, failureSpreader,
};
