# What the bench scripts share. Sourced after `cd` to the project root.

# MORPH: the morph to measure — $MORPH when set, else the release build (built here).
use_release_morph() {
  if [ -z "${MORPH:-}" ]; then
    cargo build --quiet --release -p morph
    MORPH="$PWD/target/release/morph"
  fi
}

# A free TCP port on loopback.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
