#!/usr/bin/env bash
# Configures, builds and runs the whole test suite in build dir $1 (default build).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
# shellcheck disable=SC2086
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${LM_CMAKE_ARGS:-} >/dev/null
cmake --build "$dir" -j "$(nproc)"
cd "$dir"
ctest --output-on-failure --timeout 900
