#!/usr/bin/env bash
# Installs the Debian packages the project needs (only those missing), then
# configures and builds it in Release mode into build/ (or $MGA_BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

# libgoogle-perftools-dev: gperftools' headers (the tcmalloc policy);
# libtcmalloc-minimal4: libtcmalloc_minimal.so.4 (the tcmalloc policy, --malloc=tcmalloc);
# libtbbmalloc2: libtbbmalloc.so.2 (the tbbmalloc policy) and libtbbmalloc_proxy.so.2
# (--malloc=tbbmalloc); libclang-rt-14-dev: libFuzzer (scripts/fuzz.sh) and
# scudo's libclang_rt.scudo_standalone-x86_64.so (--malloc=scudo).
packages=(cmake g++ make curl libbenchmark-dev libgtest-dev libcli11-dev libmimalloc-dev
  libjemalloc-dev libgoogle-perftools-dev libtcmalloc-minimal4 libtbbmalloc2 python3-matplotlib
  clang libclang-rt-14-dev valgrind)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

build_dir=${MGA_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
