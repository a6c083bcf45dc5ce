#!/usr/bin/env node
// The driver of aws_servers_selftest_test.sh: proves that the strict AWS stand-ins
// (firehose_server.js, cloudwatch_logs_server.js, kinesis_server.js) accept what the real
// services accept and refuse, one call per rule, what they refuse, with the status and
// __type AWS gives. Calls are signed with @smithy/signature-v4 (node's crypto as the hash, so
// the servers' sha256-js is checked against another implementation). After every call the
// server's /stats must show invalid_requests grown by 1 for a refusal of a rule and by 0
// otherwise; what the servers stored (--out) must be exactly what was accepted.
// usage: aws_servers_selftest.js CONFIG.json   (ports, --out files and credentials)
'use strict';

const http = require('http');
const fs = require('fs');
const crypto = require('crypto');
const assert = require('assert');
const { SignatureV4 } = require('@smithy/signature-v4');

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const ACCOUNT = '123456789012';

class NodeSha256 {
  constructor(secret) {
    this.secret = secret;
    this.reset();
  }
  update(data) {
    this.hash.update(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
  reset() {
    this.hash = this.secret ? crypto.createHmac('sha256', this.secret) : crypto.createHash('sha256');
  }
}

function send(port, { method = 'POST', path = '/', headers = {}, body = '' }) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, timeout: 10000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = JSON.parse(text); } catch (e) { /* not JSON: json stays null */ }
        resolve({ status: res.statusCode, json, text });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

// A signed JSON 1.1 call. o: service and target; body (object, string or Buffer); and the
// faults a case puts in: region/signAs/key/date for the scope, contentType, unsigned
// (headers added only after signing), late (more headers added after signing), tamper (the
// body changed after signing), method, path; the server's session token unless noToken.
async function signedCall(port, o) {
  const text = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
  const body = Buffer.isBuffer(o.body) ? o.body : Buffer.from(text);
  const headers = {
    host: `127.0.0.1:${port}`,
    'content-type': o.contentType || 'application/x-amz-json-1.1',
    'x-amz-target': o.target,
  };
  const late = { ...o.late };
  for (const name of o.unsigned || []) {
    late[name] = headers[name];
    delete headers[name];
  }
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: o.key || cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey,
      sessionToken: o.noToken ? undefined : o.sessionToken,
    },
    region: o.region || cfg.region,
    service: o.signAs || o.service,
    sha256: NodeSha256,
    applyChecksum: false,
  });
  const signed = await signer.sign({
    method: o.method || 'POST', protocol: 'http:', hostname: '127.0.0.1', port,
    path: o.path || '/', query: {}, headers, body,
  }, { signingDate: o.date || new Date() });
  return send(port, {
    method: o.method, path: o.path, headers: { ...signed.headers, ...late },
    body: o.tamper ? Buffer.concat([body, Buffer.from(' ')]) : body,
  });
}

let cases = 0;
const invalidSent = {};

// expect(server, name, call, want): runs one case; want = {status, type, message (a regex
// when the reason matters)} for an error, {status: 200, check(json)} for an answer; invalid:
// whether it breaks a rule of the service.
async function expect(server, name, o, want) {
  const port = cfg[server].port;
  const before = (await send(port, { method: 'GET', path: '/stats' })).json;
  const got = await signedCall(port, { service: cfg[server].service, sessionToken: cfg[server].sessionToken, ...o });
  const after = (await send(port, { method: 'GET', path: '/stats' })).json;
  const where = `${server}: ${name}: got ${got.status} ${got.text.slice(0, 300)}`;
  assert.strictEqual(got.status, want.status, where);
  if (want.type) {
    assert.ok(got.json && got.json.__type === want.type, `${where} (want __type ${want.type})`);
    assert.strictEqual(typeof got.json.message, 'string', where);
    if (want.message) assert.match(got.json.message, want.message, where);
  }
  if (want.check) want.check(got.json, where);
  const grew = after.invalid_requests - before.invalid_requests;
  assert.strictEqual(grew, want.invalid ? 1 : 0, `${where}: invalid_requests grew by ${grew}`);
  if (want.invalid) invalidSent[server] = (invalidSent[server] || 0) + 1;
  cases += 1;
  return got.json;
}
const refused = (status, type) => ({ status, type, invalid: true });
const answered = (status, type) => ({ status, type, invalid: false });
const ok = (check = () => {}) => ({ status: 200, check, invalid: false });

