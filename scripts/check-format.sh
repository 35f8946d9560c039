#!/usr/bin/env bash
# Fails when a tracked C file is not formatted by the repo's .clang-format.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "check-format: clang-format is not installed" >&2; exit 2; }
git ls-files -z '*.c' '*.h' | xargs -0 clang-format --dry-run --Werror
echo "check-format: $(git ls-files '*.c' '*.h' | wc -l) files formatted"
