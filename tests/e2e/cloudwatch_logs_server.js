#!/usr/bin/env node
// A strict stand-in for Amazon CloudWatch Logs (POST /, JSON 1.1, SigV4 service "logs") for
// ferry's e2e tests: CreateLogGroup, CreateLogStream, PutRetentionPolicy, DescribeLogStreams
// and PutLogEvents (X-Amz-Target Logs_20140328.<action>), with real group and stream state.
// Every check of aws_strict.js (method, path, headers, SigV4 recomputed from the signed
// headers and the body, clock skew, scope, strict UTF-8 JSON) comes first. Anything the
// real service would refuse is answered with its error and counted as invalid (a test fails
// on any): an unknown or missing member (SerializationException); a group name outside
// [.-_/#A-Za-z0-9]{1,512}, a stream name of 0 or over 512 characters or holding ':' or '*',
// retention days not among CloudWatch's values (InvalidParameterException). PutLogEvents
// must hold 1..10,000 events of {timestamp (integer ms), message (1 or more characters)},
// at most 1,048,576 bytes (each event's UTF-8 message plus 26), each event at most 256 KiB
// (message plus 26), in chronological order (equal timestamps allowed), spanning at most
// 24 hours (InvalidParameterException for each). These are service answers, not invalid:
// ResourceAlreadyExistsException for a group or stream that exists; ResourceNotFoundException
// for a missing group ("The specified log group does not exist.") or stream ("The specified
// log stream does not exist."). Events more than 14 days old, older than the group's
// retention, or more than 2 hours in the future are not stored: the answer's
// rejectedLogEventsInfo gives tooOldLogEventEndIndex (exclusive), expiredLogEventEndIndex
// (exclusive, counting the too old ones; only when retention rejects more than the 14 days)
// and tooNewLogEventStartIndex (inclusive); every other event is appended to --out as a JSON
// line {group, stream, timestamp, message}. The sequence token is accepted and ignored.
// --group G (repeatable) and --stream G:S (repeatable) exist from the start.
// Faults on purpose, on valid calls of the actions in --fault-actions (comma-separated,
// default PutLogEvents), in this order: --throttle-first N answers the first N
// ThrottlingException (400), --unavailable-first N the next N ServiceUnavailableException
// (503); after them --fault-fraction F (< 0.5) answers that share of the calls, spread evenly,
// ThrottlingException and ServiceUnavailableException alternately. GET /__deny?status=403
// (or 401) refuses every valid call as IAM would until GET /__deny?status=0 (aws_strict.js). GET /stats: counts and the groups with their
// retention, tags and streams (also written to --stats-file on SIGTERM).
'use strict';

const fs = require('fs');
const aws = require('./aws_strict');

const MAX_EVENTS = 10000;
const MAX_BATCH_BYTES = 1048576;
const EVENT_OVERHEAD = 26;
const MAX_EVENT_BYTES = 256 * 1024;
const HOUR_MS = 3600 * 1000;
const DAY_MS = 24 * HOUR_MS;
const MAX_SPAN_MS = DAY_MS;
const MAX_AGE_MS = 14 * DAY_MS;
const MAX_AHEAD_MS = 2 * HOUR_MS;
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
  1827, 2192, 2557, 2922, 3288, 3653];