const outLines = (server) =>
  fs.readFileSync(cfg[server].out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

// The rules aws_strict.js enforces for every service, on one action of it.
async function commonRules(server, target, body) {
  const c = (o) => ({ target, body, ...o });
  await expect(server, 'body changed after signing', c({ tamper: true }), refused(400, 'InvalidSignatureException'));
  await expect(server, 'unknown target', c({ target: `${target}X` }), refused(400, 'UnknownOperationException'));
  await expect(server, 'X-Amz-Target not signed', c({ unsigned: ['x-amz-target'] }),
    refused(400, 'InvalidSignatureException'));
  await expect(server, 'another service in the scope', c({ signAs: 'sqs' }),
    { ...refused(400, 'InvalidSignatureException'), message: /scope service sqs/ });
  await expect(server, 'another region in the scope', c({ region: 'ap-south-2' }),
    refused(400, 'InvalidSignatureException'));
  await expect(server, 'unknown access key', c({ key: 'AKIAUNKNOWN000000000' }),
    refused(403, 'UnrecognizedClientException'));
  await expect(server, 'signed 6 minutes ago', c({ date: new Date(Date.now() - 6 * 60000) }),
    refused(400, 'InvalidSignatureException'));
  await expect(server, 'Content-Type application/json', c({ contentType: 'application/json' }),
    refused(400, 'SerializationException'));
  await expect(server, 'GET', c({ method: 'GET', body: '' }), refused(405, 'UnknownOperationException'));
  await expect(server, 'another path', c({ path: '/x' }), refused(404, 'UnknownOperationException'));
  await expect(server, 'not JSON', c({ body: '{"a":' }), refused(400, 'SerializationException'));
  await expect(server, 'not UTF-8', c({ body: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]) }),
    refused(400, 'SerializationException'));
}

async function firehose() {
  const target = 'Firehose_20150804.PutRecordBatch';
  const rec = (s) => ({ Data: Buffer.from(s).toString('base64') });
  const put = (records, stream = cfg.firehose.stream) =>
    ({ target, body: { DeliveryStreamName: stream, Records: records } });
  await expect('firehose', 'two records', put([rec('{"a":1}\n'), rec('{"b":2}\n{"c":3}\n')]),
    ok((j, w) => assert.ok(j.FailedPutCount === 0 && j.RequestResponses.length === 2 &&
      j.RequestResponses.every((r) => r.RecordId), w)));
  await commonRules('firehose', target, put([rec('{"a":1}\n')]).body);
  await expect('firehose', 'no session token', { ...put([rec('{"a":1}\n')]), noToken: true },
    refused(403, 'UnrecognizedClientException'));
  const lateToken = { 'x-amz-security-token': cfg.firehose.sessionToken };
  await expect('firehose', 'session token not signed', { ...put([rec('{"a":1}\n')]), noToken: true, late: lateToken },
    { ...refused(400, 'InvalidSignatureException'), message: /x-amz-security-token not signed/ });
  await expect('firehose', 'unknown stream', put([rec('{"a":1}\n')], 'other'),
    refused(400, 'ResourceNotFoundException'));
  await expect('firehose', '501 records', put(Array(501).fill(rec('{"a":1}\n'))), refused(400, 'ValidationException'));
  await expect('firehose', 'not newline terminated', put([rec('{"a":1} ')]), refused(400, 'ValidationException'));
  await expect('firehose', 'non-canonical base64', put([{ Data: 'eyJhIjoxfQo' }]),
    refused(400, 'SerializationException'));
  assert.deepStrictEqual(fs.readFileSync(cfg.firehose.out, 'utf8'), '{"a":1}\n{"b":2}\n{"c":3}\n');
}

const logs = (action) => `Logs_20140328.${action}`;
const DAY = 24 * 3600 * 1000;

