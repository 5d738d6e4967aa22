#!/usr/bin/env bash
# Morphir extension throughput: the `morph new --world extension` counter, N messages through
# one `morph ext session` (one instance, the model kept by the host) against one process per
# message, which is what a host without sessions does: `morph ext run` with a single --msg, and
# `wasmtime run --invoke` of `update` when wasmtime is installed (it needs the runtime import,
# which wasmtime does not provide, so it is reported rather than timed when it cannot link).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-2000}"
PER_PROCESS="${PER_PROCESS:-50}"
work="$PWD/target/bench/ext"
. benches/lib/common.sh
counter_extension "$work"
morph="$MORPH"
ext="$EXT"

python3 - "$morph" "$ext" "$N" "$PER_PROCESS" <<'PY'
import subprocess, sys, time
morph, ext, n, per = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
msgs = "".join('"Increment"\n' for _ in range(n))
t = time.perf_counter()
out = subprocess.run([morph, "ext", "session", ext], input=msgs.encode(), capture_output=True, check=True)
session = time.perf_counter() - t
lines = out.stdout.decode().splitlines()
assert len(lines) == n + 1 and f'"count":{n}' in lines[-1], lines[-1]
t = time.perf_counter()
for _ in range(per):
    subprocess.run([morph, "ext", "run", ext, "--msg", '"Increment"'], capture_output=True, check=True)
each = (time.perf_counter() - t) / per
print(f"morph ext session: {n} messages in {session:.3f} s = {n / session:,.0f} messages/s ({session / n * 1e6:.0f} µs each)")
print(f"one morph process per message: {each * 1e3:.1f} ms each = {1 / each:,.0f} messages/s")
print(f"ratio (session over process per message): {each / (session / n):.0f}x")
PY
if command -v wasmtime >/dev/null 2>&1; then
  echo "wasmtime: $(wasmtime --version); it does not provide morphir:ext/runtime, so it cannot run the extension"
else
  echo "wasmtime is not installed; no peer to time"
fi
