#!/usr/bin/env python3
"""Helpers of tests/e2e/firelens_parity_test.sh, one process for all configs (python starts
slowly): the test's table goes in as TABLE_FILE, one row per line, as the test writes it.

stage TABLE_FILE CORPUS WORK TIME_BASE --ports FILE --dd KEY=PORT ... --fh STREAM@REGION=PORT ...: copies
  every row's corpus folder to WORK/NAME and moves what it listens on, and where its outputs
  send, into the test's reach; writes the sample-line sets (WORK/SET.jsonl, one JSON string a
  line); prints per row "NAME FWD_PORT HC_PORT HTTP_PORT HAS_TCP HAS_HC HAS_HTTP".
check TABLE_FILE WORK TIME_BASE NSEC_OFFSET: for each row, the records the stand-ins received
  while its ferry ran (WORK/NAME.run: what was sent, where the stand-ins' output files stood,
  their stats before and after) against what Fluent Bit ships for the same input, computed
  here from Fluent Bit's rules (out_datadog, kinesis_firehose, the configs' filters).
"""
import argparse
import datetime
import json
import os
import re
import shutil
import sys
import time

# ---- stage --------------------------------------------------------------------------------


def parse_row(line):
    """A table row: NAME|TAG|LINES|SOCK:TCP|ADD|DD_KEY|SERVICE|SOURCE|TAGS|FH|HC|GAPS, where a
    row without datadog (DD_KEY -) has no SERVICE, SOURCE, TAGS."""
    f = line.rstrip('\n').split('|')
    if f[5] == '-':
        f[6:6] = ['', '', '']
    keys = 'name tag lines counts add dd_key service source tags fh hc gaps'.split()
    if len(f) != len(keys):
        sys.exit(f'a table row has {len(f)} columns: {line[:80]}')
    return dict(zip(keys, f))


def stage(a):
    dd = dict(v.rsplit('=', 1) for v in a.dd)
    fh = dict(v.rsplit('=', 1) for v in a.fh)
    ports = open(a.ports).read().split()  # free_port's (lib.sh), three a row
    for row in map(parse_row, open(a.table, encoding='utf-8')):
        dest = os.path.join(a.work, row['name'])
        shutil.copytree(os.path.join(a.corpus, row['name']), dest)
        fwd, hc, http, ports = *ports[:3], ports[3:]
        to = argparse.Namespace(sock=os.path.join(dest, 'fluent.sock'), fwd_port=fwd, hc_port=hc,
                                http_port=http, dd_port=dd.get(row['dd_key']), fh_port=fh.get(row['fh']))
        seen = {'tcp': False, 'hc': False, 'http': False, 'dd': 0, 'fh': 0}
        for root, _, files in os.walk(dest):
            for f in files:
                if f.endswith('.conf'):
                    rewrite(os.path.join(root, f), to, seen)
        if (row['dd_key'] == '-') != (seen['dd'] == 0) or (row['fh'] == '-') != (seen['fh'] == 0):
            sys.exit(f"stage: {row['name']}: the table's outputs are not the config's ({seen})")
        print(row['name'], fwd, hc, http, int(seen['tcp']), int(seen['hc']), int(seen['http']))
    for name, lines in line_sets(a.time_base).items():
        with open(os.path.join(a.work, name + '.jsonl'), 'w', encoding='utf-8') as f:
            for line in lines:
                f.write(json.dumps(line) + '\n')


