#!/usr/bin/env bash
# The templates of every language side by side: `morph new --lang L --world W` built with
# `morph build`, then the size of each component and its warm figure under morph (compiled code
# cached): `morph run` (cli), `morph call greet` (reactor), `morph ext run` with one message
# (extension), medians over RUNS runs; requests/s under wrk for `morph serve` (server).
# Needs the toolchains scripts/test installs (cargo + wasm32-wasip2, componentize-py, jco, go) and
# wrk. MORPH=path uses that morph binary instead of building the release one.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-10}"
SECS="${SECS:-5}"
root="$PWD"
work="$root/target/bench/templates"
export PATH="$root/target/tools/node_modules/.bin:$PATH"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk"; exit 1; }
source benches/lib/common.sh
use_release_morph
export MORPH_HOME="$work/home"
rm -rf "$work"; mkdir -p "$work"

median() { # command... -> median milliseconds over RUNS runs
  python3 - "$RUNS" "$@" <<'PY'
import subprocess, sys, time, statistics
runs = int(sys.argv[1]); cmd = sys.argv[2:]
subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)  # warms the cache
times = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    times.append(time.perf_counter() - t)
print(f"{statistics.median(times) * 1000:.0f} ms")
PY
}

printf '%-10s %-10s %10s  %s\n' language template size "warm figure"
for lang in rust python go js; do
  for world in cli reactor server extension; do
    name="$lang-$world"
    (cd "$work" && "$MORPH" -q new "$name" --lang "$lang" --world "$world" >/dev/null)
    (cd "$work/$name" && "$MORPH" -q build >/dev/null)
    wasm="$work/$name/target/morph/$name.wasm"
    size="$(python3 -c "import os,sys; print(f'{os.path.getsize(sys.argv[1]) / 2**20:.1f} MiB')" "$wasm")"
    case "$world" in
      cli) figure="run $(median "$MORPH" -q run "$wasm")" ;;
      reactor) figure="call $(median "$MORPH" -q call "$wasm" greet '"you"')" ;;
      extension) figure="ext run $(median "$MORPH" -q ext run "$wasm" --msg '"Increment"')" ;;
      server)
        p=$(free_port)
        "$MORPH" -q serve "$wasm" --addr "127.0.0.1:$p" >/dev/null 2>&1 &
        server=$!
        until curl -s -o /dev/null "http://127.0.0.1:$p/"; do sleep 0.1; done
        figure="serve $(wrk -t2 -c8 -d"$SECS" "http://127.0.0.1:$p/" | awk '/Requests\/sec/ {printf "%.0f req/s", $2}')"
        kill "$server"; wait "$server" 2>/dev/null || true
        ;;
    esac
    printf '%-10s %-10s %10s  %s\n' "$lang" "$world" "$size" "$figure"
  done
done
