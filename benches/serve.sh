#!/usr/bin/env bash
# Load-tests `morph serve` and `wasmtime serve` (when installed) with wrk on the same http
# component (tests/guests/rust-http, route `/`; or COMPONENT=path, e.g. a componentize-py http
# hello), same connections and duration, one server at a time. Prints requests/s and p99 latency
# for each and the ratio. Needs wrk (apt-get install wrk).
# PIN=1 puts wrk on CPU 0 and the server on the other CPUs (taskset), so the load generator does
# not take CPU from the server it measures: with a fast guest, wrk needs much of a core itself,
# and sharing cores with it puts its scheduling delays into the server's p99.
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS="${CONNS:-32}"
SECS="${SECS:-10}"
root="$PWD"
client=() server=()
if [ "${PIN:-0}" = 1 ]; then
  last=$(( $(nproc) - 1 ))
  [ "$last" -ge 1 ] || { echo "PIN=1 needs at least 2 CPUs"; exit 1; }
  client=(taskset -c 0) server=(taskset -c "1-$last")
fi
threads=$([ "${PIN:-0}" = 1 ] && echo 1 || echo 2)
export MORPH_HOME="$root/target/bench/home"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk"; exit 1; }

source benches/lib/common.sh
morph="$(release_morph)"
(cd tests/guests/rust-http && cargo build --quiet --release --target wasm32-wasip2 --target-dir "$root/target/guests")
guest="${COMPONENT:-$root/target/guests/wasm32-wasip2/release/rust_http.wasm}"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

measure() { # name command... ; the command must listen on $PORT
  local name=$1; shift
  "${server[@]}" "$@" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 600); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
  "${client[@]}" wrk -t"$threads" -c"$CONNS" -d2s "http://127.0.0.1:$PORT/" >/dev/null   # warm-up
  local out; out=$("${client[@]}" wrk -t"$threads" -c"$CONNS" -d"${SECS}s" --latency "http://127.0.0.1:$PORT/")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  local rps p99; rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out"); p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  echo "$name: $rps requests/s, p99 $p99 ($CONNS connections, ${SECS}s)"
  eval "${name//[^a-z]/_}_rps=$rps"
}

PORT=$(port); measure morph "$morph" -q serve "$guest" --addr "127.0.0.1:$PORT"
if command -v wasmtime >/dev/null; then
  PORT=$(port); measure wasmtime wasmtime serve -C cache=y -S cli --addr "127.0.0.1:$PORT" "$guest"
  python3 -c "print(f'ratio morph/wasmtime: {$morph_rps / $wasmtime_rps:.2f}x requests/s (above 1 means morph is faster)')"
else
  echo "wasmtime not installed; no ratio"
fi