const GROUP_NAME = /^[.\-_/#A-Za-z0-9]{1,512}$/;
const BAD_PARAM = 'InvalidParameterException';
const BAD_SHAPE = 'SerializationException';

// name → {created, retentionInDays, tags, logGroupClass, streams: name → stream}
const groups = new Map();

function groupArn(name) {
  return `arn:aws:logs:${opts.region}:${aws.ACCOUNT}:log-group:${name}`;
}

function createGroup(name, extra = {}) {
  groups.set(name, { created: Date.now(), retentionInDays: null, tags: {}, streams: new Map(), ...extra });
}

function createStream(group, name) {
  group.streams.set(name, { created: Date.now(), first: null, last: null, ingested: null, events: 0 });
}

// A reason when s is not a valid stream name, else null.
function badStreamName(s) {
  if (typeof s !== 'string' || !aws.wellFormed(s) || s.length < 1 || s.length > 512) {
    return `logStreamName must be a string of 1..512 characters (got ${JSON.stringify(s)})`;
  }
  return /[:*]/.test(s) ? `logStreamName ${JSON.stringify(s)} holds ':' or '*'` : null;
}

function badGroupName(s) {
  return typeof s === 'string' && GROUP_NAME.test(s)
    ? null : `logGroupName must match [.-_/#A-Za-z0-9]{1,512} (got ${JSON.stringify(s)})`;
}

// The checks every action's body passes: exact members, a valid group name and, when
// streamKey is given, a valid stream name. True when the call broke one (it is answered).
function badBody(call, required, optional, { streamKey, groupKey = 'logGroupName' } = {}) {
  const shape = aws.checkKeys(call.body, required, optional);
  const reason = shape ? null : badGroupName(call.body[groupKey]) || (streamKey && badStreamName(call.body[streamKey]));
  if (!shape && !reason) return false;
  call.invalid(400, shape ? BAD_SHAPE : BAD_PARAM, `${call.action}: ${shape || reason}`);
  return true;
}

// Admits a valid call and plays the faults: false when the call was answered (denied by
// /__deny or a fault), true when the action goes on.
function admitted(call) {
  const n = call.admit();
  if (!n) return false;
  if (!opts.faultActions.split(',').includes(call.action)) return true;
  const k = (stats.fault_calls[call.action] = (stats.fault_calls[call.action] || 0) + 1);
  const fault = aws.scheduledFault(k, [
    [opts.throttleFirst, () => call.error(400, 'ThrottlingException', 'Rate exceeded (scheduled)')],
    [opts.unavailableFirst, () => call.error(503, 'ServiceUnavailableException',
      'The server failed to process the request (scheduled)')],
  ]);
  if (fault) {
    fault();
    return false;
  }
  if (!nextCallFails()) return true;
  stats.fraction_faults += 1;
  if (stats.fraction_faults % 2 === 1) {
    call.error(400, 'ThrottlingException', 'Rate exceeded (a share of the calls)');
  } else {
    call.error(503, 'ServiceUnavailableException', 'The server failed to process the request (a share of the calls)');
  }
  return false;
}

function notFound(call, what) {
  return call.error(400, 'ResourceNotFoundException', `The specified log ${what} does not exist.`);
}

async function createLogGroup(call) {
  if (badBody(call, ['logGroupName'], ['kmsKeyId', 'tags', 'logGroupClass'])) return undefined;
  const { logGroupName, tags = {}, logGroupClass = 'STANDARD' } = call.body;
  if (tags === null || typeof tags !== 'object' || Array.isArray(tags) || Object.keys(tags).length > 50 ||
      Object.entries(tags).some(([k, v]) => typeof v !== 'string' || k.length < 1 || k.length > 128 || v.length > 256)) {
    return call.invalid(400, BAD_PARAM, 'tags must map 1..128-character keys to strings of at most 256, at most 50 of them');
  }
  if (!['STANDARD', 'INFREQUENT_ACCESS', 'DELIVERY'].includes(logGroupClass)) {
    return call.invalid(400, BAD_PARAM, `logGroupClass ${logGroupClass}`);
  }
  if (!admitted(call)) return undefined;
  if (groups.has(logGroupName)) {
    return call.error(400, 'ResourceAlreadyExistsException', 'The specified log group already exists');
  }
  createGroup(logGroupName, { tags, logGroupClass });
  stats.groups_created += 1;
  return call.reply({});
}

async function createLogStream(call) {
  if (badBody(call, ['logGroupName', 'logStreamName'], [], { streamKey: 'logStreamName' })) return undefined;
  if (!admitted(call)) return undefined;
  const group = groups.get(call.body.logGroupName);
  if (!group) return notFound(call, 'group');
  if (group.streams.has(call.body.logStreamName)) {
    return call.error(400, 'ResourceAlreadyExistsException', 'The specified log stream already exists');
  }
  createStream(group, call.body.logStreamName);
  stats.streams_created += 1;
  return call.reply({});
}

async function putRetentionPolicy(call) {
  if (badBody(call, ['logGroupName', 'retentionInDays'], [])) return undefined;
  const days = call.body.retentionInDays;
  if (!RETENTION_DAYS.includes(days)) {
    return call.invalid(400, BAD_PARAM,
      `retentionInDays ${JSON.stringify(days)} is not one of ${RETENTION_DAYS.join(', ')}`);
  }
  if (!admitted(call)) return undefined;
  const group = groups.get(call.body.logGroupName);
  if (!group) return notFound(call, 'group');
  group.retentionInDays = days;
  return call.reply({});
}

async function describeLogStreams(call) {
  const { body } = call;
  const groupKey = 'logGroupIdentifier' in body ? 'logGroupIdentifier' : 'logGroupName';
  const optional = ['logStreamNamePrefix', 'orderBy', 'descending', 'nextToken', 'limit'];
  if (badBody(call, [groupKey], optional, { groupKey })) return undefined;
  const { logStreamNamePrefix = '', orderBy = 'LogStreamName', descending = false, limit = 50 } = body;
  if (typeof logStreamNamePrefix !== 'string' || !['LogStreamName', 'LastEventTime'].includes(orderBy) ||
      typeof descending !== 'boolean' || !Number.isInteger(limit) || limit < 1 || limit > 50) {
    return call.invalid(400, BAD_PARAM, 'logStreamNamePrefix, orderBy, descending or limit out of range');
  }
  if (logStreamNamePrefix && orderBy === 'LastEventTime') {
    return call.invalid(400, BAD_PARAM, 'Cannot order by LastEventTime with a logStreamNamePrefix.');
  }
  const start = body.nextToken === undefined ? 0 : Number(/^s(\d+)$/.exec(body.nextToken)?.[1] ?? NaN);
  if (!Number.isInteger(start)) return call.invalid(400, BAD_PARAM, `nextToken ${body.nextToken}`);
  if (!admitted(call)) return undefined;
  const group = groups.get(body[groupKey]);
  if (!group) return notFound(call, 'group');
  const key = orderBy === 'LogStreamName' ? ([name]) => name : ([, s]) => s.last ?? -1;
  const all = [...group.streams].filter(([name]) => name.startsWith(logStreamNamePrefix))
    .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  if (descending) all.reverse();
  const page = all.slice(start, start + limit).map(([name, s]) => ({
    logStreamName: name, creationTime: s.created, arn: `${groupArn(body[groupKey])}:log-stream:${name}`,
    storedBytes: 0,
    ...(s.first === null ? {} : { firstEventTimestamp: s.first, lastEventTimestamp: s.last, lastIngestionTime: s.ingested }),
  }));
  return call.reply({ logStreams: page, ...(start + limit < all.length ? { nextToken: `s${start + limit}` } : {}) });
}

// The rules of one batch; an InvalidParameterException reason, or null.
function batchRule(events) {
  if (!Array.isArray(events) || events.length < 1 || events.length > MAX_EVENTS) {
    return `logEvents must hold 1..${MAX_EVENTS} events (got ${Array.isArray(events) ? events.length : typeof events})`;
  }
  let bytes = 0;
  let largest = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    const shape = aws.checkKeys(e, ['timestamp', 'message']);
    if (shape) return `logEvents[${i}]: ${shape}`;
    if (!Number.isSafeInteger(e.timestamp) || e.timestamp < 0) {
      return `logEvents[${i}].timestamp ${e.timestamp} is not a time in ms`;
    }
    if (typeof e.message !== 'string' || e.message.length < 1 || !aws.wellFormed(e.message)) {
      return `logEvents[${i}].message must be a non-empty string of whole code points`;
    }
    const size = Buffer.byteLength(e.message, 'utf8') + EVENT_OVERHEAD;
    if (size > MAX_EVENT_BYTES) return `Log event too large: logEvents[${i}] is ${size} bytes (at most ${MAX_EVENT_BYTES})`;
    largest = Math.max(largest, size);
    bytes += size;
    if (i > 0 && e.timestamp < events[i - 1].timestamp) {
      return `Log events in a single PutLogEvents request must be in chronological order (logEvents[${i}])`;
    }
  }
  if (bytes > MAX_BATCH_BYTES) return `Upload too large: ${bytes} bytes exceeds limit of ${MAX_BATCH_BYTES}`;
  const span = events[events.length - 1].timestamp - events[0].timestamp;
  if (span > MAX_SPAN_MS) {
    return `The batch of log events in a single PutLogEvents request cannot span more than 24 hours (${span} ms)`;
  }
  stats.max_events_seen = Math.max(stats.max_events_seen, events.length);
  stats.max_batch_bytes_seen = Math.max(stats.max_batch_bytes_seen, bytes);
  stats.max_event_bytes_seen = Math.max(stats.max_event_bytes_seen, largest);
  stats.max_span_ms_seen = Math.max(stats.max_span_ms_seen, span);
  return null;
}

