#!/usr/bin/env bash
# Core-module extension throughput: the `morph new --world extension --core` counter (Rust,
# extism-pdk) beside the component counter of `morph new --world extension`, N messages each
# through one `morph ext session`; and the same core module driven by Extism's own host (its
# Python SDK over libextism, from PyPI) doing the same TEA loop: `update` with the message and
# the last model, the model taken from the answer. Prints messages/s and the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-20000}"
work="$PWD/target/bench/ext_core"
. benches/lib/common.sh
counter_extension "$work"
(cd "$work" && "$MORPH" -q new corectr --world extension --core >/dev/null && cd corectr && "$MORPH" -q build --release >/dev/null)
core="$work/corectr/target/morph/corectr.wasm"
peer="$PWD/target/tools/extism-py"
if [ ! -d "$peer/extism" ]; then
  python3 -m pip install --quiet --disable-pip-version-check --target "$peer" extism==1.1.1 extism-sys==1.41.0
fi
echo "component: $(stat -c %s "$EXT") bytes; core module: $(stat -c %s "$core") bytes"

PYTHONPATH="$peer" python3 - "$MORPH" "$EXT" "$core" "$N" <<'PY'
import json, subprocess, sys, time
morph, component, core, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
msgs = "".join('"Increment"\n' for _ in range(n)).encode()

def session(ext):
    subprocess.run([morph, "ext", "session", ext], input=b"", capture_output=True, check=True)  # cache warm
    t = time.perf_counter()
    out = subprocess.run([morph, "ext", "session", ext], input=msgs, capture_output=True, check=True)
    took = time.perf_counter() - t
    last = out.stdout.decode().splitlines()[-1]
    assert f'"count":{n}' in last, last
    return took

comp = session(component)
cor = session(core)
print(f"morph ext session, component counter: {n / comp:,.0f} messages/s ({comp / n * 1e6:.1f} µs each)")
print(f"morph ext session, core counter:      {n / cor:,.0f} messages/s ({cor / n * 1e6:.1f} µs each)")
print(f"core over component: {comp / cor:.2f}x the rate")

import extism

env = {}
@extism.host_fn(namespace="extism:host/user")
def log(level: str, message: str):
    pass
@extism.host_fn(namespace="extism:host/user")
def get_env_var(name: str) -> str:
    return env.get(name, "")
@extism.host_fn(namespace="extism:host/user")
def set_env_var(name: str, typed: str):
    env[name] = typed

def envelope(seq, kind, content):
    return {"header": {"seqnum": seq, "session_id": "bench", "kind": kind},
            "content_type": "application/json", "content": list(content)}

t = time.perf_counter()
plugin = extism.Plugin(open(core, "rb").read(), wasi=False)
answer = json.loads(plugin.call("init", json.dumps(envelope(0, "flags", b"{}"))))
model = json.loads(bytes(answer["content"]))["model"]
for i in range(1, n + 1):
    msg = envelope(i, "msg", b'"Increment"')
    mod = envelope(i, "model", json.dumps(model, separators=(",", ":")).encode())
    answer = json.loads(plugin.call("update", json.dumps({"msg": msg, "model": mod})))
    model = json.loads(bytes(answer["content"]))["model"]
    plugin.call("subscriptions", json.dumps(mod))
peer = time.perf_counter() - t
assert model["count"] == n, model
print(f"Extism {extism.__name__} SDK (libextism 1.41) host loop, same core module: {n / peer:,.0f} messages/s")
print(f"morph ext session over Extism's host, core module: {peer / cor:.2f}x the rate")
PY
