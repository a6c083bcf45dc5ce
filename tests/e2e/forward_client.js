#!/usr/bin/env node
// A forward-protocol client for the e2e tests, built on the real npm client
// (@fluent-org/logger, the Fluent project's own Node library). It sends --count numbered
// records to ferry over TCP or a unix socket with acknowledgements on (the client puts a
// `chunk` option on every message and resolves each emit only when ferry answers
// {"ack": chunk}), and prints one JSON line of what happened:
//   {"sent", "acked", "failed", "acks" (ack messages seen), "connects", "bad_closed"}.
// --bad-frame-after K: once K records are acknowledged, a second raw connection sends a
// malformed frame and must be closed by ferry, while this client carries on sending.
// --lines FILE: each record's log is a line of FILE, in turn. --trace FILE: the records are
// the lines of FILE in order (blank ones too; --count defaults to their number), all from one
// container (--container ID) and stream. --lines-json FILE: as --lines, each line a JSON string
// (so a log may hold a newline). --nsec-offset K: K ns added to every record's time (sub-ms
// parts that round either way). Records are bounded in count
// and the whole run in time (--timeout-ms).
'use strict';

const net = require('net');
const path = require('path');
const { FluentClient, EventTime } = require(path.join(__dirname, 'node_modules/@fluent-org/logger'));

function parseArgs(argv) {
  const o = {
    count: 1000, tag: 'app', mode: 'PackedForward', window: 2000, timeoutMs: 40000, first: 0,
    nsecOffset: 0, // < 997003, so the nanoseconds stay below 10^9
    timeBase: 1700000000, // --time-base now: current time (for sinks that check it, e.g. Datadog)
  };
  for (let i = 2; i < argv.length; i += 2) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === '--port') o.port = Number(v);
    else if (k === '--path') o.path = v;
    else if (k === '--count') o.count = Number(v);
    else if (k === '--first') o.first = Number(v);
    else if (k === '--tag') o.tag = v;
    else if (k === '--mode') o.mode = v;
    else if (k === '--shared-key') o.sharedKey = v;
    else if (k === '--window') o.window = Number(v);
    else if (k === '--timeout-ms') o.timeoutMs = Number(v);
    else if (k === '--bad-frame-after') o.badAfter = Number(v);
    else if (k === '--time-base') o.timeBase = v === 'now' ? Math.floor(Date.now() / 1000) : Number(v);
    else if (k === '--lines') o.lines = require('fs').readFileSync(v, 'utf8').split('\n').filter((l) => l);
    else if (k === '--lines-json') {
      o.lines = require('fs').readFileSync(v, 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l));
    } else if (k === '--nsec-offset') o.nsecOffset = Number(v);
    else if (k === '--trace') o.trace = require('fs').readFileSync(v, 'utf8').replace(/\n$/, '').split('\n');
    else if (k === '--container') o.container = v;
    else {
      console.error(`forward_client.js: unknown option ${k}`);
      process.exit(2);
    }
  }
  if (o.trace && !argv.includes('--count')) o.count = o.trace.length;
  if (!o.port === !o.path) {
    console.error('forward_client.js: give exactly one of --port and --path');
    process.exit(2);
  }
  return o;
}

// The record the tests expect back for number n: FireLens-shaped fields plus text that needs
// escaping in JSON, multi-byte UTF-8, nested values and numbers of several msgpack widths.
// With --lines FILE, record n's log is line n of FILE instead (a format's sample lines).
function record(n, lines, trace, container) {
  const r = {
    log: `rec ${String(n).padStart(7, '0')} ` + ['', 'say "hi"', 'tab\there', 'caf\u00e9 \u6771\u4eac \u{1F680}',
      'back\\slash', 'x'.repeat(200)][n % 6],
    source: n % 2 ? 'stderr' : 'stdout',
    container_id: 'c0ffee' + (n % 7),
    container_name: '/ecs-app-' + (n % 3),
    n,
  };
  if (lines) r.log = lines[n % lines.length];
  if (trace) { // one stream: the lines of a log in order, blank lines too
    r.log = trace[n];
    r.container_id = container || 'c0ffee-trace';
    r.source = 'stdout';
  }
  if (n % 10 === 0) r.nested = { list: [1, -2, 3.5, true, null], big: 2 ** 40, neg: -(2 ** 33) };
  return r;
}