def rewrite(path, a, seen):
    out, section, name = [], '', ''
    lines = open(path, encoding='utf-8').read().split('\n')
    # The plugin of each section first (Name may follow the keys it governs).
    names, cur = {}, None
    for i, line in enumerate(lines):
        s = line.strip()
        if s.startswith('['):
            cur = i
        elif cur is not None and s.lower().startswith('name '):
            names[cur] = s.split(None, 1)[1].strip().lower()
    for i, line in enumerate(lines):
        s = line.strip()
        indent = line[:len(line) - len(line.lstrip())] or '    '
        if s.startswith('['):
            section, name = s.upper(), names.get(i, '')
            out.append(line)
            continue
        key, _, value = s.partition(' ')
        key, value = key.lower(), value.strip()
        if section == '[INPUT]':
            if key == 'unix_path':
                line = f'{indent}unix_path {a.sock}'
            elif key == 'listen':
                line = f'{indent}Listen 127.0.0.1'
            elif key == 'port' and name == 'forward':
                line, seen['tcp'] = f'{indent}Port {a.fwd_port}', True
            elif key == 'port' and name == 'tcp':
                line, seen['hc'] = f'{indent}Port {a.hc_port}', True
        elif section == '[SERVICE]':
            if key == 'http_listen':
                line = f'{indent}HTTP_Listen 127.0.0.1'
            elif key == 'http_port':
                line = f'{indent}HTTP_Port {a.http_port}'
            elif key == 'http_server' and value.lower() in ('on', 'true', 'yes'):
                seen['http'] = True
        elif section == '[OUTPUT]' and name == 'datadog':
            if key == 'host':
                seen['dd'] += 1
                line = f'{indent}Host 127.0.0.1\n{indent}Port {a.dd_port}'
            elif key == 'tls':
                line = f'{indent}TLS off'
        elif section == '[OUTPUT]' and name in ('firehose', 'kinesis_firehose', 'cloudwatch',
                                                 'cloudwatch_logs') and key == 'name':
            seen['fh'] += 1
            line = f'{line}\n{indent}endpoint http://127.0.0.1:{a.fh_port}'
        out.append(line)
    open(path, 'w', encoding='utf-8').write('\n'.join(out))


# ---- sample lines ---------------------------------------------------------------------------

def line_sets(time_base):
    apache_time = time.strftime('%d/%b/%Y:%H:%M:%S +0000', time.gmtime(time_base - 3600))
    return {
        'plain': ['plain line', 'say "hi"', 'tab\there', 'caf\u00e9 \u6771\u4eac \U0001F680',
                  'back\\slash', 'first\nsecond line', 'x' * 300, ''],
        'json': ['{"msg":"user login","level":"info","user_id":42,"ok":true,"ratio":0.25}',
                 '{"message":"payment done","amount":12.5,"items":["a","b"],"ctx":{"req":"r-1"}}',
                 '{"event":"with time","time":"%s"}' % apache_time,
                 '{"payload":{"deep":[1,-2,{"x":null}]},"big":1099511627776}',
                 'not json at all'],
        'apache': ['192.168.1.10 - frank [%s] "GET /apache_pb.gif HTTP/1.0" 200 2326 '
                   '"http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"' % apache_time,
                   '10.0.0.2 - - [%s] "POST /api/v1/items HTTP/1.1" 201 17' % apache_time,
                   'not an apache line'],
        'syslog': ["<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick on /dev/pts/8",
                   '<13>Feb  5 17:32:18 10.0.0.99 myapp: Use the BFG!',
                   'no syslog header'],
        'grep-vowel': ['Hello', 'hello', 'apple', 'sky', 'Apple pie', 'banana', 'ERROR', 'Tree'],
        'grep-error': ['an error occurred', 'Error: boom', 'all good', 'ERROR upper', 'errors: 0'],
        'elb': ['10.0.1.5 - - "GET /health HTTP/1.1" 200 2 "-" "ELB-HealthChecker/2.0"',
                'GET /index.html 200 "Mozilla/5.0"', 'ELB-HealthChecker/1.0 is older, kept',
                'x ELB-HealthChecker/2.0'],
    }


# ---- Fluent Bit's rules, for the check --------------------------------------------------------

ARN = 'arn:aws:ecs:us-east-2:01234567891011:task/mycluster/3de392df-6bfa-470b-97ed-aa6f482cd7a'

# The upstream parsers.conf regexes in Python's spelling ((?P<name>...)).
APACHE = re.compile(r'^(?P<host>[^ ]*) [^ ]* (?P<user>[^ ]*) \[(?P<time>[^\]]*)\] "(?P<method>\S+)'
                    r'(?: +(?P<path>[^\"]*?)(?: +\S*)?)?" (?P<code>[^ ]*) (?P<size>[^ ]*)'
                    r'(?: "(?P<referer>[^\"]*)" "(?P<agent>[^\"]*)")?$')
