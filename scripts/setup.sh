#!/usr/bin/env bash
# Installs what bucketlog needs on a fresh Debian machine: the system Z3
# library the `z3` crate links against, a C toolchain and pkg-config, and a
# Rust toolchain when none is on the PATH. Safe to run again.
set -euo pipefail
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
need=()
dpkg -s libz3-dev >/dev/null 2>&1 || need+=(libz3-dev)
command -v cc >/dev/null 2>&1 || need+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v cargo >/dev/null 2>&1 || need+=(cargo rustc)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
