#!/usr/bin/env bash
# Times `morph push` and `morph pull` of the ~18 MB componentize-py hello-world against a local
# docker-registry, and `wkg oci push/pull` on the same input when wkg is installed; prints the
# medians and ratios, and checks that pulling a cached morph downloads no blob.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-5}"
work="$PWD/target/bench/oci"
rm -rf "$work"; mkdir -p "$work"
source benches/lib/common.sh
morph="$(release_morph)"
cargo test --quiet -p morph-e2e --test real_guests componentize_py >/dev/null
py="$PWD/target/guests/python-hello.wasm"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/config.yml" <<YML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/data
http:
  addr: 127.0.0.1:$port
YML
docker-registry serve "$work/config.yml" >/dev/null 2>&1 &
reg=$!
trap 'kill $reg 2>/dev/null' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done

median() { # label command... ; each run gets a fresh MORPH_HOME and repository tag
  python3 - "$RUNS" "$@" <<'PY'
import os, subprocess, sys, time, statistics, tempfile
runs = int(sys.argv[1]); cmd = sys.argv[2:]
times = []
for i in range(runs):
    env = dict(os.environ, MORPH_HOME=tempfile.mkdtemp())
    c = [a.replace("{i}", str(i)) for a in cmd]
    t = time.perf_counter()
    subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
    times.append(time.perf_counter() - t)
print(f"{statistics.median(times):.3f}")
PY
}
ratio() { python3 -c "print(f'{$1/$2:.2f}x')"; }
ref="127.0.0.1:$port/bench/py"

m_push=$(median "$morph" push "$py" "$ref:m{i}" --insecure)
m_pull=$(median "$morph" pull "$ref:m0" --insecure -o "$work/pulled.wasm")
echo "input: $(stat -c %s "$py") bytes, $RUNS runs, new repository tag and empty cache each run"
echo "morph push: ${m_push}s  morph pull: ${m_pull}s"
export MORPH_HOME="$work/home"
"$morph" pull "$ref:m0" --insecure >/dev/null
again=$("$morph" --json pull "$ref:m0" --insecure | python3 -c 'import json,sys; print(json.load(sys.stdin)["downloaded"])')
echo "pull of a cached morph downloaded a blob: $again"
if command -v wkg >/dev/null 2>&1; then
  w_push=$(median wkg oci push --insecure "127.0.0.1:$port" "$ref:w{i}" "$py")
  w_pull=$(median wkg oci pull --insecure "127.0.0.1:$port" "$ref:w0" -o "$work/wkg.wasm")
  echo "wkg push: ${w_push}s  wkg pull: ${w_pull}s"
  echo "ratio wkg/morph (above 1: morph faster): push $(ratio "$w_push" "$m_push"), pull $(ratio "$w_pull" "$m_pull")"
else
  echo "wkg not installed (cargo install wkg); no ratio"
fi
