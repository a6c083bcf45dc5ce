#!/usr/bin/env node
// Sends what Docker's fluentd log driver sends for long lines, over forward with
// acknowledgements (@fluent-org/logger): each line of --line-bytes split into parts of
// --part-bytes carrying partial_message/partial_id/partial_ordinal/partial_last, for two
// containers whose parts interleave, plus short complete lines. One message per record
// (eventMode Message), so the parts of one line reach ferry in different reads and batches.
// --plain N instead sends N complete records {log: "rec 0000000", source, container_id,
// container_name} stamped with the current time (for sinks that refuse old timestamps).
// Prints {"sent", "acked"} and exits 0 when every record was acknowledged; bounded by a timeout.
'use strict';

const path = require('path');
const { FluentClient } = require(path.join(__dirname, 'node_modules/@fluent-org/logger'));

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].slice(2)] = process.argv[i + 1];
const lineBytes = Number(args['line-bytes'] || 102400);
const partBytes = Number(args['part-bytes'] || 16384);
const lines = Number(args.lines || 3);
const tag = args.tag || 'app-firelens-task1';

// Line n of container c: recognisable text, exactly lineBytes long.
function lineText(c, n) {
  const head = `${c}-line-${n}:`;
  let s = head;
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  for (let i = 0; s.length < lineBytes; i++) s += alphabet[(i * 7 + n + c.length) % alphabet.length];
  return s.slice(0, lineBytes);
}

function parts(c, n) {
  const text = lineText(c, n);
  const out = [];
  const count = Math.ceil(text.length / partBytes);
  for (let i = 0; i < count; i++) {
    out.push({
      container_id: `${c}0123456789abcdef`,
      container_name: `/${c}`,
      source: 'stdout',
      log: text.slice(i * partBytes, (i + 1) * partBytes),
      partial_message: 'true',
      partial_id: `${c}-pid-${n}`,
      partial_ordinal: String(i + 1),
      partial_last: i + 1 === count ? 'true' : 'false',
    });
  }
  return out;
}

async function main() {
  const client = new FluentClient(null, {
    eventMode: 'Message',
    socket: { path: args.path, timeout: 10000, disableReconnect: true },
    ack: { ackTimeout: 15000 },
    disableAutoconnect: true,
  });
  const deadline = setTimeout(() => { console.log('{"error":"timeout"}'); process.exit(3); }, 40000);
  await client.connect();
  const records = [];
  for (let n = 0; n < Number(args.plain || 0); n++) {
    records.push({
      log: `rec ${String(n).padStart(7, '0')}`, source: n % 2 ? 'stderr' : 'stdout',
      container_id: 'c0ffee' + (n % 7), container_name: '/ecs-app-' + (n % 3),
    });
  }
  for (let n = 0; n < (args.plain ? 0 : lines); n++) {
    const a = parts('alpha', n);
    const b = parts('beta', n);
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i < a.length) records.push(a[i]);
      if (i < b.length) records.push(b[i]);
    }
    records.push({ container_id: 'alpha0123456789abcdef', source: 'stdout', log: `short-${n}` });
  }
  let acked = 0;
  await Promise.all(records.map((r) => client.emit(tag, r).then(() => { acked++; })));
  await client.disconnect().catch(() => {});
  clearTimeout(deadline);
  console.log(JSON.stringify({ sent: records.length, acked }));
  process.exit(acked === records.length ? 0 : 1);
}

main().catch((err) => { console.log(JSON.stringify({ error: String(err) })); process.exit(1); });
