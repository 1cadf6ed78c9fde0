#!/usr/bin/env bash
# Installs what bucketlog needs on a fresh Debian machine: the system Z3
# library the `z3` crate links against, a C toolchain and pkg-config; it
# checks that Rust is new enough for Cargo.toml's rust-version and, if not,
# says how to get it (Debian's own cargo is too old to build the crate, so
# it is never installed). With --test, also the programs
# the tests hand bucketlog's output to: Graphviz, Debian's Python with
# NetworkX, Chromium, Mermaid (npm, into tests/consumers), and the AWS CLI
# with the moto API server, jsonschema and junitparser (PyPI, a virtual
# environment in tests/consumers/venv) that read `collect`'s and `check`'s
# outputs. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
test=false
if [ "${1:-}" = "--test" ]; then test=true; fi
need=()
dpkg -s libz3-dev >/dev/null 2>&1 || need+=(libz3-dev)
command -v cc >/dev/null 2>&1 || need+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
if $test; then
  command -v dot >/dev/null 2>&1 || need+=(graphviz)
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  /usr/bin/python3 -c "import networkx" >/dev/null 2>&1 || need+=(python3-networkx)
  command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
fi
# Rust first: nothing else is worth installing without it.
want=$(sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' Cargo.toml)
have=$( (rustc --version 2>/dev/null || true) | sed -n 's/^rustc \([0-9.]*\).*/\1/p')
if [ -z "$have" ] || [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n1)" != "$want" ]; then
  echo "setup: bucketlog needs Rust $want or newer (Cargo.toml rust-version); found ${have:-none}." >&2
  echo "setup: install it with rustup (https://rustup.rs):" >&2
  echo "  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y && . \"\$HOME/.cargo/env\"" >&2
  echo "setup: Debian's own cargo and rustc are too old to build it." >&2
  exit 1
fi
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
if $test && [ ! -f tests/consumers/node_modules/mermaid/dist/mermaid.min.js ]; then
  npm ci --prefix tests/consumers --no-audit --no-fund --loglevel=error
fi
if $test && ! cmp -s tests/consumers/requirements.txt tests/consumers/venv/requirements.installed; then
  [ -x tests/consumers/venv/bin/pip ] || python3 -m venv tests/consumers/venv
  tests/consumers/venv/bin/pip install --quiet --disable-pip-version-check -r tests/consumers/requirements.txt
  cp tests/consumers/requirements.txt tests/consumers/venv/requirements.installed
fi
