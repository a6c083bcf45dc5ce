#!/usr/bin/env node
// A strict stand-in for Amazon Kinesis Data Streams' PutRecords (POST /, JSON 1.1, SigV4
// service "kinesis", X-Amz-Target Kinesis_20131202.PutRecords) for ferry's e2e tests. Every
// check of aws_strict.js (method, path, headers, SigV4 recomputed from the signed headers and
// the body, clock skew, scope, strict UTF-8 JSON) comes first. Anything the real service
// would refuse is answered with its error and counted as invalid (a test fails on any): an
// unknown or missing member, Data that is not strict base64 (SerializationException);
// neither StreamName nor StreamARN, a name outside [a-zA-Z0-9_.-]{1,128}, an ARN of another
// region or account, a name and an ARN that disagree, 0 or over 500 records, a partition
// key of 0 or over 256 characters (UTF-16 code units, the stricter count), an
// ExplicitHashKey that is not a decimal below 2^128 (ValidationException); a record whose
// data plus UTF-8 partition key is over 1 MiB, or a call whose records and partition keys
// add up to over 5 MiB (InvalidArgumentException). An unknown stream is
// ResourceNotFoundException (a service answer, not invalid). Streams are --stream NAME
// (repeatable), --shards N each (default 2); a record's shard is the MD5 of its partition
// key (or its ExplicitHashKey) in N equal hash ranges, as the service maps them.
// Faults on purpose: --fail-fraction F (< 0.5) fails that share of the records seen, spread
// evenly, per record ErrorCode ProvisionedThroughputExceededException and InternalFailure
// alternating (FailedRecordCount); --throttle-first N answers the first N valid calls
// ProvisionedThroughputExceededException (400), --unavailable-first N the next N
// InternalFailure (500). Every delivered record is appended to --out as a JSON line
// {stream, shard, partition_key, data (base64), sequence}. GET /__deny?status=403 (or 401)
// refuses every valid call as IAM would until GET /__deny?status=0 (aws_strict.js).
// GET /stats: counts (also written to --stats-file on SIGTERM).
'use strict';

const fs = require('fs');
const crypto = require('crypto');
const aws = require('./aws_strict');

const MAX_RECORDS = 500;
const MAX_RECORD_BYTES = 1024 * 1024;
const MAX_CALL_BYTES = 5 * 1024 * 1024;
const MAX_KEY_CHARS = 256;
const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;
const HASH_SPACE = 1n << 128n;

// The stream a call names, or an invalid reason: [name, null] or [null, reason].
function streamOf(body) {
  const { StreamName: name, StreamARN: arn } = body;
  if (name === undefined && arn === undefined) return [null, 'StreamName or StreamARN is required'];
  if (name !== undefined && (typeof name !== 'string' || !STREAM_NAME.test(name))) {
    return [null, `StreamName ${JSON.stringify(name)} must match [a-zA-Z0-9_.-]{1,128}`];
  }
  if (arn === undefined) return [name, null];
  const m = typeof arn === 'string' && /^arn:aws:kinesis:([a-z0-9-]+):(\d{12}):stream\/([a-zA-Z0-9_.-]{1,128})$/.exec(arn);
  if (!m) return [null, `StreamARN ${JSON.stringify(arn)} is not a stream ARN`];
  if (m[1] !== opts.region || m[2] !== aws.ACCOUNT) return [null, `StreamARN ${arn}: another region or account`];
  if (name !== undefined && name !== m[3]) return [null, `StreamName ${name} and StreamARN ${arn} disagree`];
  return [m[3], null];
}

// The shard of a record: its 128-bit hash key in N equal ranges.
function shardOf(key, explicitHashKey) {
  const hash = explicitHashKey !== undefined ? BigInt(explicitHashKey)
    : BigInt(`0x${crypto.createHash('md5').update(key, 'utf8').digest('hex')}`);
  return Number((hash * BigInt(opts.shards)) / HASH_SPACE);
}

// The checks of one record; [decoded data, key bytes] or [null, [type, reason]].
function checkRecord(r, i) {
  const shape = aws.checkKeys(r, ['Data', 'PartitionKey'], ['ExplicitHashKey']);
  if (shape) return [null, ['SerializationException', `Records[${i}]: ${shape}`]];
  const data = aws.decodeBase64(r.Data);
  if (data === null) return [null, ['SerializationException', `Records[${i}].Data is not strict base64`]];
  const key = r.PartitionKey;
  if (typeof key !== 'string' || !aws.wellFormed(key) || key.length < 1 || key.length > MAX_KEY_CHARS) {
    const got = typeof key === 'string' ? key.length : typeof key;
    return [null, ['ValidationException', `Records[${i}].PartitionKey must hold 1..${MAX_KEY_CHARS} characters (got ${got})`]];
  }
  const ehk = r.ExplicitHashKey;
  if (ehk !== undefined && (typeof ehk !== 'string' || !/^(0|[1-9]\d{0,38})$/.test(ehk) || BigInt(ehk) >= HASH_SPACE)) {
    return [null, ['ValidationException', `Records[${i}].ExplicitHashKey ${JSON.stringify(ehk)} is not a hash key`]];
  }
  const keyBytes = Buffer.byteLength(key, 'utf8');
  if (data.length + keyBytes > MAX_RECORD_BYTES) {
    return [null, ['InvalidArgumentException',
      `Records[${i}]: data ${data.length} + partition key ${keyBytes} bytes is over ${MAX_RECORD_BYTES}`]];
  }
  return [data, keyBytes];
}

