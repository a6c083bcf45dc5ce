"""Bounded log writer for the tail end-to-end tests.

Usage: tail_writer.py LOG OUT LINES RATE [--rename-at N] [--copytruncate-at N]

Appends LINES lines "g<gen> s<seq> <payload>" to LOG at about RATE lines/s, opening it in
append mode as a real application does, and writes its progress (lines written) to
LOG.progress. Rotations it performs itself, at the line counts given:

--rename-at N       logrotate's default: LOG is renamed to LOG.1; the writer keeps writing
                    200 lines to the old file (as an app does until it reopens), then
                    reopens LOG (a new file, gen + 1).
--copytruncate-at N logrotate's copytruncate: LOG is copied to LOG.2 and truncated in place.
                    Lines written between the copy and the truncate are lost by logrotate
                    itself, and lines ferry had not read before the truncate are only in
                    the copy (which ferry does not follow): so the writer pauses, waits
                    until OUT holds every line written so far, then copies and truncates,
                    and pauses 0.5 s more before writing again. This makes the test
                    deterministic; it is the rotation mode's limit, not ferry's.
"""
import os, shutil, sys, time

log, out, total, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
rename_at = copytruncate_at = -1
args = sys.argv[5:]
while args:
    flag, value = args[0], int(args[1])
    args = args[2:]
    if flag == "--rename-at":
        rename_at = value
    elif flag == "--copytruncate-at":
        copytruncate_at = value

def count_lines(path):
    try:
        with open(path, "rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    except FileNotFoundError:
        return 0

def progress(n):
    tmp = log + ".progress.tmp"
    with open(tmp, "w") as p:
        p.write(str(n))
    os.replace(tmp, log + ".progress")

gen = 0
f = open(log, "a", buffering=1 << 16)
payload = "abcdefghijklmnopqrstuvwxyz0123456789" * 2
burst = 100
start = time.monotonic()
seq = 0
while seq < total:
    if seq == rename_at:
        f.flush()
        os.rename(log, log + ".1")
        for _ in range(200):  # still writing to the renamed file
            if seq >= total:
                break
            f.write("g%d s%d %s\n" % (gen, seq, payload))
            seq += 1
        f.close()
        gen += 1
        f = open(log, "a", buffering=1 << 16)
        continue
    if seq == copytruncate_at:
        f.flush()
        deadline = time.monotonic() + 30
        while count_lines(out) < seq and time.monotonic() < deadline:
            time.sleep(0.05)
        shutil.copyfile(log, log + ".2")
        os.truncate(log, 0)  # the writer's O_APPEND file offset follows the new end
        time.sleep(0.5)
        copytruncate_at = -1
    end = min(total, seq + burst)
    if rename_at > seq:
        end = min(end, rename_at)
    if copytruncate_at > seq:
        end = min(end, copytruncate_at)
    for i in range(seq, end):
        f.write("g%d s%d %s\n" % (gen, i, payload))
    seq = end
    f.flush()
    progress(seq)
    # Bounded rate: never more than `rate` lines per second on average.
    ahead = seq / rate - (time.monotonic() - start)
    if ahead > 0:
        time.sleep(ahead)
f.close()
progress(seq)
