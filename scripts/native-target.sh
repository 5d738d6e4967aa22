# Sourced by scripts/install, scripts/test and the benchmarks: the target morph is built for.
#
# On Linux that is the static musl build: no dynamic loader, no glibc start-up (which probes the
# CPU with ~100 `cpuid` instructions, each a trap to the hypervisor on a VM: about 1 ms of every
# command here), and one binary that runs on any distribution. Elsewhere, the host's own target.

sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Prints the target triple to pass to cargo's --target, installing what it needs (the rustup
# target, and musl-gcc for the C parts: ring, SQLite, mimalloc); prints nothing for the host's
# target, and says why on stderr when the musl build cannot be set up here.
native_target() {
  local target
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64 | Linux-aarch64) target="$(uname -m)-unknown-linux-musl" ;;
    *) return 0 ;;
  esac
  if ! command -v rustup >/dev/null 2>&1; then
    echo "note: no rustup here to add $target; building for the host's target" >&2
    return 0
  fi
  if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
    rustup target add "$target" >&2
  fi
  if ! command -v musl-gcc >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
      sudo_if_needed apt-get update -qq >&2
      sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq musl-tools >&2
    fi
  fi
  if ! command -v musl-gcc >/dev/null 2>&1; then
    echo "note: musl-gcc is missing (Debian/Ubuntu: apt-get install musl-tools); building for the host's target" >&2
    return 0
  fi
  echo "$target"
}