async function cloudwatchLogs() {
  const s = 'logs';
  const call = (action, body) => ({ target: logs(action), body });
  const put = (group, stream, logEvents) =>
    call('PutLogEvents', { logGroupName: group, logStreamName: stream, logEvents });
  const events = (times, message = (i) => `event ${i}`) => times.map((t, i) => ({ timestamp: t, message: message(i) }));
  const now = Date.now();
  const noRejects = (j, w) =>
    assert.ok(j && !('rejectedLogEventsInfo' in j) && typeof j.nextSequenceToken === 'string', w);
  const rejects = (info) => (j, w) => assert.deepStrictEqual(j.rejectedLogEventsInfo, info, w);

  await expect(s, 'CreateLogGroup', call('CreateLogGroup', { logGroupName: '/ecs/app', tags: { team: 'logs' } }), ok());
  await expect(s, 'CreateLogGroup again', call('CreateLogGroup', { logGroupName: '/ecs/app' }),
    answered(400, 'ResourceAlreadyExistsException'));
  await expect(s, 'PutLogEvents, no such group', put('/ecs/none', 'web', events([now])),
    { ...answered(400, 'ResourceNotFoundException'), message: /log group does not exist/ });
  await expect(s, 'PutLogEvents, no such stream', put('/ecs/app', 'web', events([now])),
    { ...answered(400, 'ResourceNotFoundException'), message: /log stream does not exist/ });
  await expect(s, 'CreateLogStream, no such group',
    call('CreateLogStream', { logGroupName: '/ecs/none', logStreamName: 'web' }),
    answered(400, 'ResourceNotFoundException'));
  await expect(s, 'CreateLogStream', call('CreateLogStream', { logGroupName: '/ecs/app', logStreamName: 'web' }), ok());
  await expect(s, 'CreateLogStream again', call('CreateLogStream', { logGroupName: '/ecs/app', logStreamName: 'web' }),
    answered(400, 'ResourceAlreadyExistsException'));
  await expect(s, 'PutRetentionPolicy 7', call('PutRetentionPolicy', { logGroupName: '/ecs/app', retentionInDays: 7 }),
    ok());
  await expect(s, 'PutRetentionPolicy 8', call('PutRetentionPolicy', { logGroupName: '/ecs/app', retentionInDays: 8 }),
    refused(400, 'InvalidParameterException'));
  await expect(s, 'PutRetentionPolicy, no such group',
    call('PutRetentionPolicy', { logGroupName: '/ecs/none', retentionInDays: 1 }),
    answered(400, 'ResourceNotFoundException'));

  // Accepted batches, each at a limit.
  const kept = [];
  const keep = (group, stream, evs) => kept.push(...evs.map((e) => ({ group, stream, ...e })));
  const three = events([now - 2000, now - 1000, now - 1000], (i) => ['plain', 'café 東京 "q"', 'tab\there'][i]);
  await expect(s, 'three events, equal times in order', put('/ecs/app', 'web', three), ok(noRejects));
  keep('/ecs/app', 'web', three);
  const tenThousand = events(Array(10000).fill(now), () => 'x');
  await expect(s, '10,000 events', put('/ecs/app', 'web', tenThousand), ok(noRejects));
  keep('/ecs/app', 'web', tenThousand);
  const fullBatch = events([now, now, now, now], () => 'm'.repeat(256 * 1024 - 26)); // 4 × 256 KiB = 1,048,576
  await expect(s, '1,048,576 bytes of 256 KiB events', put('/ecs/app', 'web', fullBatch), ok(noRejects));
  keep('/ecs/app', 'web', fullBatch);
  const fullDay = events([now - DAY, now]);
  await expect(s, 'a span of exactly 24 hours', put('/ecs/app', 'web', fullDay), ok(noRejects));
  keep('/ecs/app', 'web', fullDay);

  // Refused batches: one per rule.
  await expect(s, '10,001 events', put('/ecs/app', 'web', events(Array(10001).fill(now), () => 'x')),
    refused(400, 'InvalidParameterException'));
  await expect(s, 'no events', put('/ecs/app', 'web', []), refused(400, 'InvalidParameterException'));
  // 3 × 262,144 + 262,118 + 27 = 1,048,577
  const overBatch = [...fullBatch.slice(0, 3), ...events([now, now], (i) => (i ? 'y' : 'm'.repeat(262118 - 26)))];
  await expect(s, '1,048,577 bytes', put('/ecs/app', 'web', overBatch), refused(400, 'InvalidParameterException'));
  await expect(s, 'an event of 256 KiB + 1', put('/ecs/app', 'web', events([now], () => 'm'.repeat(256 * 1024 - 25))),
    refused(400, 'InvalidParameterException'));
  await expect(s, 'out of order', put('/ecs/app', 'web', events([now, now - 1])),
    refused(400, 'InvalidParameterException'));
  await expect(s, 'a span of 24 hours + 1 ms', put('/ecs/app', 'web', events([now - DAY - 1, now])),
    refused(400, 'InvalidParameterException'));
  await expect(s, 'an empty message', put('/ecs/app', 'web', events([now], () => '')),
    refused(400, 'InvalidParameterException'));
  await expect(s, 'a timestamp in seconds.ms', put('/ecs/app', 'web', [{ timestamp: now + 0.5, message: 'x' }]),
    refused(400, 'InvalidParameterException'));
  await expect(s, 'an event with a third member',
    put('/ecs/app', 'web', [{ timestamp: now, message: 'x', level: 'info' }]),
    refused(400, 'InvalidParameterException'));
  await expect(s, 'a lone surrogate', put('/ecs/app', 'web', events([now], () => 'a\ud800b')),
    refused(400, 'InvalidParameterException'));
  await expect(s, 'missing logEvents', call('PutLogEvents', { logGroupName: '/ecs/app', logStreamName: 'web' }),
    refused(400, 'SerializationException'));
  await expect(s, 'an unknown member',
    call('PutLogEvents', { logGroupName: '/ecs/app', logStreamName: 'web', logEvents: events([now]), logStreamname: 'x' }),
    refused(400, 'SerializationException'));
  await expect(s, "a group name with ' '", call('CreateLogGroup', { logGroupName: 'bad name' }),
    refused(400, 'InvalidParameterException'));
  await expect(s, "a stream name with ':'", call('CreateLogStream', { logGroupName: '/ecs/app', logStreamName: 'a:b' }),
    refused(400, 'InvalidParameterException'));
  await expect(s, 'a 513-character stream name',
    call('CreateLogStream', { logGroupName: '/ecs/app', logStreamName: 's'.repeat(513) }),
    refused(400, 'InvalidParameterException'));
  await commonRules(s, logs('PutLogEvents'), put('/ecs/app', 'web', events([now])).body);

  // Too old, expired (the group keeps 7 days), too new: refused per event, the rest stored.
  await expect(s, 'CreateLogGroup /ecs/other', call('CreateLogGroup', { logGroupName: '/ecs/other' }), ok());
  await expect(s, 'CreateLogStream /ecs/other',
    call('CreateLogStream', { logGroupName: '/ecs/other', logStreamName: 'job' }),
    ok());
  const old = events([now - 14 * DAY - 3600000, now - 14 * DAY - 3600000 + 5, now - 14 * DAY + 3600000]);
  await expect(s, 'two events over 14 days old', put('/ecs/other', 'job', old),
    ok(rejects({ tooOldLogEventEndIndex: 2 })));
  keep('/ecs/other', 'job', old.slice(2));
  const expired = events([now - 7 * DAY - 3600000, now - 7 * DAY - 3600000 + 1, now - 7 * DAY + 3600000]);
  await expect(s, 'two events older than the retention', put('/ecs/app', 'web', expired),
    ok(rejects({ expiredLogEventEndIndex: 2 })));
  keep('/ecs/app', 'web', expired.slice(2));
  const both = events([now - 14 * DAY - 3600000, now - 14 * DAY + 3600000]);
  await expect(s, 'too old and expired', put('/ecs/app', 'web', both),
    ok(rejects({ tooOldLogEventEndIndex: 1, expiredLogEventEndIndex: 2 })));
  const future = events([now, now + 3 * 3600000, now + 3 * 3600000 + 1]);
  await expect(s, 'two events 3 hours ahead', put('/ecs/app', 'web', future),
    ok(rejects({ tooNewLogEventStartIndex: 1 })));
  keep('/ecs/app', 'web', future.slice(0, 1));

  // DescribeLogStreams: by name with a prefix, pages of one.
  await expect(s, 'CreateLogStream web-2',
    call('CreateLogStream', { logGroupName: '/ecs/app', logStreamName: 'web-2' }),
    ok());
  const describe = (more) => call('DescribeLogStreams', { logGroupName: '/ecs/app', logStreamNamePrefix: 'web', ...more });
  const page1 = await expect(s, 'DescribeLogStreams limit 1', describe({ limit: 1 }),
    ok((j, w) => assert.ok(j.logStreams.length === 1 && j.logStreams[0].logStreamName === 'web' &&
      j.logStreams[0].lastEventTimestamp === now && j.nextToken, w)));
  await expect(s, 'DescribeLogStreams next page', describe({ limit: 1, nextToken: page1.nextToken }),
    ok((j, w) => assert.ok(j.logStreams.length === 1 && j.logStreams[0].logStreamName === 'web-2' && !j.nextToken &&
      !('lastEventTimestamp' in j.logStreams[0]), w)));
  await expect(s, 'DescribeLogStreams by LastEventTime with a prefix',
    describe({ orderBy: 'LastEventTime' }), refused(400, 'InvalidParameterException'));
  await expect(s, 'DescribeLogStreams limit 51', call('DescribeLogStreams', { logGroupName: '/ecs/app', limit: 51 }),
    refused(400, 'InvalidParameterException'));

  // The stored events are exactly the accepted ones, in order; the state shows in /stats.
  const stored = outLines(s);
  assert.strictEqual(stored.length, kept.length, `logs: stored ${stored.length} events, accepted ${kept.length}`);
  stored.forEach((e, i) => assert.deepStrictEqual(e, kept[i], `logs: stored event ${i}`));
  const st = (await send(cfg.logs.port, { method: 'GET', path: '/stats' })).json;
  assert.deepStrictEqual(st.groups['/ecs/app'],
    { retentionInDays: 7, tags: { team: 'logs' }, streams: { web: kept.length - 1, 'web-2': 0 } });
  assert.ok(st.events === kept.length && st.rejected_too_old === 3 && st.rejected_expired === 3 &&
    st.rejected_too_new === 2, JSON.stringify(st));
  assert.ok(st.max_events_seen === 10000 && st.max_batch_bytes_seen === 1048576 && st.max_span_ms_seen === DAY,
    JSON.stringify(st));
}

