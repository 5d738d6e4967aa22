#!/usr/bin/env bash
# Inference speed: `morph model generate` against llama.cpp (PyPI's llama-cpp-python, built here
# from source, installed under target/tools) on the same GGUF: a llama-architecture model of a
# ~0.5B model's shape in Q8_0 with random weights (written by the test harness; no download).
# Both decode greedily from the same prompt; prints load time, prompt and generation tokens/s,
# and the ratio of generation speeds. MAX_TOKENS (default 64) tokens per run, RUNS runs.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-3}"
MAX_TOKENS="${MAX_TOKENS:-64}"
work="$PWD/target/bench/ai"
mkdir -p "$work"
cargo build --quiet --release -p morph-e2e --bin gen-gguf
source benches/lib/common.sh
morph="$(release_morph)"
model="$work/bench-llama-q8_0.gguf"
[ -f "$model" ] || target/release/gen-gguf "$model" bench
echo "model: $(stat -c %s "$model") bytes"
prompt="The quick brown fox jumps over the lazy dog. Once upon a time"

python3 - "$RUNS" "$morph" "$model" "$prompt" "$MAX_TOKENS" <<'PY'
import json, statistics, subprocess, sys
runs, morph, model, prompt, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
tps, loads = [], []
for _ in range(runs):
    out = subprocess.run([morph, "--json", "model", "generate", model, "--prompt", prompt, "--max-tokens", n],
                         check=True, capture_output=True, text=True).stdout
    j = json.loads(out)
    tps.append(j["tokens_per_second"]); loads.append(j["load_seconds"])
print(f"morph: load {statistics.median(loads):.2f}s, generation {statistics.median(tps):.1f} tokens/s ({j['stats']['generated_tokens']} tokens)")
open(sys.argv[3] + ".morph-tps", "w").write(str(statistics.median(tps)))
PY

venv="$PWD/target/tools/llama-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import llama_cpp' 2>/dev/null; then
  echo "building llama-cpp-python from source (once, ~15 min on 2 cores)…"
  python3 -m venv "$venv"
  # The machine's AVX2/AVX-512 kernels, but not AMX: these VMs advertise AMX_INT8 without the
  # kernel granting the tiles, and llama.cpp's AMX matmul (which -march=native would pick) dies
  # with SIGSEGV on the first evaluation.
  cpu=" $(grep -m1 '^flags' /proc/cpuinfo) "
  flags="-DGGML_NATIVE=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
  for f in avx:AVX avx2:AVX2 fma:FMA f16c:F16C avx512f:AVX512 avx512_vbmi:AVX512_VBMI avx512_vnni:AVX512_VNNI avx512_bf16:AVX512_BF16; do
    if [[ "$cpu" == *" ${f%%:*} "* ]]; then flags+=" -DGGML_${f##*:}=ON"; fi
  done
  CMAKE_ARGS="$flags" \
    "$venv/bin/pip" install --quiet --no-cache-dir llama-cpp-python
fi
"$venv/bin/python" - "$RUNS" "$model" "$prompt" "$MAX_TOKENS" <<'PY'
import os, statistics, sys, time
from llama_cpp import Llama
runs, model, prompt, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
t = time.perf_counter(); llm = Llama(model_path=model, n_ctx=512, verbose=False, n_threads=os.cpu_count()); load = time.perf_counter() - t
tokens = llm.tokenize(prompt.encode())
tps = []
for _ in range(runs):
    llm.reset()
    llm.eval(tokens)  # the prompt, timed apart from generation as morph times it
    t = time.perf_counter(); made = 0
    for _tok in llm.generate([], temp=0.0, reset=False):
        made += 1
        if made >= n:
            break
    tps.append(made / (time.perf_counter() - t))
m = float(open(model + ".morph-tps").read())
print(f"llama.cpp: load {load:.2f}s, generation {statistics.median(tps):.1f} tokens/s")
print(f"ratio morph/llama.cpp generation speed: {m / statistics.median(tps):.2f}x (goal: at least 0.67x)")
PY

# Model load of a ~1.2 GB GGUF (page cache warm for both): the goal is under 1 s per GB.
big="$work/load-1g.gguf"
[ -f "$big" ] || target/release/gen-gguf "$big" 1g
gb=$(python3 -c "import os,sys; print(os.path.getsize(sys.argv[1]) / 1e9)" "$big")
morph_load=$(for _ in $(seq "$RUNS"); do "$morph" --json model generate "$big" --prompt hi --max-tokens 1 \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["load_seconds"])'; done | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
llama_load=$("$venv/bin/python" - "$big" <<'PY'
import sys, time
from llama_cpp import Llama
t = time.perf_counter(); Llama(model_path=sys.argv[1], n_ctx=256, verbose=False); print(f"{time.perf_counter() - t:.3f}")
PY
)
python3 - "$gb" "$morph_load" "$llama_load" <<'PY'
import sys
gb, m, l = map(float, sys.argv[1:])
print(f"load {gb:.2f} GB: morph {m:.2f}s ({m / gb:.2f} s/GB, goal < 1), llama.cpp {l:.3f}s (mmap, no copy)")
PY
