#!/usr/bin/env bash
# Installs what bucketlog needs on a fresh Debian machine: the system Z3
# library the `z3` crate links against, a C toolchain and pkg-config, and a
# Rust toolchain when none is on the PATH. With --test, also the programs
# the tests hand bucketlog's output to: Graphviz, Debian's Python with
# NetworkX, Chromium, Mermaid (npm, into tests/consumers), and the AWS CLI
# with the moto API server (PyPI, a virtual environment in
# tests/consumers/venv) that `collect` is tested against. Safe to run again.
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
command -v cargo >/dev/null 2>&1 || need+=(cargo rustc)
if $test; then
  command -v dot >/dev/null 2>&1 || need+=(graphviz)
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  /usr/bin/python3 -c "import networkx" >/dev/null 2>&1 || need+=(python3-networkx)
  command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
fi
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
if $test && [ ! -f tests/consumers/node_modules/mermaid/dist/mermaid.min.js ]; then
  npm ci --prefix tests/consumers --no-audit --no-fund --loglevel=error
fi
if $test && [ ! -x tests/consumers/venv/bin/moto_server ]; then
  python3 -m venv tests/consumers/venv
  tests/consumers/venv/bin/pip install --quiet --disable-pip-version-check -r tests/consumers/requirements.txt
fi