async function cloudwatchLogsFaults() {
  const s = 'logsFaults';
  const event = { timestamp: Date.now(), message: 'm' };
  const put = { target: logs('PutLogEvents'), body: { logGroupName: '/pre/made', logStreamName: 'one', logEvents: [event] } };
  await expect(s, 'scheduled throttling', put, answered(400, 'ThrottlingException'));
  await expect(s, 'scheduled 503', put, answered(503, 'ServiceUnavailableException'));
  await expect(s, 'into a stream given by --stream', put, ok());
  await expect(s, 'a fault action: CreateLogStream throttled',
    { target: logs('CreateLogStream'), body: { logGroupName: '/pre/made', logStreamName: 'two' } },
    answered(400, 'ThrottlingException'));
  const denied = await send(cfg[s].port, { method: 'GET', path: '/__deny?status=403' });
  assert.strictEqual(denied.status, 200);
  await expect(s, 'denied by /__deny', put, answered(403, 'AccessDeniedException'));
  await expect(s, 'denied, still checked: 10,001 events', { ...put, body: { ...put.body, logEvents: Array(10001).fill(event) } },
    refused(400, 'InvalidParameterException'));
  await send(cfg[s].port, { method: 'GET', path: '/__deny?status=0' });
  // --fault-fraction 0.5: every second call after the scheduled ones, 400 and 503 in turn.
  await expect(s, 'allowed again, a share of the calls: 400', put, answered(400, 'ThrottlingException'));
  await expect(s, 'allowed again', put, ok());
  await expect(s, 'a share of the calls: 503', put, answered(503, 'ServiceUnavailableException'));
  await expect(s, 'and again', put, ok());
  assert.strictEqual(outLines(s).length, 3);
}

