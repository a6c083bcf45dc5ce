#!/usr/bin/env python3
"""Writes the seed corpus of forward_decoder_fuzz: valid frames of every forward mode.

Each file is one byte (the fuzz target's chunk-size seed) followed by forward protocol bytes.
msgpack is encoded here by hand (no dependency); gzip with mtime 0 so the files are stable.
Usage: tests/fuzz/make_forward_corpus.py [tests/fuzz/corpus/forward]
"""
import gzip
import os
import struct
import sys


def pack(v):
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        if 0 <= v <= 0x7F:
            return bytes([v])
        if 0 <= v <= 0xFFFFFFFF:
            return b"\xce" + struct.pack(">I", v)
        if -32 <= v < 0:
            return struct.pack(">b", v)
        return b"\xd3" + struct.pack(">q", v)
    if isinstance(v, float):
        return b"\xcb" + struct.pack(">d", v)
    if isinstance(v, str):
        b = v.encode()
        if len(b) <= 31:
            return bytes([0xA0 | len(b)]) + b
        if len(b) <= 0xFF:
            return b"\xd9" + bytes([len(b)]) + b
        return b"\xda" + struct.pack(">H", len(b)) + b
    if isinstance(v, bytes):
        if len(v) <= 0xFF:
            return b"\xc4" + bytes([len(v)]) + v
        return b"\xc6" + struct.pack(">I", len(v)) + v
    if isinstance(v, Raw):
        return v.data
    if isinstance(v, (list, tuple)):
        head = bytes([0x90 | len(v)]) if len(v) <= 15 else b"\xdc" + struct.pack(">H", len(v))
        return head + b"".join(pack(x) for x in v)
    if isinstance(v, dict):
        head = bytes([0x80 | len(v)]) if len(v) <= 15 else b"\xde" + struct.pack(">H", len(v))
        return head + b"".join(pack(k) + pack(x) for k, x in v.items())
    raise TypeError(type(v))


class Raw:
    def __init__(self, data):
        self.data = data


def event_time(sec, nsec):
    return Raw(b"\xd7\x00" + struct.pack(">II", sec, nsec))


def ext8_time(sec, nsec):
    return Raw(b"\xc7\x08\x00" + struct.pack(">II", sec, nsec))


def record(i):
    return {"log": "GET /api/v1/items/%d 200 %dms" % (i, i % 97), "source": "stdout",
            "container_id": "c%04d" % i, "container_name": "/app"}


def entries(n, timefn=event_time):
    return b"".join(pack([timefn(1700000000 + i, i * 1000), record(i)]) for i in range(n))


def gz(data):
    return gzip.compress(data, mtime=0)


def frames():
    yield "message_int", pack(["app", 1700000000, record(1)])
    yield "message_eventtime_options", pack(
        ["app", event_time(1700000000, 5), record(2), {"chunk": "Y2h1bmsx", "size": 1}])
    yield "message_ext8_time", pack(["app", ext8_time(1700000000, 7), record(3)])
    yield "message_float_time", pack(["app", 1700000000.25, record(4)])
    yield "forward", pack(["fw", [[event_time(1700000000 + i, i), record(i)] for i in range(3)],
                           {"chunk": "fw1", "size": 3}])
    yield "forward_mixed_times", pack(["fw", [[1, record(0)], [2.5, record(1)],
                                              [ext8_time(3, 0), record(2)]]])
    yield "forward_fluentbit_metadata", pack(["fb", [[[event_time(1, 2), {}], record(0)]]])
    yield "packed_bin", pack(["pk", entries(5), {"chunk": "pk1"}])
    packed = entries(3)  # as a str (str16), as old clients send it
    yield "packed_str", b"\x92\xa2pk\xda" + struct.pack(">H", len(packed)) + packed
    yield "compressed", pack(["gz", gz(entries(8)), {"compressed": "gzip", "chunk": "gz1"}])
    yield "compressed_two_members", pack(
        ["gz", gz(entries(2)) + gz(entries(3, ext8_time)), {"compressed": "gzip"}])
    yield "heartbeat_then_message", b"\xc0" + pack(["hb", 1, record(9)])
    yield "several_frames", (pack(["a", 1, record(1)]) + pack(["b", [[2, record(2)]]]) +
                             pack(["c", entries(2)]) +
                             pack(["d", gz(entries(2)), {"compressed": "gzip"}]))
    yield "ping", pack(["PING", "client", "saltsaltsaltsalt", "00" * 64, "", ""])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "forward")
    os.makedirs(out, exist_ok=True)
    for seed, (name, data) in enumerate(frames()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes([seed * 37 % 256]) + data)


if __name__ == "__main__":
    main()