// EventTime the tests can recompute: seconds and nanoseconds from the record number.
function eventTime(n, base, offset = 0) {
  return new EventTime(base + Math.floor(n / 1000), (n % 1000) * 1000003 + offset);
}

// Opens a raw connection, sends bytes that are no forward message (0xc1 is the one byte
// msgpack never uses), and resolves true once ferry closes the connection.
function sendBadFrame(o) {
  return new Promise((resolve) => {
    const sock = o.path ? net.createConnection(o.path) : net.createConnection(o.port, '127.0.0.1');
    const timer = setTimeout(() => { sock.destroy(); resolve(false); }, 10000);
    sock.on('connect', () => sock.write(Buffer.from([0x93, 0xa3, 0x61, 0x62, 0x63, 0xc1, 0xc1, 0xc1])));
    sock.on('data', () => {});
    sock.on('error', () => {});
    sock.on('close', () => { clearTimeout(timer); resolve(true); });
  });
}

async function main() {
  const o = parseArgs(process.argv);
  const result = { sent: 0, acked: 0, failed: 0, acks: 0, connects: 0, bad_closed: null, errors: [] };
  const socket = o.path ? { path: o.path } : { host: '127.0.0.1', port: o.port };
  const client = new FluentClient(null, {
    eventMode: o.mode,
    socket: { ...socket, timeout: 10000, disableReconnect: true },
    security: o.sharedKey ? { clientHostname: 'e2e-client', sharedKey: o.sharedKey } : undefined,
    ack: { ackTimeout: 15000 },
    disableAutoconnect: true,
  });
  let finishing = false;
  client.socketOn('ack', () => { result.acks++; });
  client.socketOn('established', () => { result.connects++; });
  client.socketOn('error', (err) => {
    if (result.errors.length < 5) result.errors.push(String(err.message || err));
  });
  // Reconnection is off: a connection that ferry closes (a refused handshake, say) ends the
  // run at once rather than leaving the emits to time out.
  client.socketOn('close', () => {
    if (finishing) return;
    result.errors.push('connection closed by ferry');
    console.log(JSON.stringify(result));
    process.exit(1);
  });
  const deadline = setTimeout(() => {
    result.errors.push('timeout');
    console.log(JSON.stringify(result));
    process.exit(3);
  }, o.timeoutMs);

  try {
    await client.connect();
  } catch (err) {
    result.errors.push('connect: ' + String(err.message || err));
  }
  let badFrame = null;
  // Emits in windows so at most `window` records wait for their acks at once.
  for (let start = o.first; start < o.first + o.count && result.failed === 0; start += o.window) {
    const end = Math.min(start + o.window, o.first + o.count);
    const pending = [];
    for (let n = start; n < end; n++) {
      result.sent++;
      pending.push(client.emit(o.tag, record(n, o.lines, o.trace, o.container), eventTime(n, o.timeBase, o.nsecOffset)).then(
        () => { result.acked++; },
        (err) => {
          result.failed++;
          if (result.errors.length < 5) result.errors.push(String(err.message || err));
        }));
    }
    await Promise.all(pending);
    if (o.badAfter !== undefined && badFrame === null && result.acked >= o.badAfter) {
      badFrame = sendBadFrame(o); // runs concurrently with the windows that follow
    }
  }
  if (badFrame) result.bad_closed = await badFrame;
  finishing = true;
  await client.disconnect().catch(() => {});
  clearTimeout(deadline);
  console.log(JSON.stringify(result));
  process.exit(result.failed === 0 && result.acked === result.sent ? 0 : 1);
}

main().catch((err) => {
  console.log(JSON.stringify({ fatal: String(err && err.stack || err) }));
  process.exit(1);
});