async function kinesis() {
  const s = 'kinesis';
  const target = 'Kinesis_20131202.PutRecords';
  const rec = (data, key = 'k', extra = {}) =>
    ({ Data: Buffer.from(data).toString('base64'), PartitionKey: key, ...extra });
  const put = (records, where = { StreamName: cfg.kinesis.stream }) =>
    ({ target, body: { ...where, Records: records } });
  const all = (n) => (j, w) => {
    assert.ok(j.FailedRecordCount === 0 && j.Records.length === n && j.EncryptionType === 'NONE', w);
    for (const r of j.Records) {
      assert.ok(/^\d{56}$/.test(r.SequenceNumber) && /^shardId-\d{12}$/.test(r.ShardId) && !r.ErrorCode, w);
    }
  };
  const arn = (region, name) => `arn:aws:kinesis:${region}:${ACCOUNT}:stream/${name}`;
  const delivered = [];
  const deliver = async (name, records, where, n = records.length) => {
    const j = await expect(s, name, put(records, where), ok(all(n)));
    records.forEach((r, i) =>
      delivered.push({ partition_key: r.PartitionKey, data: r.Data, shard: j.Records[i].ShardId }));
    return j;
  };
  await deliver('three records', [rec('a'), rec('é', 'ключ'), rec('', 'empty data')]);
  await deliver('by StreamARN', [rec('arn')], { StreamARN: arn(cfg.region, cfg.kinesis.stream) });
  const ownArn = arn(cfg.region, cfg.kinesis.stream);
  await deliver('name and ARN', [rec('both')], { StreamName: cfg.kinesis.stream, StreamARN: ownArn });
  await deliver('500 records', Array.from({ length: 500 }, (_, i) => rec(`r${i}`, `key-${i}`)));
  const keys = ['k'.repeat(256), '𝄞'.repeat(128)]; // 256 UTF-16 units each
  await deliver('256-character partition keys', keys.map((k) => rec('x', k)));
  const high = await deliver('ExplicitHashKey picks the shard',
    [rec('h', 'k', { ExplicitHashKey: (1n << 127n).toString() }), rec('l', 'k', { ExplicitHashKey: '0' })]);
  assert.deepStrictEqual(high.Records.map((r) => r.ShardId), ['shardId-000000000001', 'shardId-000000000000']);
  const mib = 1024 * 1024;
  await deliver('a record of data + key = 1 MiB', [rec(Buffer.alloc(mib - 1, 1), 'k')]);
  await deliver('a call of 5 MiB', Array.from({ length: 5 }, () => rec(Buffer.alloc(mib - 1, 2), 'k')));

  await expect(s, '501 records', put(Array(501).fill(rec('x'))), refused(400, 'ValidationException'));
  await expect(s, 'no records', put([]), refused(400, 'ValidationException'));
  await expect(s, 'a record of data + key = 1 MiB + 1', put([rec(Buffer.alloc(mib - 1, 1), 'kk')]),
    refused(400, 'InvalidArgumentException'));
  const fiveMiB = Array.from({ length: 5 }, () => rec(Buffer.alloc(mib - 1, 2), 'k'));
  await expect(s, 'a call of 5 MiB + 3', put([...fiveMiB, rec('xy', 'k')]),
    refused(400, 'InvalidArgumentException'));
  await expect(s, 'a 257-character partition key', put([rec('x', 'k'.repeat(257))]),
    refused(400, 'ValidationException'));
  await expect(s, 'a partition key of 129 astral characters', put([rec('x', '𝄞'.repeat(129))]),
    refused(400, 'ValidationException'));
  await expect(s, 'an empty partition key', put([rec('x', '')]), refused(400, 'ValidationException'));
  await expect(s, 'Data not a multiple of 4', put([{ Data: 'YWJjZA', PartitionKey: 'k' }]),
    refused(400, 'SerializationException'));
  await expect(s, 'Data with non-canonical padding bits', put([{ Data: 'YR==', PartitionKey: 'k' }]),
    refused(400, 'SerializationException'));
  await expect(s, 'Data with a newline', put([{ Data: 'YWJ\nZA==', PartitionKey: 'k' }]),
    refused(400, 'SerializationException'));
  await expect(s, 'a record without PartitionKey', put([{ Data: 'YQ==' }]), refused(400, 'SerializationException'));
  await expect(s, 'an ExplicitHashKey of 2^128', put([rec('x', 'k', { ExplicitHashKey: (1n << 128n).toString() })]),
    refused(400, 'ValidationException'));
  await expect(s, 'an unknown member',
    { target, body: { StreamName: cfg.kinesis.stream, Records: [rec('x')], StreamMode: 'x' } },
    refused(400, 'SerializationException'));
  await expect(s, 'no StreamName or StreamARN', put([rec('x')], {}), refused(400, 'ValidationException'));
  await expect(s, 'a StreamName with a space', put([rec('x')], { StreamName: 'bad name' }),
    refused(400, 'ValidationException'));
  await expect(s, 'a StreamARN of another region',
    put([rec('x')], { StreamARN: arn('ap-south-2', cfg.kinesis.stream) }),
    refused(400, 'ValidationException'));
  await expect(s, 'a name and an ARN that disagree', put([rec('x')], { StreamName: 'other', StreamARN: ownArn }),
    refused(400, 'ValidationException'));
  await expect(s, 'an unknown stream', put([rec('x')], { StreamName: 'missing' }),
    answered(400, 'ResourceNotFoundException'));
  await commonRules(s, target, put([rec('x')]).body);

  const stored = outLines(s);
  assert.strictEqual(stored.length, delivered.length, `kinesis: stored ${stored.length} records, delivered ${delivered.length}`);
  stored.forEach((r, i) => {
    const want = delivered[i];
    assert.ok(r.stream === cfg.kinesis.stream && r.partition_key === want.partition_key &&
      r.data === want.data && r.shard === want.shard,
      `kinesis: stored record ${i}`);
  });
}