async function putLogEvents(call) {
  const optional = ['sequenceToken', 'entity'];
  const required = ['logGroupName', 'logStreamName', 'logEvents'];
  if (badBody(call, required, optional, { streamKey: 'logStreamName' })) return undefined;
  const { logGroupName, logStreamName, logEvents } = call.body;
  const rule = batchRule(logEvents);
  if (rule) return call.invalid(400, BAD_PARAM, rule);
  if (!admitted(call)) return undefined;
  const group = groups.get(logGroupName);
  if (!group) return notFound(call, 'group');
  const stream = group.streams.get(logStreamName);
  if (!stream) return notFound(call, 'stream');

  // Sorted by time, so the rejected ones are a prefix (too old, expired) and a suffix (too new).
  const now = Date.now();
  const count = (pred) => logEvents.filter(pred).length;
  const tooOld = count((e) => e.timestamp < now - MAX_AGE_MS);
  const expired = group.retentionInDays === null ? tooOld
    : Math.max(tooOld, count((e) => e.timestamp < now - group.retentionInDays * DAY_MS));
  const tooNewStart = logEvents.length - count((e) => e.timestamp > now + MAX_AHEAD_MS);
  const info = {};
  if (tooOld > 0) info.tooOldLogEventEndIndex = tooOld;
  if (expired > tooOld) info.expiredLogEventEndIndex = expired;
  if (tooNewStart < logEvents.length) info.tooNewLogEventStartIndex = tooNewStart;
  const kept = logEvents.slice(expired, Math.max(expired, tooNewStart));
  if (kept.length) {
    const lines = kept.map((e) => JSON.stringify({
      group: logGroupName, stream: logStreamName, timestamp: e.timestamp, message: e.message,
    }));
    fs.appendFileSync(opts.out, lines.join('\n') + '\n');
    stream.first = stream.first ?? kept[0].timestamp;
    stream.last = Math.max(stream.last ?? 0, kept[kept.length - 1].timestamp);
    stream.ingested = now;
    stream.events += kept.length;
  }
  stats.events += kept.length;
  stats.rejected_too_old += tooOld;
  stats.rejected_expired += expired - tooOld;
  stats.rejected_too_new += logEvents.length - tooNewStart;
  if (Object.keys(info).length) stats.partial_responses += 1;
  return call.reply({
    nextSequenceToken: String(stats.events).padStart(56, '0'),
    ...(Object.keys(info).length ? { rejectedLogEventsInfo: info } : {}),
  });
}

