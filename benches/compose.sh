#!/usr/bin/env bash
# Times `morph compose` against `wac compose` (when installed) on the same WAC files and the
# same binary packages in deps/: the small shared-provider composition of the tests, and a large
# one that wraps the ~18 MB componentize-py hello-world (forwarding its imports with `...`).
# Both tools validate their output. Tools run in turn, round by round; medians and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-10}"
root="$PWD"
work="$root/target/bench/compose"
rm -rf "$work" && mkdir -p "$work/deps/test"
export MORPH_HOME="$work/home"

source benches/lib/common.sh
morph="$(release_morph)"
if ! command -v wasm-tools >/dev/null 2>&1; then
  echo "wasm-tools is needed to turn the WAT fixtures into binaries (cargo install wasm-tools)"; exit 1
fi
for f in counter consumer sum; do
  wasm-tools parse "tests/fixtures/compose/$f.wat" -o "$work/deps/test/$f.wasm"
done
cp tests/fixtures/compose/shared.wac "$work/shared.wac"
# The large input: the Python hello of benches/validate.sh, built there when missing.
[ -f target/bench/hello-py.wasm ] || RUNS=1 bash benches/validate.sh >/dev/null
cp target/bench/hello-py.wasm "$work/deps/test/app.wasm"
cat > "$work/large.wac" <<'WAC'
package test:bench;
let app = new test:app { ... };
export app["wasi:cli/run@0.2.0"];
WAC

cd "$work"
python3 - "$RUNS" "$morph" <<'PY'
import shutil, subprocess, sys, time, statistics
runs, morph = int(sys.argv[1]), sys.argv[2]
for case in ["shared", "large"]:
    tools = {"morph compose": [morph, "-q", "compose", f"{case}.wac", "--deps-dir", "deps", "-o", f"{case}-morph.wasm"]}
    if shutil.which("wac"):
        tools["wac compose"] = ["wac", "compose", f"{case}.wac", "--deps-dir", "deps", "-o", f"{case}-wac.wasm"]
    times = {name: [] for name in tools}
    for _ in range(runs):
        for name, cmd in tools.items():
            t = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - t)
    med = {name: statistics.median(ts) for name, ts in times.items()}
    for name, m in med.items():
        print(f"{case:7} {name:14} {m * 1000:7.1f} ms (median of {runs})")
    if "wac compose" in med:
        print(f"{case:7} ratio wac/morph: {med['wac compose'] / med['morph compose']:.2f}x (above 1 means morph is faster)")
    else:
        print(f"{case:7} wac not installed (cargo install wac-cli); no ratio")
PY
