#!/usr/bin/env bash
# stop-radosgw.sh DIR: stops the cluster that start-radosgw.sh started in DIR and removes DIR.
#
# Only the processes recorded in DIR/pids are signalled (each by its process id, SIGTERM first,
# SIGKILL for those still alive after a bounded wait: the OSD takes more than 5 s to exit on
# SIGTERM, and its memstore contents are thrown away anyway). Safe to run twice.
#   DS_RADOSGW_KEEP=1   keep DIR (logs) after stopping, for a post-mortem.
set -uo pipefail

dir="${1:-${DS_RADOSGW_DIR:-}}"
if [ -z "$dir" ]; then
  echo "usage: stop-radosgw.sh DIR (or set DS_RADOSGW_DIR)" >&2
  exit 2
fi
if [ ! -d "$dir" ]; then
  exit 0
fi

pids=()
if [ -f "$dir/pids" ]; then
  while read -r pid name; do
    [ -n "$pid" ] || continue
    # Only a process that is still the Ceph daemon we started (pids can be reused).
    if kill -0 "$pid" 2>/dev/null && grep -qa -e ceph -e radosgw "/proc/$pid/cmdline" 2>/dev/null &&
      grep -qaF "$dir" "/proc/$pid/cmdline" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
    fi
  done <"$dir/pids"
fi

# The OSD flushes nothing we need: give everyone 3 s, then SIGKILL what is left.
deadline=$((SECONDS + 3))
for pid in "${pids[@]}"; do
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null; fi
done
for pid in "${pids[@]}"; do
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
done
rm -f "$dir/pids"

if [ "${DS_RADOSGW_KEEP:-0}" != "1" ]; then
  case "$dir" in
    /|"$HOME"|/tmp|/work) echo "stop-radosgw: refusing to remove $dir" >&2 ;;
    *) rm -rf "$dir" ;;
  esac
fi