SYSLOG = re.compile(r'^\<(?P<pri>[0-9]+)\>(?P<time>[^ ]* {1,2}[^ ]* [^ ]*) (?P<host>[^ ]*) '
                    r'(?P<ident>[a-zA-Z0-9_\/\.\-]*)(?:\[(?P<pid>[0-9]+)\])?(?:[^\:]*\:)? *(?P<message>.*)$')


# Known gaps (the table's last column): where ferry is known to differ, the check expects
# ferry's behaviour, so that the rest is still compared strictly and a gap that closes shows.
# None is left (time_keep, the parsed `time` field kept against Time_Keep Off, was closed).
GAPS = set()


def regex_parse(rx, record, time_keep):
    """parser filter, Key_Name log, Reserve_Data True: the named groups (Skip_Empty_Values on:
    an empty or unmatched group adds nothing), then the other fields; `time` is the record's
    time and stays only with Time_Keep On. None: no match, the record as it was."""
    m = rx.search(record['log'])
    if not m:
        return None
    parsed = {k: v for k, v in m.groupdict().items() if v}
    if not time_keep:
        parsed.pop('time', None)
    parsed.update({k: v for k, v in record.items() if k != 'log' and k not in parsed})
    return parsed


def json_parse(record):
    """The json parser on log (Time_Key time, Time_Keep Off): its members, then the others."""
    try:
        obj = json.loads(record['log'])
    except ValueError:
        return None, None
    if not isinstance(obj, dict):
        return None, None
    when = None
    if 'time' in obj:  # Time_Format %d/%b/%Y:%H:%M:%S %z
        text = obj.pop('time')
        when = datetime.datetime.strptime(text, '%d/%b/%Y:%H:%M:%S %z').timestamp()
    obj.update({k: v for k, v in record.items() if k != 'log' and k not in obj})
    return obj, when


def vowel_grep(log):
    return re.search(r'^.*[aeiou]$', log) and not re.search(r'^[a-z][aeiou].*$', log)


FILTERS = {
    'plain': lambda r: (r, None),
    'json': json_parse,
    'apache': lambda r: (regex_parse(APACHE, r, False), None),
    'syslog': lambda r: (regex_parse(SYSLOG, r, True), None),
    'grep-vowel': lambda r: (r if vowel_grep(r['log']) else 'drop', None),
    'grep-error': lambda r: (r if re.search(r'[Ee]rror', r['log']) else 'drop', None),
    'elb': lambda r: ('drop' if re.search(r'^(?=.*ELB-HealthChecker\/2\.0).*$', r['log']) else r, None),
}


def sent_record(n, lines):
    """forward_client.js's record n with --lines-json."""
    r = {'log': lines[n % len(lines)], 'source': 'stderr' if n % 2 else 'stdout',
         'container_id': 'c0ffee%d' % (n % 7), 'container_name': '/ecs-app-%d' % (n % 3), 'n': n}
    if n % 10 == 0:
        r['nested'] = {'list': [1, -2, 3.5, True, None], 'big': 2 ** 40, 'neg': -(2 ** 33)}
    return r


def added_fields(spec):
    out = {}
    for item in filter(None, spec.split(';')):
        k, v = item.split('=', 1)
        if k == 'ecs':  # the three fields of the agent's record_modifier
            out.update(ecs_cluster='mycluster', ecs_task_arn=ARN, ecs_task_definition=v)
        elif k == 'ec2':
            out['ec2_instance_id'] = v
        else:
            out[k] = v
    return out


def ecs_tags(key, v):
    """out_datadog's provider ecs rules (datadog_remap.c)."""
    if key == 'container_name':
        return ['container_name:' + (v[1:] if v.startswith('/') else v)]
    if key in ('container_id', 'container_image'):
        return [f'{key}:{v}']
    if key == 'ecs_cluster':
        return ['cluster_name:' + (v.split('cluster/', 1)[1] if 'cluster/' in v else v)]
    if key == 'ecs_task_definition':
        if ':' in v:
            fam, ver = v.split(':', 1)
            return [f'task_family:{fam}', f'task_version:{ver}']
        return [f'ecs_task_definition:{v}']
    if key == 'ecs_task_arn':
        tags = [f'task_arn:{v}']
        if v.startswith('arn:aws:ecs:') and len(v) > 12 and ':' in v[12:]:
            tags.append('region:' + v[12:].split(':', 1)[0])
        tags.append('task_id:' + (v.split('task/', 1)[1] if 'task/' in v else v))
        return tags
    return None


