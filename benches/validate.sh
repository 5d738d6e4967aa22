#!/usr/bin/env bash
# Times `morph validate` against `wasm-tools component targets` on the same large component:
# a componentize-py hello-world (~18 MB), checked against hayride-cli. Prints each tool's median
# wall time over N runs and the ratio. Needs componentize-py; wasm-tools is compared when installed.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-10}"
work="target/bench"
mkdir -p "$work"

cargo build --quiet --release -p morph-e2e --bin write-wit
source benches/lib/common.sh
morph="$(release_morph)"

if [ ! -f "$work/hello-py.wasm" ]; then
  rm -rf "$work/wit"
  target/release/write-wit hayride-cli "$work/wit" >/dev/null
  (cd tests/guests/python-hello && componentize-py -d "$OLDPWD/$work/wit" -w hayride:runtime/hayride-cli@0.0.1 \
     componentize app -o "$OLDPWD/$work/hello-py.wasm" >/dev/null)
fi
[ -d "$work/wit" ] || target/release/write-wit hayride-cli "$work/wit" >/dev/null
input="$work/hello-py.wasm"
echo "input: $input ($(stat -c %s "$input") bytes), world hayride-cli, $RUNS runs each"

# Each round runs every tool once, in turn, so a load that drifts over the minute touches all of
# them alike. "First time" uses a new MORPH_HOME each run, so the code is validated every time;
# "validated before" reuses one, as when a CI pipeline checks the same artifact again.
export MORPH_HOME="$work/home"
"$morph" -q validate "$input" --world hayride-cli
python3 - "$RUNS" "$morph" "$input" "$work/wit" <<'PY'
import os, shutil, subprocess, sys, tempfile, time, statistics
runs, morph, inp, wit = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
tools = {
    "morph validate, first time": lambda: ([morph, "-q", "validate", inp, "--world", "hayride-cli"],
                                           dict(os.environ, MORPH_HOME=tempfile.mkdtemp())),
    "morph validate, validated before": lambda: ([morph, "-q", "validate", inp, "--world", "hayride-cli"], None),
}
if shutil.which("wasm-tools"):
    tools["wasm-tools component targets"] = lambda: (
        ["wasm-tools", "component", "targets", wit, inp, "--world", "hayride:runtime/hayride-cli@0.0.1"], None)
times = {name: [] for name in tools}
for _ in range(runs):
    for name, make in tools.items():
        cmd, env = make()
        t = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times[name].append(time.perf_counter() - t)
med = {name: statistics.median(ts) for name, ts in times.items()}
for name, m in med.items():
    print(f"{name + ':':34} {m * 1000:6.1f} ms (median of {runs})")
w = med.get("wasm-tools component targets")
if w is None:
    print("wasm-tools not installed (cargo install wasm-tools); no ratio")
else:
    first, again = med["morph validate, first time"], med["morph validate, validated before"]
    print(f"ratio wasm-tools/morph: first time {w / first:.2f}x, validated before {w / again:.2f}x"
          " (above 1 means morph is faster)")
PY
