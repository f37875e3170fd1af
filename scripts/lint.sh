#!/usr/bin/env bash
# Checks formatting (clang-format) and runs clang-tidy over the engine's sources.
#   scripts/lint.sh BUILD_DIR     (BUILD_DIR holds compile_commands.json)
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
status=0

mapfile -t files < <(git ls-files 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h' 'fuzz/*.cc')
if ! clang-format --dry-run --Werror "${files[@]}"; then
  echo "lint: formatting differs; run 'make format'" >&2
  status=1
fi

mapfile -t sources < <(git ls-files 'src/*.cc')
if ! printf '%s\n' "${sources[@]}" |
    xargs -P "$(nproc)" -n 4 clang-tidy -p "$build" --quiet 2> >(grep -v 'warnings generated' >&2); then
  echo "lint: clang-tidy found problems" >&2
  status=1
fi
exit $status
