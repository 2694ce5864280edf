#!/usr/bin/env bash
# Installs what the test suite needs beyond npm packages, from Debian's packages: Chromium for the HTML
# report test, make/g++/python3 for the native addon and the fake NVML library (present on most
# machines), the arm64 cross toolchain and qemu-user for the arm64 prebuild, Prometheus, and wrk (the
# load generator of test/bench/http.mjs, which falls back to a Node client without it).
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v gcc >/dev/null 2>&1 || need+=(gcc)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v make >/dev/null 2>&1 || need+=(make)
command -v python3 >/dev/null 2>&1 || need+=(python3)
# The linux-arm64 prebuild (cross compiler), its load test (qemu-user) and the symbol checks (objdump).
command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 || need+=(g++-aarch64-linux-gnu)
command -v qemu-aarch64-static >/dev/null 2>&1 || need+=(qemu-user-static)
command -v objdump >/dev/null 2>&1 || need+=(binutils)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
if [ ${#need[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  echo "test/setup.sh: installing ${need[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi

# --- fleet (issue 12): a real Prometheus server for test/exporters/prometheus-server.test.ts ---
if ! command -v prometheus >/dev/null 2>&1; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  echo "test/setup.sh: installing prometheus"
  # Update the package lists only when they do not know the package yet.
  apt-cache show prometheus >/dev/null 2>&1 || $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
