#!/usr/bin/env python3
"""Reads and damages ferry's disk buffer segments for the storage_* e2e tests.

Entry layout (lib/include/ferry/storage/segment_store.h): a 28-byte header
  u32 magic | u32 body_length | u64 seq | u32 record_count | u32 crc32c(body) | u32 crc32c(header)
then the body: u64 seq | u32 records | u32 input | u16 tag_length | u8 format | u8 0 | tag |
records x (i64 timestamp, u32 offset, u32 length) | record bytes.

  storage_segments.py tail DIR          flip a byte in the middle of the last entry of the last
                                        segment and cut its last 7 bytes
  storage_segments.py middle DIR        flip 16 bytes in the middle of the body of the entry in
                                        the middle of the first segment
  storage_segments.py before-last DIR   the same, to the last entry but one of the last segment,
                                        in place (the file a running ferry appends to stays the same)
Each prints JSON: {"total": records in every entry, "entries": entries in the damaged segment,
"lost": the record texts of the damaged entry (line records, as stdin reads them)}.
"""
import json
import os
import struct
import sys

MAGIC = 0x595246F3
HEADER = 28


def entries(data):
    """(offset, size, records) of each entry of a segment's bytes, checking the magic."""
    out, off = [], 0
    while off < len(data):
        magic, length, _seq, count = struct.unpack_from('<IIQI', data, off)
        assert magic == MAGIC, f'no entry at byte {off}'
        out.append((off, HEADER + length, count))
        off += HEADER + length
    return out


def texts(data, entry):
    """The line records an entry holds."""
    off, _size, count = entry
    body = off + HEADER
    tag_length = struct.unpack_from('<H', data, body + 16)[0]
    index = body + 20 + tag_length
    payload = index + 16 * count
    out = []
    for i in range(count):
        _ts, at, length = struct.unpack_from('<qII', data, index + 16 * i)
        out.append(data[payload + at:payload + at + length].decode())
    return out


def main():
    what, d = sys.argv[1], sys.argv[2]
    segs = [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith('.seg')]
    total = sum(e[2] for p in segs for e in entries(open(p, 'rb').read()))
    path = segs[0] if what == 'middle' else segs[-1]
    data = bytearray(open(path, 'rb').read())
    es = entries(data)
    if what == 'tail':
        victim = es[-1]
        lost = texts(data, victim)
        data[victim[0] + victim[1] // 2] ^= 0xFF
        del data[-7:]
        open(path, 'wb').write(data)
    else:
        assert len(es) >= 3, f'only {len(es)} entries in {path}'
        victim = es[len(es) // 2] if what == 'middle' else es[-2]
        lost = texts(data, victim)
        at = victim[0] + HEADER + (victim[1] - HEADER) // 2
        with open(path, 'r+b') as f:  # in place: same file, same inode
            f.seek(at)
            f.write(bytes(b ^ 0xA5 for b in data[at:at + 16]))
    print(json.dumps({'total': total, 'entries': len(es), 'lost': lost}))


if __name__ == '__main__':
    main()
