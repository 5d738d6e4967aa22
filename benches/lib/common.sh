# What the bench scripts share. Sourced after `cd` to the project root.

source scripts/native-target.sh

# Builds the release morph for the target scripts/install installs (on Linux the static musl
# build) and prints its path.
release_morph() {
  local target
  target="$(native_target)"
  cargo build --quiet --release -p morph ${target:+--target "$target"}
  echo "$PWD/target${target:+/$target}/release/morph"
}

# MORPH: the morph to measure — $MORPH when set, else the release build (built here).
use_release_morph() {
  if [ -z "${MORPH:-}" ]; then
    MORPH="$(release_morph)"
  fi
}

# A free TCP port on loopback.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# The `morph new --world extension` counter, built in release under $1 (a fresh directory that
# is also MORPH_HOME's parent); sets MORPH to the release morph and EXT to the component.
counter_extension() {
  local work="$1"
  rm -rf "$work" && mkdir -p "$work"
  export MORPH_HOME="$work/home"
  use_release_morph
  (cd "$work" && "$MORPH" -q new counter --world extension >/dev/null && cd counter && "$MORPH" -q build --release >/dev/null)
  EXT="$work/counter/target/morph/counter.wasm"
}