async function putRecords(call) {
  const { body } = call;
  const shape = aws.checkKeys(body, ['Records'], ['StreamName', 'StreamARN']);
  if (shape) return call.invalid(400, 'SerializationException', `PutRecords: ${shape}`);
  const [name, reason] = streamOf(body);
  if (reason) return call.invalid(400, 'ValidationException', reason);
  const records = body.Records;
  if (!Array.isArray(records) || records.length < 1 || records.length > MAX_RECORDS) {
    const got = Array.isArray(records) ? records.length : typeof records;
    return call.invalid(400, 'ValidationException', `Records must hold 1..${MAX_RECORDS} (got ${got})`);
  }
  const decoded = [];
  let total = 0;
  let largest = 0;
  for (let i = 0; i < records.length; i++) {
    const [data, keyBytes] = checkRecord(records[i], i);
    if (data === null) return call.invalid(400, keyBytes[0], keyBytes[1]);
    decoded.push(data);
    total += data.length + keyBytes;
    largest = Math.max(largest, data.length + keyBytes);
  }
  if (total > MAX_CALL_BYTES) {
    return call.invalid(400, 'InvalidArgumentException',
      `Records size ${total} bytes exceeds the ${MAX_CALL_BYTES}-byte limit of a call`);
  }
  const n = call.admit();
  if (!n) return undefined;
  stats.max_records_seen = Math.max(stats.max_records_seen, records.length);
  stats.max_call_bytes_seen = Math.max(stats.max_call_bytes_seen, total);
  stats.max_record_bytes_seen = Math.max(stats.max_record_bytes_seen, largest);
  if (!streams.has(name)) {
    return call.error(400, 'ResourceNotFoundException',
      `Stream ${name} under account ${aws.ACCOUNT} not found.`);
  }
  const fault = aws.scheduledFault(n, [
    [opts.throttleFirst, () => call.error(400, 'ProvisionedThroughputExceededException',
      'Rate exceeded for stream (scheduled)')],
    [opts.unavailableFirst, () => call.error(500, 'InternalFailure', 'Internal service failure (scheduled)')],
  ]);
  if (fault) return fault();

  const sequences = streams.get(name);
  const results = [];
  const lines = [];
  let failed = 0;
  records.forEach((r, i) => {
    const shard = shardOf(r.PartitionKey, r.ExplicitHashKey);
    const shardId = `shardId-${String(shard).padStart(12, '0')}`;
    if (nextRecordFails()) {
      failed += 1;
      results.push(failed % 2 === 1
        ? { ErrorCode: 'ProvisionedThroughputExceededException',
          ErrorMessage: `Rate exceeded for shard ${shardId} in stream ${name} under account ${aws.ACCOUNT}.` }
        : { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service failure.' });
      return;
    }
    sequences[shard] += 1n;
    const sequence = sequences[shard].toString().padStart(56, '0');
    results.push({ SequenceNumber: sequence, ShardId: shardId });
    lines.push(JSON.stringify({ stream: name, shard: shardId, partition_key: r.PartitionKey, data: r.Data, sequence }));
    stats.data_bytes += decoded[i].length;
  });
  if (lines.length) fs.appendFileSync(opts.out, lines.join('\n') + '\n');
  stats.records += lines.length;
  stats.failed_records += failed;
  if (failed) stats.partial_responses += 1;
  return call.reply({ FailedRecordCount: failed, Records: results, EncryptionType: 'NONE' });
}

const { opts, stats } = aws.serve({
  name: 'kinesis_server.js',
  usage: '--stream NAME [--stream NAME]... [--shards N] [--fail-fraction F] [--throttle-first N]\n' +
    '       [--unavailable-first N]',
  options: {
    '--stream': 'streams', '--shards': 'shards', '--fail-fraction': 'failFraction',
    '--throttle-first': 'throttleFirst', '--unavailable-first': 'unavailableFirst',
  },
  numeric: ['shards', 'failFraction', 'throttleFirst', 'unavailableFirst'],
  lists: ['streams'],
  required: ['streams'],
  defaults: { shards: 2, failFraction: 0, throttleFirst: 0, unavailableFirst: 0 },
  service: 'kinesis',
  targets: { 'Kinesis_20131202.PutRecords': putRecords },
  // 5 MiB of records in base64 (4/3), JSON-escaped partition keys and the JSON around them.
  maxBody: 10 * 1024 * 1024,
  bodyTooLarge: [413, 'InvalidArgumentException'],
  denied: (call) => `kinesis:PutRecords on resource: ${call.body.StreamARN ??
    `arn:aws:kinesis:${opts.region}:${aws.ACCOUNT}:stream/${call.body.StreamName}`}`,
  stats: {
    records: 0,              // delivered records
    data_bytes: 0,           // their decoded data
    failed_records: 0,       // records failed on purpose inside a 200 (FailedRecordCount)
    partial_responses: 0,    // 200 answers with FailedRecordCount > 0
    max_records_seen: 0,
    max_call_bytes_seen: 0,  // data + partition keys of a call
    max_record_bytes_seen: 0,
  },
});
if (!Number.isInteger(opts.shards) || opts.shards < 1 || opts.shards > 64) throw new Error('--shards wants 1..64');
for (const name of opts.streams) {
  if (!STREAM_NAME.test(name)) throw new Error(`--stream ${name}: must match [a-zA-Z0-9_.-]{1,128}`);
}
// stream name → the last sequence number given out per shard
const streams = new Map(opts.streams.map((name) => [name, Array(opts.shards).fill(0n)]));
const nextRecordFails = aws.failureSpreader(opts.failFraction);
