#!/usr/bin/env bash
# `morph daemon` throughput: the `morph new --world extension` counter, N messages through one
# daemon session from a client on the Unix socket (pipelined, answers read as they come),
# against the same N through the in-process `morph ext session` in the same run; then N
# messages spread over 10 sessions at once (two clients of five sessions). Goal: one daemon
# session within 2x of `ext session`.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-20000}"
work="$PWD/target/bench/daemon"
. benches/lib/common.sh
counter_extension "$work"
morph="$MORPH"
ext="$EXT"
sock="$work/d.sock"
"$morph" -q daemon --socket "$sock" 2>"$work/daemon.log" &
daemon=$!
trap 'kill $daemon 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done

python3 - "$morph" "$ext" "$N" "$sock" <<'PY'
import json, socket, subprocess, sys, threading, time
morph, ext, n, sock = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

msgs = "".join('"Increment"\n' for _ in range(n))
t = time.perf_counter()
out = subprocess.run([morph, "ext", "session", ext], input=msgs.encode(), capture_output=True, check=True)
inproc = time.perf_counter() - t
assert f'"count":{n}' in out.stdout.decode().splitlines()[-1]

def client(sessions, per, ready=None):
    """Opens `sessions`, then sends `per` messages to each, pipelined, and reads the answers.
    The client does as little as it can (requests made before the clock starts, answers
    scanned as bytes, only each session's last answer parsed), so the figure is the daemon's."""
    s = socket.socket(socket.AF_UNIX); s.connect(sock)
    f = s.makefile("rwb")
    for sid in sessions:
        f.write((json.dumps({"jsonrpc": "2.0", "id": f"open-{sid}", "method": "ext.open",
                             "params": {"path": ext, "session-id": sid}}) + "\n").encode())
    f.flush()
    for _ in sessions:
        json.loads(f.readline())
    chunks, batch = [], []
    for k in range(per):
        for sid in sessions:
            batch.append('{"jsonrpc":"2.0","id":%d,"method":"ext.send","params":{"session":"%s","msg":"Increment"}}' % (k, sid))
        if len(batch) >= 512:
            chunks.append(("\n".join(batch) + "\n").encode()); batch = []
    if batch:
        chunks.append(("\n".join(batch) + "\n").encode())
    if ready:
        ready.wait()
    def write():
        for c in chunks:
            f.write(c); f.flush()
    w = threading.Thread(target=write); w.start()
    last = {}
    for _ in range(per * len(sessions)):
        line = f.readline()
        assert b'"result"' in line, line
        at = line.rindex(b'"session":"') + 11
        last[line[at:line.index(b'"', at)]] = line
    w.join()
    counts = {k: json.loads(v)["result"]["model"]["content"]["count"] for k, v in last.items()}
    assert len(counts) == len(sessions) and all(v == per for v in counts.values()), counts
    s.close()

def timed(groups, per):
    go = threading.Barrier(len(groups) + 1)
    ts = [threading.Thread(target=client, args=(g, per, go)) for g in groups]
    [x.start() for x in ts]
    go.wait()
    t = time.perf_counter()
    [x.join() for x in ts]
    return time.perf_counter() - t

one = timed([["one"]], n)
ten = timed([[f"c{c}-{i}" for i in range(5)] for c in range(2)], n // 10)

print(f"morph ext session (in process): {n} messages in {inproc:.3f} s = {n / inproc:,.0f} messages/s")
print(f"morph daemon, one session over the socket: {n} in {one:.3f} s = {n / one:,.0f} messages/s")
print(f"morph daemon, 10 sessions at once (2 clients): {n} in {ten:.3f} s = {n / ten:,.0f} messages/s")
print(f"ratio (one daemon session over ext session): {one / inproc:.2f}x the time (goal <= 2x)")
PY