const { opts, stats } = aws.serve({
  name: 'cloudwatch_logs_server.js',
  usage: '[--group G]... [--stream G:S]... [--throttle-first N] [--unavailable-first N]\n' +
    '       [--fault-fraction F] [--fault-actions A,B (default PutLogEvents)]',
  options: {
    '--group': 'groups', '--stream': 'streams', '--throttle-first': 'throttleFirst',
    '--unavailable-first': 'unavailableFirst', '--fault-fraction': 'faultFraction',
    '--fault-actions': 'faultActions',
  },
  numeric: ['throttleFirst', 'unavailableFirst', 'faultFraction'],
  lists: ['groups', 'streams'],
  defaults: { throttleFirst: 0, unavailableFirst: 0, faultFraction: 0, faultActions: 'PutLogEvents' },
  service: 'logs',
  targets: {
    'Logs_20140328.CreateLogGroup': createLogGroup,
    'Logs_20140328.CreateLogStream': createLogStream,
    'Logs_20140328.PutRetentionPolicy': putRetentionPolicy,
    'Logs_20140328.DescribeLogStreams': describeLogStreams,
    'Logs_20140328.PutLogEvents': putLogEvents,
  },
  maxBody: 8 * MAX_BATCH_BYTES, // the limit is judged on the events; this leaves room for JSON escapes
  bodyTooLarge: [413, 'RequestEntityTooLargeException'],
  denied: (call) => `logs:${call.action} on resource: ${groupArn(call.body.logGroupName ?? call.body.logGroupIdentifier)}`,
  stats: {
    events: 0,               // stored events
    rejected_too_old: 0,     // events answered in rejectedLogEventsInfo, not stored
    rejected_expired: 0,
    rejected_too_new: 0,
    partial_responses: 0,    // 200 answers with a rejectedLogEventsInfo
    groups_created: 0,       // by CreateLogGroup / CreateLogStream (not --group / --stream)
    streams_created: 0,
    max_events_seen: 0,
    max_batch_bytes_seen: 0, // UTF-8 message bytes + 26 per event
    max_event_bytes_seen: 0,
    max_span_ms_seen: 0,
    fault_calls: {},         // action → valid calls the fault schedule saw
    fraction_faults: 0,      // calls answered an error by --fault-fraction
  },
});
// stats.groups: name → {retentionInDays, tags, streams: name → stored events}, as they are now.
Object.defineProperty(stats, 'groups', {
  enumerable: true,
  get: () => Object.fromEntries([...groups].map(([name, g]) => [name, {
    retentionInDays: g.retentionInDays, tags: g.tags,
    streams: Object.fromEntries([...g.streams].map(([s, st]) => [s, st.events])),
  }])),
});
const nextCallFails = aws.failureSpreader(opts.faultFraction);
for (const name of opts.groups) {
  const reason = badGroupName(name);
  if (reason) throw new Error(`--group: ${reason}`);
  if (!groups.has(name)) createGroup(name);
}
for (const spec of opts.streams) {
  const [group, stream] = [spec.slice(0, spec.indexOf(':')), spec.slice(spec.indexOf(':') + 1)];
  const reason = spec.includes(':') ? badGroupName(group) || badStreamName(stream) : 'wants GROUP:STREAM';
  if (reason) throw new Error(`--stream ${spec}: ${reason}`);
  if (!groups.has(group)) createGroup(group);
  if (!groups.get(group).streams.has(stream)) createStream(groups.get(group), stream);
}
