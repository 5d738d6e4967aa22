#!/usr/bin/env bash
# A function entry under `morph up` against the same export called by one `morph call` process
# per request: the Rust reactor template's `greet`, built here. wrk posts `["you"]` to
# /call/greet (8 connections) for requests/s and p99; `morph call` is timed over RUNS processes
# (the compiled code cached, as the app's is) and its rate is 1 / the median. Prints the ratio.
# Needs wrk (apt-get install wrk) and the wasm32-wasip2 Rust target.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-20}"
SECS="${SECS:-10}"
root="$PWD"
work="$root/target/bench/up"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk"; exit 1; }
source benches/lib/common.sh
use_release_morph
export MORPH_HOME="$work/home"
rm -rf "$work"; mkdir -p "$work"
(cd "$work" && "$MORPH" -q new greeter --world reactor >/dev/null && cd greeter && "$MORPH" -q build --release >/dev/null)
cat > "$work/morph.toml" <<EOF
[[entry]]
name = "greet"
kind = "function"
source = "greeter/target/morph/greeter.wasm"
export = "greet"
EOF
port=$(free_port)
(cd "$work" && "$MORPH" -q up --addr "127.0.0.1:$port" >/dev/null 2>&1) &
app=$!
trap 'kill $app 2>/dev/null || true' EXIT
until curl -s -o /dev/null "http://127.0.0.1:$port/healthz"; do sleep 0.1; done
cat > "$work/post.lua" <<'EOF'
wrk.method = "POST"
wrk.body = '["you"]'
EOF
curl -s -X POST -d '["you"]' "http://127.0.0.1:$port/call/greet" | grep -q 'Hello, you!' || { echo "the app did not answer"; exit 1; }
out=$(wrk -t2 -c8 -d"${SECS}s" --latency -s "$work/post.lua" "http://127.0.0.1:$port/call/greet")
rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
call=$(python3 - "$RUNS" "$MORPH" "$work/greeter/target/morph/greeter.wasm" <<'PY'
import subprocess, sys, time, statistics
runs, morph, wasm = int(sys.argv[1]), sys.argv[2], sys.argv[3]
cmd = [morph, "-q", "call", wasm, "greet", '"you"']
subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
times = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    times.append(time.perf_counter() - t)
print(statistics.median(times))
PY
)
python3 - "$rps" "$p99" "$call" <<'PY'
import sys
rps, p99, call = float(sys.argv[1]), sys.argv[2], float(sys.argv[3])
print(f"morph up, POST /call/greet: {rps:.0f} requests/s, p99 {p99}")
print(f"one morph call per request: {1 / call:.0f} requests/s (median {call * 1000:.1f} ms a process)")
print(f"ratio: {rps * call:.0f}x")
PY
