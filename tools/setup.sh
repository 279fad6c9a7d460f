#!/usr/bin/env bash
# Installs lmgen's build dependencies (Debian packages) if any is missing, then builds lmgen in build/.
#   tools/setup.sh            # Release build in build/
#   BUILD_DIR=out tools/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(g++ cmake ninja-build pkg-config libeigen3-dev nlohmann-json3-dev libcli11-dev libgtest-dev libpcre2-dev libutf8proc-dev libedit-dev libcpp-httplib-dev)
tools/apt_install.sh "${PACKAGES[@]}"

BUILD_DIR="${BUILD_DIR:-build}"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release ${CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
