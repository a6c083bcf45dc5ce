#!/usr/bin/env python3
"""Reads back the objects s3rver stored for one bucket (its filesystem store) and checks them
against the input: every input line is the `log` field of exactly one object line, every line
is JSON with a `date`, every key matches the expected pattern. Prints a one-line summary.

usage: s3_check.py BUCKET_DIR INPUT KEY_REGEX [--prefix P] [--max-object-bytes N]
"""
import collections, gzip, json, os, re, subprocess, sys

bucket_dir, input_path, key_regex = sys.argv[1:4]
opts = dict(zip(sys.argv[4::2], sys.argv[5::2]))
prefix = opts.get('--prefix', '')
max_object = int(opts.get('--max-object-bytes', '0'))
SUFFIX = '._S3rver_object'

objects = []
for root, _, files in os.walk(bucket_dir):
    for f in files:
        if f.endswith(SUFFIX):
            path = os.path.join(root, f)
            key = os.path.relpath(path, bucket_dir)[:-len(SUFFIX)]
            if key.startswith(prefix):
                objects.append((key, path))
assert objects, f'no objects under {prefix!r} in {bucket_dir}'

pattern = re.compile(key_regex)
got = collections.Counter()
largest = 0
for key, path in sorted(objects):
    assert pattern.fullmatch(key), f'key {key!r} does not match {key_regex!r}'
    data = open(path, 'rb').read()
    largest = max(largest, len(data))
    if max_object:
        assert len(data) <= max_object, f'{key}: {len(data)} bytes > {max_object}'
    if key.endswith('.gz'):
        text = gzip.decompress(data)
    elif key.endswith('.zst'):
        text = subprocess.run(['zstd', '-dcq'], input=data, stdout=subprocess.PIPE, check=True).stdout
    else:
        text = data
    lines = text.decode('utf-8').split('\n')
    assert lines[-1] == '', f'{key}: does not end with a newline'
    for line in lines[:-1]:
        rec = json.loads(line)
        assert 'date' in rec and rec['date'].endswith('Z'), f'{key}: no date in {line[:80]!r}'
        got[rec['log']] += 1

want = open(input_path, encoding='utf-8').read().split('\n')[:-1]
want_c = collections.Counter(want)
missing = [l for l in want_c if got[l] < want_c[l]]
dups = sum(c - want_c[l] for l, c in got.items() if c > want_c[l])
extra = [l for l in got if l not in want_c]
assert not missing, f'{len(missing)} records missing, e.g. {missing[0][:60]!r}'
assert not extra, f'{len(extra)} unexpected records, e.g. {extra[0][:60]!r}'
assert dups == 0, f'{dups} duplicates'
print(json.dumps({'objects': len(objects), 'records': sum(got.values()), 'duplicates': dups,
                  'largest_object_bytes': largest,
                  'keys': [k for k, _ in sorted(objects)][:3]}))
