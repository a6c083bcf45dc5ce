# Clients that misbehave towards ferry's status server (service.http), for http_server_test.sh.
#
#   slow HOST PORT N LIMIT_S   opens N connections that never finish a request: the even ones
#                              send nothing, the odd ones trickle a request a byte every 0.5 s.
#                              Prints "ready" once all are connected, then waits (at most
#                              LIMIT_S) for the server to close them and prints
#                              "closed K of N, lifetimes min A max B" (seconds).
#   big HOST PORT SIZE         sends a request head of SIZE bytes that never ends and prints
#                              the status line answered (or "none") and how long until EOF.
import select
import socket
import sys
import time


def slow(host, port, n, limit):
    request = b"GET /health HTTP/1.1\r\nHost: ferry\r\nX-Slow: " + b"x" * 64 + b"\r\n\r\n"
    conns = {}
    for i in range(n):
        s = socket.create_connection((host, port), timeout=5)
        s.setblocking(False)
        conns[s] = [time.monotonic(), i % 2 == 1, 0]  # opened, trickles, bytes sent
    print("ready", flush=True)
    lifetimes = []
    end = time.monotonic() + limit
    next_trickle = time.monotonic()
    while conns and time.monotonic() < end:
        readable, _, _ = select.select(list(conns), [], [], 0.05)
        now = time.monotonic()
        for s in readable:
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                lifetimes.append(now - conns.pop(s)[0])
                s.close()
        if now >= next_trickle:
            next_trickle = now + 0.5
            for s, state in conns.items():
                if state[1] and state[2] < len(request):
                    try:
                        state[2] += s.send(request[state[2]:state[2] + 1])
                    except OSError:
                        pass
    if lifetimes:
        print(f"closed {len(lifetimes)} of {n}, lifetimes min {min(lifetimes):.2f} "
              f"max {max(lifetimes):.2f}", flush=True)
    else:
        print(f"closed 0 of {n}", flush=True)


def big(host, port, size):
    s = socket.create_connection((host, port), timeout=5)
    start = time.monotonic()
    head = b"GET /health HTTP/1.1\r\nX-Big: " + b"y" * size
    try:
        s.sendall(head)
    except OSError:
        pass
    answer = b""
    s.settimeout(5)
    try:
        while True:
            data = s.recv(4096)
            if not data:
                break
            answer += data
    except OSError:
        pass
    line = answer.split(b"\r\n", 1)[0].decode("ascii", "replace") or "none"
    print(f"{line} | eof after {time.monotonic() - start:.2f}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "slow":
        slow(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
    else:
        big(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
