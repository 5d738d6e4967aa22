#!/usr/bin/env bash
# Times `morph validate` against `wasm-tools component targets` on the same large component:
# a componentize-py hello-world (~18 MB), checked against hayride-cli. Prints each tool's median
# wall time over N runs and the ratio. Needs componentize-py; wasm-tools is compared when installed.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-10}"
work="target/bench"
mkdir -p "$work"

cargo build --quiet --release -p morph
cargo build --quiet --release -p morph-e2e --bin write-wit
morph="$PWD/target/release/morph"

if [ ! -f "$work/hello-py.wasm" ]; then
  rm -rf "$work/wit"
  target/release/write-wit hayride-cli "$work/wit" >/dev/null
  (cd tests/guests/python-hello && componentize-py -d "$OLDPWD/$work/wit" -w hayride:runtime/hayride-cli@0.0.1 \
     componentize app -o "$OLDPWD/$work/hello-py.wasm" >/dev/null)
fi
[ -d "$work/wit" ] || target/release/write-wit hayride-cli "$work/wit" >/dev/null
input="$work/hello-py.wasm"
echo "input: $input ($(stat -c %s "$input") bytes), world hayride-cli, $RUNS runs each"

median() { # command... -> median seconds
  python3 - "$RUNS" "$@" <<'PY'
import subprocess, sys, time, statistics
runs = int(sys.argv[1]); cmd = sys.argv[2:]
times = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times.append(time.perf_counter() - t)
print(f"{statistics.median(times):.4f}")
PY
}

# Cold: a new MORPH_HOME each run, so the code is validated every time. Warm: the bytes were
# validated before (cache/validated), as when a CI pipeline checks the same artifact again.
cold=$(python3 - "$RUNS" "$morph" "$input" <<'PY'
import os, subprocess, sys, tempfile, time, statistics
runs, morph, inp = int(sys.argv[1]), sys.argv[2], sys.argv[3]
times = []
for _ in range(runs):
    env = dict(os.environ, MORPH_HOME=tempfile.mkdtemp())
    t = time.perf_counter()
    subprocess.run([morph, "-q", "validate", inp, "--world", "hayride-cli"], env=env, stdout=subprocess.DEVNULL)
    times.append(time.perf_counter() - t)
print(f"{statistics.median(times):.4f}")
PY
)
export MORPH_HOME="$work/home"
"$morph" -q validate "$input" --world hayride-cli
m=$(median "$morph" -q validate "$input" --world hayride-cli)
echo "morph validate, first time:     ${cold}s"
echo "morph validate, validated before: ${m}s"
if command -v wasm-tools >/dev/null 2>&1; then
  w=$(median wasm-tools component targets "$work/wit" "$input" --world hayride:runtime/hayride-cli@0.0.1)
  echo "wasm-tools component targets:   ${w}s"
  python3 -c "print(f'ratio wasm-tools/morph: first time {$w/$cold:.2f}x, validated before {$w/$m:.2f}x (above 1 means morph is faster)')"
else
  echo "wasm-tools not installed (cargo install wasm-tools); no ratio"
fi
