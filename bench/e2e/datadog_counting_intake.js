#!/usr/bin/env node
// A Datadog Logs intake stand-in for the throughput harness: it only decompresses each
// POST /api/v2/logs body (gzip, zstd or none), counts entries and bytes, and answers 202 —
// optionally after --latency-ms, to model the round trip to Datadog that concurrency hides.
// Several processes (--workers) share the port so the intake is not the bottleneck.
// GET /stats → {requests, records, compressed_bytes, json_bytes, errors, first_ms, last_ms}.
// Listens on 127.0.0.1 only, port 0; the port is written to --port-file.
'use strict';

const cluster = require('cluster');
const http = require('http');
const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');

function parseArgs(argv) {
  const cpus = os.cpus().length;
  const opts = { workers: Math.max(1, Math.min(4, Math.floor(cpus / 4))), latencyMs: 0 };
  for (let i = 2; i < argv.length; i += 2) {
    const v = argv[i + 1];
    if (argv[i] === '--port-file') opts.portFile = v;
    else if (argv[i] === '--workers') opts.workers = Math.max(1, Number(v));
    else if (argv[i] === '--latency-ms') opts.latencyMs = Number(v);
    else {
      console.error(
        'usage: datadog_counting_intake.js --port-file F [--workers N] [--latency-ms MS]');
      process.exit(2);
    }
  }
  if (!opts.portFile) {
    console.error('--port-file is required');
    process.exit(2);
  }
  return opts;
}

const opts = parseArgs(process.argv);

function zstdDecoder() {
  if (typeof zlib.zstdDecompressSync === 'function') return (b) => zlib.zstdDecompressSync(b);
  try {
    const fzstd = require(path.join(__dirname, '../../tests/e2e/node_modules/fzstd'));
    return (b) => Buffer.from(fzstd.decompress(new Uint8Array(b)));
  } catch (e) {
    return null;
  }
}

// Counts the top-level elements of a JSON array without building it: tracks strings and
// nesting only (the body is ferry's own output; JSON.parse would cost more than ferry).
function countEntries(buf) {
  let depth = 0;
  let inString = false;
  let count = 0;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (depth === 1) count++;
      depth++;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return count;
}

function empty() {
  return {
    requests: 0, records: 0, compressed_bytes: 0, json_bytes: 0, errors: 0, first_ms: 0, last_ms: 0,
  };
}

function add(total, d) {
  for (const k of ['requests', 'records', 'compressed_bytes', 'json_bytes', 'errors']) {
    total[k] += d[k];
  }
  if (d.first_ms && (!total.first_ms || d.first_ms < total.first_ms)) total.first_ms = d.first_ms;
  total.last_ms = Math.max(total.last_ms, d.last_ms);
}

if (cluster.isPrimary) {
  const total = empty();
  let listening = 0;
  for (let i = 0; i < opts.workers; i++) cluster.fork();
  cluster.on('message', (worker, msg) => {
    if (msg.type === 'delta') add(total, msg.delta);
    else if (msg.type === 'stats?') worker.send({ type: 'stats', id: msg.id, stats: total });
    else if (msg.type === 'listening' && ++listening === opts.workers) {
      fs.writeFileSync(opts.portFile + '.tmp', String(msg.port));
      fs.renameSync(opts.portFile + '.tmp', opts.portFile);
    }
  });
  const stop = () => {
    for (const id in cluster.workers) cluster.workers[id].kill();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const zstd = zstdDecoder();
  const pending = new Map();
  let nextId = 1;
  process.on('message', (msg) => {
    if (msg.type !== 'stats') return;
    const res = pending.get(msg.id);
    pending.delete(msg.id);
    if (res) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(msg.stats));
    }
  });

  const finish = (res, delta, status) => {
    delta.last_ms = Date.now();
    process.send({ type: 'delta', delta });
    const reply = () => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end('{}');
    };
    if (opts.latencyMs > 0) setTimeout(reply, opts.latencyMs);
    else reply();
  };

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/stats') {
        const id = nextId++;
        pending.set(id, res);
        process.send({ type: 'stats?', id });
        return;
      }
      const delta = empty();
      delta.requests = 1;
      delta.first_ms = Date.now();
      const raw = Buffer.concat(chunks);
      delta.compressed_bytes = raw.length;
      const done = (err, body) => {
        if (err || req.method !== 'POST' || req.url !== '/api/v2/logs') {
          delta.errors = 1;
          return finish(res, delta, 400);
        }
        delta.json_bytes = body.length;
        delta.records = countEntries(body);
        finish(res, delta, 202);
      };
      const enc = req.headers['content-encoding'];
      if (enc === 'gzip') zlib.gunzip(raw, done); // on libuv's thread pool
      else if (enc === 'zstd' && zstd) {
        try {
          done(null, zstd(raw));
        } catch (e) {
          done(e);
        }
      } else if (enc === undefined) done(null, raw);
      else done(new Error(`unsupported Content-Encoding ${enc}`));
    });
  });
  server.keepAliveTimeout = 60000;
  server.listen(0, '127.0.0.1', () => {}); // cluster: every worker shares the primary's port
  server.on('listening', () => process.send({ type: 'listening', port: server.address().port }));
}
