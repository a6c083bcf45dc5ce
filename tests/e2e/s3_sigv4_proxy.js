#!/usr/bin/env node
// A strict SigV4 gate in front of s3rver (which checks little of the signature): every
// request's Authorization is recomputed with @smithy/signature-v4 from the headers it says
// it signed, its x-amz-content-sha256 must be the SHA-256 of the body actually received, the
// clock skew must be under 15 minutes, the scope must be <date>/<region>/s3/aws4_request.
// Bad requests get 403 SignatureDoesNotMatch (or 400 XAmzContentSHA256Mismatch) in S3's XML;
// good ones are forwarded to s3rver unchanged. GET /__stats (unsigned) returns counters;
// GET /__secret?value=S changes the secret key it accepts.
//
// Options: --port-file F --upstream PORT --access-key K --secret-key S --region R
//          [--session-token T] [--slowdown N: answer the first N uploads 503 SlowDown]
//          [--fail-part N: answer the first N UploadPart calls 500]
'use strict';

const http = require('http');
const crypto = require('crypto');
const fs = require('fs');
const { SignatureV4 } = require('@smithy/signature-v4');
const { Sha256 } = require('@aws-crypto/sha256-js');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const upstream = Number(args['upstream']);
const region = args['region'] || 'us-east-1';
let slowdown = Number(args['slowdown'] || 0);
let failPart = Number(args['fail-part'] || 0);

const stats = {
  requests: 0, rejected: 0, reasons: {}, ops: {}, status: {}, max_part_bytes: 0,
  min_nonlast_part_bytes: null, token_seen: 0, injected: 0,
};

function opName(method, query) {
  if (method === 'PUT' && query.has('partNumber')) return 'UploadPart';
  if (method === 'PUT') return 'PutObject';
  if (method === 'POST' && query.has('uploads')) return 'CreateMultipartUpload';
  if (method === 'POST' && query.has('uploadId')) return 'CompleteMultipartUpload';
  if (method === 'DELETE' && query.has('uploadId')) return 'AbortMultipartUpload';
  return `${method}-other`;
}

function s3Error(res, status, code, message) {
  stats.status[status] = (stats.status[status] || 0) + 1;
  res.writeHead(status, { 'Content-Type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

function reject(res, status, code, why) {
  stats.rejected++;
  stats.reasons[why] = (stats.reasons[why] || 0) + 1;
  process.stderr.write(`rejected: ${why}\n`);
  s3Error(res, status, code, why);
}

// "20150830T123600Z" → Date.
function parseAmzDate(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
  if (!m) return null;
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

async function verify(req, body, url) {
  const auth = req.headers['authorization'] || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return 'malformed or missing Authorization';
  const [, akid, day, scopeRegion, service, signedList, signature] = m;
  if (akid !== args['access-key']) return 'unknown access key';
  if (scopeRegion !== region || service !== 's3') return `bad scope ${scopeRegion}/${service}`;
  const date = parseAmzDate(req.headers['x-amz-date']);
  if (!date) return 'missing x-amz-date';
  if (req.headers['x-amz-date'].slice(0, 8) !== day) return 'scope date differs from x-amz-date';
  if (Math.abs(Date.now() - date.getTime()) > 15 * 60 * 1000) return 'clock skew over 15 minutes';
  const signed = signedList.split(';');
  for (const h of ['host', 'x-amz-date', 'x-amz-content-sha256']) {
    if (!signed.includes(h)) return `${h} not signed`;
  }
  const declared = req.headers['x-amz-content-sha256'];
  const actual = crypto.createHash('sha256').update(body).digest('hex');
  if (declared !== actual) return 'payload hash mismatch';
  const token = args['session-token'];
  if (token) {
    if (req.headers['x-amz-security-token'] !== token || !signed.includes('x-amz-security-token')) {
      return 'session token missing, wrong or unsigned';
    }
    stats.token_seen++;
  }
  const headers = {};
  for (const h of signed) {
    if (req.headers[h] === undefined) return `signed header ${h} absent`;
    headers[h] = req.headers[h];
  }
  const query = {};
  for (const [k, v] of url.searchParams) {
    if (k in query) query[k] = [].concat(query[k], v); else query[k] = v;
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId: akid, secretAccessKey: args['secret-key'], sessionToken: token },
    region, service: 's3', sha256: Sha256, uriEscapePath: false, applyChecksum: true,
  });
  const out = await signer.sign({
    method: req.method, protocol: 'http:', hostname: '127.0.0.1', path: req.url.split('?')[0], query, headers, body,
  }, { signingDate: date });
  const expected = /Signature=([0-9a-f]{64})/.exec(out.headers['authorization'])[1];
  const expectedList = /SignedHeaders=([^,]+)/.exec(out.headers['authorization'])[1];
  if (expectedList !== signedList) return `signed header list differs (${signedList} vs ${expectedList})`;
  if (expected !== signature) return 'signature mismatch';
  return null;
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', c => chunks.push(c));
  req.on('end', async () => {
    const body = Buffer.concat(chunks);
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname === '/__stats') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(stats));
      return;
    }
    if (url.pathname === '/__secret') { // the test rotates the accepted secret key
      args['secret-key'] = url.searchParams.get('value');
      res.writeHead(204);
      res.end();
      return;
    }
    stats.requests++;
    const op = opName(req.method, url.searchParams);
    stats.ops[op] = (stats.ops[op] || 0) + 1;
    let why;
    try {
      why = await verify(req, body, url);
    } catch (e) {
      why = `verifier error: ${e.message}`;
    }
    if (why === 'payload hash mismatch') return reject(res, 400, 'XAmzContentSHA256Mismatch', why);
    if (why) return reject(res, 403, why === 'unknown access key' ? 'InvalidAccessKeyId' : 'SignatureDoesNotMatch', why);
    if (op === 'UploadPart') {
      stats.max_part_bytes = Math.max(stats.max_part_bytes, body.length);
    }
    if (slowdown > 0 && (op === 'PutObject' || op === 'UploadPart')) {
      slowdown--;
      stats.injected++;
      return s3Error(res, 503, 'SlowDown', 'Please reduce your request rate.');
    }
    if (failPart > 0 && op === 'UploadPart') {
      failPart--;
      stats.injected++;
      return s3Error(res, 500, 'InternalError', 'We encountered an internal error. Please try again.');
    }
    const up = http.request({
      host: '127.0.0.1', port: upstream, method: req.method, path: req.url,
      headers: { ...req.headers, 'content-length': body.length },
    }, upRes => {
      stats.status[upRes.statusCode] = (stats.status[upRes.statusCode] || 0) + 1;
      res.writeHead(upRes.statusCode, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', e => s3Error(res, 502, 'BadGateway', e.message));
    up.end(body);
  });
});
server.keepAliveTimeout = 30000;
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(args['port-file'], String(server.address().port));
});
