#!/usr/bin/env bash
# A function entry under `morph up` against the same export called by one `morph call` process
# per request: the Rust reactor template's `greet`, built here. wrk posts `["you"]` to
# /call/greet (8 connections) for requests/s and p99; `morph call` is timed over RUNS processes
# (the compiled code cached, as the app's is) and its rate is 1 / the median. Prints the ratio.
# Then the bridge's cost: tests/guests/rust-app-caller's `relay` calling `add`
# (tests/fixtures/types.wat) through morph:app/funcs, against `relay` asked for an entry that
# does not exist (answered at once, nothing nested), one connection each: the difference of the
# mean latencies is the cost of one nested call.
# Last, the same `greet` served alone by `morph serve`, behind an http face composed in with WAC
# (tests/guests/rust-greet-http: `GET /?you` answers greet("you")): wrk on it as on /call/greet.
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
for guest in rust-app-caller rust-greet-http; do
  cargo build --quiet --release --target wasm32-wasip2 --manifest-path "tests/guests/$guest/Cargo.toml" \
    --target-dir "$root/target/guests"
done
cat > "$work/morph.toml" <<EOF
[[entry]]
name = "greet"
kind = "function"
source = "greeter/target/morph/greeter.wasm"
export = "greet"

[[entry]]
name = "add"
kind = "function"
source = "$root/tests/fixtures/types.wat"
export = "add"

[[entry]]
name = "relay"
kind = "function"
source = "$root/target/guests/wasm32-wasip2/release/rust_app_caller.wasm"
export = "relay"
EOF
port=$(free_port)
(cd "$work" && "$MORPH" -q up --addr "127.0.0.1:$port" >/dev/null 2>&1) &
app=$!
served=""
trap 'kill $app $served 2>/dev/null || true' EXIT
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
# Mean latency (µs) of one connection posting BODY to PATH.
mean_us() {
  printf 'wrk.method = "POST"\nwrk.body = %s\n' "$2" > "$work/one.lua"
  wrk -t1 -c1 -d"${SECS}s" -s "$work/one.lua" "http://127.0.0.1:$port$1" \
    | awk '/Latency/ {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); print v} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v*1000} else {sub(/s$/,"",v); print v*1000000}}'
}
alone=$(mean_us /call/relay "'[\"nobody\", \"[]\"]'")
nested=$(mean_us /call/relay "'[\"add\", \"[1, 2]\"]'")
python3 -c "import sys; a, n = float(sys.argv[1]), float(sys.argv[2]); print(f'relay alone: {a:.0f} µs a call; relay calling add: {n:.0f} µs; one nested call costs {n - a:.0f} µs')" "$alone" "$nested"
cat > "$work/face.wac" <<'EOF'
package bench:face;

let greeter = new local:greeter { ... };
let face = new bench:greet-http { greet: greeter.greet, ... };
export face["wasi:http/incoming-handler@0.2.0"];
EOF
"$MORPH" -q compose "$work/face.wac" -o "$work/face.wasm" \
  --dep "local:greeter=$work/greeter/target/morph/greeter.wasm" \
  --dep "bench:greet-http=$root/target/guests/wasm32-wasip2/release/rust_greet_http.wasm"
sport=$(free_port)
"$MORPH" -q serve "$work/face.wasm" --addr "127.0.0.1:$sport" >/dev/null 2>&1 &
served=$!
until curl -s -o /dev/null "http://127.0.0.1:$sport/"; do sleep 0.1; done
curl -s "http://127.0.0.1:$sport/?you" | grep -q 'Hello, you!' || { echo "the composed server did not answer"; exit 1; }
out=$(wrk -t2 -c8 -d"${SECS}s" --latency "http://127.0.0.1:$sport/?you")
srps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
sp99=$(echo "$out" | awk '$1 == "99%" {print $2}')
python3 - "$rps" "$srps" "$sp99" <<'PY'
import sys
rps, srps, sp99 = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
print(f"morph serve, greet behind a composed http face: {srps:.0f} requests/s, p99 {sp99}")
print(f"ratio (morph up /call/greet : morph serve composed): {rps / srps:.2f}")
PY