def datadog_entry(record, ns, dd):
    """What out_datadog sends for one record: json_date_key `timestamp` in ms rounded half up,
    ddsource/service (hostname only with dd_hostname), the ECS fields moved into ddtags ahead of
    dd_tags, dd_message_key renamed `message`, every other field as it is."""
    e = {'timestamp': ns // 1_000_000 + (1 if ns % 1_000_000 >= 500_000 else 0),
         'ddsource': dd['source'], 'service': dd['service']}
    tags = []
    for k, v in record.items():
        moved = ecs_tags(k, v) if isinstance(v, str) and v else None
        if moved is not None:
            tags += moved
        elif k == 'log':
            e['message'] = v
        else:
            e[k] = v
    e['ddtags'] = ','.join(tags + [dd['tags']])
    return e


def expected(spec, run, time_base, nsec_offset):
    lines = line_sets(time_base)[spec['lines']]
    filt, added = FILTERS[spec['lines']], added_fields(spec['add'])
    want = {}  # n → (record after the filters, its time in ns)
    for how in run['sent']:
        first, count = map(int, how.split(':'))
        for n in range(first, first + count):
            ns = (time_base + n // 1000) * 10**9 + (n % 1000) * 1000003 + nsec_offset
            r = dict(sent_record(n, lines))
            r.update({k: v for k, v in added.items() if k not in r})
            out, when = filt(r)
            if out == 'drop':
                continue
            if out is None:
                out = r
            if when is not None:
                ns = int(when) * 10**9
            want[n] = (out, ns)
    return want


def read_run(path):
    """What the test noted while a row's ferry ran: KEY=VALUE lines (sent may repeat)."""
    run = {'sent': [], 'health': '0'}
    for line in open(path, encoding='utf-8'):
        k, _, v = line.rstrip('\n').partition('=')
        if k == 'sent':
            run['sent'].append(v)
        else:
            run[k] = v
    return run


def received(run, what):
    """The JSON lines the stand-in appended while the row ran, and its stats before/after."""
    with open(run[what + '_file'], encoding='utf-8') as f:
        got = [json.loads(l) for l in
               f.readlines()[int(run[what + '_line_before']):int(run[what + '_line_after'])]]
    before, after = (json.load(open(run[f'{what}_stats_{w}'])) for w in ('before', 'after'))
    return got, before, after


def check_row(spec, run, time_base, nsec_offset):
    GAPS.clear()
    GAPS.update(filter(None, spec['gaps'].split(',')))
    want = expected(spec, run, time_base, nsec_offset)
    problems, checked = [], []
    hc_fields = dict({'health': 'check'}, **added_fields(spec['add']))
    dd = {'service': spec['service'], 'source': spec['source'], 'tags': spec['tags']}

    def compare(what, got, exp, n, ignore=()):
        g = {k: v for k, v in got.items() if k not in ignore}
        x = {k: v for k, v in exp.items() if k not in ignore}
        if g != x:
            diff = sorted(set(g) ^ set(x)) + [k for k in x if k in g and g[k] != x[k]]
            problems.append(f'{what} record {n}: differs in {diff[:6]}: got '
                            f'{ {k: g.get(k) for k in diff[:3]} } want { {k: x.get(k) for k in diff[:3]} }')

    def each_once(what, got, shipped, health_check):
        """Every kept record once, as Fluent Bit ships it; the dropped ones and nothing else."""
        seen, health = set(), 0
        for r in got:
            if 'n' not in r:
                if r.get('health') == 'check':
                    health += 1
                    health_check(r)
                else:
                    problems.append(f'{what}: unexpected record {str(r)[:120]}')
                continue
            n = r['n']
            if n in seen:
                problems.append(f'{what}: record {n} twice')
            seen.add(n)
            if n not in want:
                problems.append(f'{what}: record {n} should have been dropped ({str(r)[:80]})')
                continue
            compare(what, r, shipped(*want[n]), n)
        if seen != set(want):
            problems.append(f'{what}: {len(seen & set(want))} of {len(want)} records arrived'
                            f' (missing e.g. {sorted(set(want) - seen)[:5]})')
        if health != (1 if spec['hc'] == 'yes' and run['health'] == '1' else 0):
            problems.append(f'{what}: the health-check record arrived {health} times')

    def invalid(what, before, after):
        if after['invalid_requests'] != before['invalid_requests']:
            problems.append(f"{what}: {after['invalid_requests'] - before['invalid_requests']} "
                            f"invalid requests: {after['invalid_reasons'][-3:]}")

    if spec['dd_key'] != '-':
        entries, before, after = received(run, 'dd')
        invalid('datadog', before, after)

        def dd_health(e):  # its time is when the tcp input read it
            if abs(e.get('timestamp', 0) / 1000 - time.time()) > 300:
                problems.append(f'datadog: health record time {e.get("timestamp")}')
            compare('datadog health', e, datadog_entry(hc_fields, 0, dd), 'hc', ignore=('timestamp',))
        each_once('datadog', entries, lambda r, ns: datadog_entry(r, ns, dd), dd_health)
        checked.append(f'datadog {len(entries)} entries')

    if spec['fh'].startswith('cw:'):
        events, before, after = received(run, 'fh')
        invalid('cloudwatch', before, after)
        # The message is the record as JSON, its time in ms (truncated), as out_cloudwatch_logs.
        records = [json.loads(e['message']) for e in events]
        for e, r in zip(events, records):
            if r.get('n') in want and e['timestamp'] != want[r['n']][1] // 1_000_000:
                problems.append(f"cloudwatch: record {r['n']} at {e['timestamp']} ms")
        each_once('cloudwatch', records, lambda r, ns: r,
                  lambda r: compare('cloudwatch health', r, hc_fields, 'hc'))
        calls = after['valid_requests'] - before['valid_requests']
        checked.append(f'cloudwatch {len(records)} events in {calls} calls')
    elif spec['fh'] != '-':
        lines, before, after = received(run, 'fh')
        invalid('firehose', before, after)
        # The maxima cover every row so far: one row over the limits fails it (and the rest).
        if after['max_records_seen'] > 500:
            problems.append(f"firehose: {after['max_records_seen']} records in one PutRecordBatch")
        records = after['firehose_records'] - before['firehose_records']
        if after['max_lines_per_record'] != 1 or records != len(lines):
            problems.append(f"firehose: records hold up to {after['max_lines_per_record']} lines "
                            f"({records} records, {len(lines)} lines): not one JSON line each")
        each_once('firehose', lines, lambda r, ns: r,
                  lambda r: compare('firehose health', r, hc_fields, 'hc'))
        calls = after['valid_requests'] - before['valid_requests']
        checked.append(f'firehose {len(lines)} records in {calls} PutRecordBatch')
    sent = sum(int(s.split(':')[1]) for s in run['sent'])
    return problems, f"{len(want)} of {sent} records kept; " + ', '.join(checked)


def check(a):
    failed = 0
    for row in map(parse_row, open(a.table, encoding='utf-8')):
        path = os.path.join(a.work, row['name'] + '.run')
        if not os.path.exists(path):
            continue  # not run (FIRELENS_ONLY)
        run = read_run(path)
        problems, summary = check_row(row, run, a.time_base, a.nsec_offset)
        gaps = f"; known gap: {row['gaps']}" if row['gaps'] else ''
        print(f"  {row['name']:<40} {'FAIL' if problems else 'ok  '} {summary} ({run['ms']} ms){gaps}")
        for p in problems[:8]:
            print('      ' + p)
        failed += bool(problems)
    sys.exit(1 if failed else 0)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest='cmd', required=True)
    s = sub.add_parser('stage')
    for k in ('table', 'corpus', 'work'):
        s.add_argument(k)
    s.add_argument('time_base', type=int)
    s.add_argument('--ports', required=True, help='a file of free ports, three for each row')
    s.add_argument('--dd', action='append', default=[], help='KEY=PORT of a datadog intake')
    s.add_argument('--fh', action='append', default=[], help='STREAM@REGION=PORT of a firehose server')
    c = sub.add_parser('check')
    c.add_argument('table')
    c.add_argument('work')
    c.add_argument('time_base', type=int)
    c.add_argument('nsec_offset', type=int)
    a = p.parse_args()
    {'stage': stage, 'check': check}[a.cmd](a)


if __name__ == '__main__':
    main()