async function kinesisFaults() {
  const s = 'kinesisFaults';
  const target = 'Kinesis_20131202.PutRecords';
  const records = Array.from({ length: 10 },
    (_, i) => ({ Data: Buffer.from(`f${i}`).toString('base64'), PartitionKey: `p${i}` }));
  const put = (recs) => ({ target, body: { StreamName: cfg.kinesisFaults.stream, Records: recs } });
  await expect(s, 'scheduled throttling', put(records), answered(400, 'ProvisionedThroughputExceededException'));
  await expect(s, 'scheduled InternalFailure', put(records), answered(500, 'InternalFailure'));
  let failedIdx = [];
  await expect(s, '20% of the records fail', put(records), ok((j, w) => {
    assert.strictEqual(j.FailedRecordCount, 2, w);
    failedIdx = j.Records.map((r, i) => (r.ErrorCode ? i : -1)).filter((i) => i >= 0);
    assert.deepStrictEqual(j.Records.filter((r) => r.ErrorCode).map((r) => r.ErrorCode),
      ['ProvisionedThroughputExceededException', 'InternalFailure'], w);
    assert.ok(j.Records.every((r) => (r.ErrorCode ? !r.SequenceNumber && r.ErrorMessage : r.SequenceNumber)), w);
  }));
  await expect(s, 'the failed ones resent', put(failedIdx.map((i) => records[i])),
    ok((j, w) => assert.strictEqual(j.FailedRecordCount, 0, w)));
  const keys = outLines(s).map((r) => r.partition_key).sort();
  assert.deepStrictEqual(keys, records.map((r) => r.PartitionKey).sort(), 'kinesis faults: every record once');
  await send(cfg[s].port, { method: 'GET', path: '/__deny?status=401' });
  await expect(s, 'denied by /__deny', put(records.slice(0, 1)), answered(401, 'UnrecognizedClientException'));
}

(async () => {
  const started = Date.now();
  await firehose();
  await cloudwatchLogs();
  await cloudwatchLogsFaults();
  await kinesis();
  await kinesisFaults();
  fs.writeFileSync(cfg.summary, JSON.stringify(invalidSent));
  console.log(`selftest: ${cases} calls as expected in ${Date.now() - started} ms ` +
    `(refusals per server ${JSON.stringify(invalidSent)})`);
})().catch((e) => {
  console.error(e.stack || e);
  process.exit(1);
});
