#!/usr/bin/env bash
# A `morph serve` started cold (empty cache: baseline code first, the optimized code compiled in
# the same process and switched to when ready): requests/s in each second from the start, under
# wrk, until it reaches the warm throughput (the same server started again on the cached
# optimized code). Prints the second at which it first reaches 90 % of warm (goal: 15 s).
# The component: COMPONENT=path, default the componentize-py http hello (`morph new --lang python
# --world server`, built here). Needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS="${CONNS:-16}"
SECS="${SECS:-30}"
root="$PWD"
work="$root/target/bench/serve-cold"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk"; exit 1; }
source benches/lib/common.sh
morph="$(release_morph)"
if [ -z "${COMPONENT:-}" ]; then
  rm -rf "$work/py-server"; mkdir -p "$work"
  (cd "$work" && MORPH_HOME="$work/build-home" "$morph" -q new py-server --lang python --world server >/dev/null \
    && cd py-server && MORPH_HOME="$work/build-home" "$morph" -q build --no-precompile >/dev/null)
  COMPONENT="$work/py-server/target/morph/py-server.wasm"
fi

# serve HOME PORT: starts the server in the background (its pid in SERVER) and returns once it
# answers, the seconds that took in ANSWERED.
serve() {
  local started; started=$(date +%s.%N)
  MORPH_HOME="$1" "$morph" -q serve "$COMPONENT" --addr "127.0.0.1:$2" >/dev/null 2>&1 &
  SERVER=$!
  until curl -s -o /dev/null "http://127.0.0.1:$2/"; do sleep 0.05; done
  ANSWERED=$(python3 -c "print(f'{$(date +%s.%N) - $started:.2f}')")
}
rps() { wrk -t2 -c"$CONNS" -d"$1" "http://127.0.0.1:$2/" | awk '/Requests\/sec/ {print $2}'; }

home="$work/home"; rm -rf "$home"
PORT=$(free_port)
serve "$home" "$PORT"
answered=$ANSWERED
echo "cold start: first answer after ${answered}s"
series=()
for s in $(seq "$SECS"); do series+=("$(rps 1s "$PORT")"); done
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true

PORT=$(free_port)
serve "$home" "$PORT"
warm=$(rps 5s "$PORT")
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true

python3 - "$warm" "$answered" "${series[@]}" <<'PY'
import sys
warm, answered, series = float(sys.argv[1]), float(sys.argv[2]), [float(x) for x in sys.argv[3:]]
print("requests/s in each second after the first answer:", " ".join(f"{x:.0f}" for x in series))
print(f"warm (cached optimized code): {warm:.0f} requests/s")
reached = next((i + 1 for i, x in enumerate(series) if x >= 0.9 * warm), None)
if reached is None:
    print(f"did not reach 90% of warm within {len(series)} s")
else:
    print(f"reached 90% of warm {reached} s after the first answer ({reached + answered:.1f} s after start; goal 15 s)")
PY
