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
// (also written to --stats-file on SIGTERM). The checks every AWS stand-in shares (method,
// path, headers, signature, JSON, /stats, /__deny) are in aws_strict.js.
'use strict';

const fs = require('fs');
const crypto = require('crypto');
const aws = require('./aws_strict');

const MAX_RECORDS = 500;
const MAX_BODY = 4 * 1024 * 1024;
const MAX_RECORD = 1000 * 1024;

// The handler runs only once serve() below has set opts, stats and nextRecordFails.
async function putRecordBatch(call) {
  const { body } = call;
  if (aws.checkKeys(body, ['DeliveryStreamName', 'Records']) !== null) {
    return call.invalid(400, 'SerializationException', 'body must hold exactly DeliveryStreamName and Records');
  }
  if (body.DeliveryStreamName !== opts.stream) {
    return call.invalid(400, 'ResourceNotFoundException', `stream ${body.DeliveryStreamName} not found`);
  }
  const records = body.Records;
  if (!Array.isArray(records) || records.length < 1 || records.length > MAX_RECORDS) {
    return call.invalid(400, 'ValidationException', `Records must hold 1..${MAX_RECORDS} (got ${records && records.length})`);
  }
  const decoded = [];
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    if (aws.checkKeys(r, ['Data']) !== null) {
      return call.invalid(400, 'SerializationException', `record ${i} must hold exactly Data`);
    }
    const data = aws.decodeBase64(r.Data);
    if (data === null) return call.invalid(400, 'SerializationException', `record ${i}: Data is not strict base64`);
    if (data.length === 0 || data.length > MAX_RECORD) {
      return call.invalid(400, 'ValidationException', `record ${i}: ${data.length} bytes (1..${MAX_RECORD})`);
    }
    const text = data.toString('utf8');
    if (!text.endsWith('\n')) return call.invalid(400, 'ValidationException', `record ${i} is not newline terminated`);
    const lines = text.slice(0, -1).split('\n');
    for (const line of lines) {
      try {
        const obj = JSON.parse(line);
        if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new Error('not an object');
      } catch (e) {
        return call.invalid(400, 'ValidationException', `record ${i}: a line is not a JSON object: ${line.slice(0, 60)}`);
      }
    }
    stats.max_record_seen = Math.max(stats.max_record_seen, data.length);
    decoded.push(lines);
  }
  const n = call.admit();
  if (!n) return undefined;
  stats.max_records_seen = Math.max(stats.max_records_seen, records.length);

  // The fault schedule, once the request itself is known to be good.
  const fault = aws.scheduledFault(n, [
    [opts.throttleFirst, () => (n % 2 === 1
      ? call.error(400, 'ThrottlingException', 'Rate exceeded (scheduled)')
      : call.error(503, 'ServiceUnavailableException', 'Slow down (scheduled)'))],
    [opts.notFoundFirst, () => call.error(400, 'ResourceNotFoundException',
      `Firehose ${opts.stream} under account ${aws.ACCOUNT} not found (scheduled)`)],
  ]);
  if (fault) return fault();
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
  return call.reply({ FailedPutCount: failed, Encrypted: false, RequestResponses: responses });
}

const { opts, stats } = aws.serve({
  name: 'firehose_server.js',
  usage: '--stream NAME [--fail-fraction F] [--throttle-first N] [--not-found-first N]',
  options: {
    '--stream': 'stream', '--fail-fraction': 'failFraction', '--throttle-first': 'throttleFirst',
    '--not-found-first': 'notFoundFirst',
  },
  numeric: ['failFraction', 'throttleFirst', 'notFoundFirst'],
  defaults: { failFraction: 0, throttleFirst: 0, notFoundFirst: 0 },
  required: ['stream'],
  service: 'firehose',
  targets: { 'Firehose_20150804.PutRecordBatch': putRecordBatch },
  maxBody: MAX_BODY,
  bodyTooLarge: [413, 'RequestEntityTooLargeException'],
  denied: () => `firehose:PutRecordBatch on resource: deliverystream/${opts.stream}`,
  stats: {
    firehose_records: 0,      // accepted Firehose records
    failed_records: 0,        // records refused on purpose inside a 200 (FailedPutCount)
    partial_responses: 0,     // 200 answers with FailedPutCount > 0
    lines: 0,                 // JSON lines in accepted records
    max_records_seen: 0,
    max_record_seen: 0,
    max_lines_per_record: 0,
  },
});
const nextRecordFails = aws.failureSpreader(opts.failFraction);
