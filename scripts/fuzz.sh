#!/usr/bin/env bash
# Runs every fuzz target for a bounded time, starting from its seed corpus.
#   scripts/fuzz.sh BUILD_DIR SECONDS
# A crash leaves the input in build-dir/fuzz-artifacts/ and fails the run.
set -euo pipefail
build=$1
seconds=$2
root=$(cd "$(dirname "$0")/.." && pwd)
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
status=0
for target in resp json etf; do
  bin="$build/fuzz/${target}_fuzzer"
  corpus="$build/fuzz-corpus/$target"
  mkdir -p "$corpus"
  dirs=("$corpus")
  [ -d "$root/fuzz/corpus/$target" ] && dirs+=("$root/fuzz/corpus/$target")
  echo "fuzz: ${target}_fuzzer for ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$artifacts/${target}-" -print_final_stats=1 \
      "${dirs[@]}" > "$build/fuzz-$target.log" 2>&1; then
    echo "fuzz: ${target}_fuzzer FAILED; see $build/fuzz-$target.log and $artifacts" >&2
    tail -40 "$build/fuzz-$target.log" >&2
    status=1
  else
    grep -E 'stat::number_of_executed_units' "$build/fuzz-$target.log" | sed "s/^/fuzz: ${target}: /" || true
  fi
done
exit $status
