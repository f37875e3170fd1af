#!/usr/bin/env bash
# bench.sh BUILD_DIR — the figures of BENCHMARKS.md (what `make bench` runs).
#
# Starts a Redis server and durable-stashd on free 127.0.0.1 ports, drives both with the same
# load generator (BUILD_DIR/ds_bench), prints Markdown tables, and stops what it started.
#   1. accept path, daemon (--store memory:) vs Redis (no persistence): `ds_bench compare`
#   2. memory per resident session (file store on /dev/shm, so stored objects stay out of RSS)
#   3. cold recovers after a restart (every session loaded from the file store)
#   4. durable stashes (DS.SYNC after each) with the file store on disk
# Bounded in time: about 4-5 minutes with the defaults; every step has a timeout.
#
# Environment: DURATION (s per run, default 5), WARMUP (1), CONNECTIONS (50), THREADS (2),
# SESSIONS (10000), MEMORY_SESSIONS (100000), COLD_SESSIONS (20000), SHARDS (daemon default),
# COMPARE_ARGS (extra ds_bench compare options, e.g. "--only RECOVER").
set -euo pipefail

BUILD=${1:?usage: scripts/bench.sh BUILD_DIR}
DAEMON="$BUILD/durable-stashd"
BENCH="$BUILD/ds_bench"
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
CONNECTIONS=${CONNECTIONS:-50}
THREADS=${THREADS:-2}
SESSIONS=${SESSIONS:-10000}
MEMORY_SESSIONS=${MEMORY_SESSIONS:-100000}
COLD_SESSIONS=${COLD_SESSIONS:-20000}
SHARDS=${SHARDS:-}
COMPARE_ARGS=${COMPARE_ARGS:-}

for f in "$DAEMON" "$BENCH"; do
  [[ -x "$f" ]] || { echo "bench.sh: $f not found; build first (make build)" >&2; exit 2; }
done
command -v redis-server >/dev/null || {
  echo "bench.sh: redis-server not found (apt-get install redis-server)" >&2
  exit 2
}

WORK=$(mktemp -d /tmp/ds-bench.XXXXXX)      # logs, and the on-disk file store
SHM=$(mktemp -d /dev/shm/ds-bench.XXXXXX)   # the file store for the memory figure
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK" "$SHM"
}
trap cleanup EXIT

free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    [[ -z "$(ss -Htln "sport = :$port" 2>/dev/null)" ]] && { echo "$port"; return; }
  done
}

wait_for_port() {  # port pid
  for _ in $(seq 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    if ! kill -0 "$2" 2>/dev/null; then
      echo "bench.sh: the server for port $1 exited; its log:" >&2
      tail -5 "$WORK/daemon.log" "$WORK/redis.log" >&2 2>/dev/null || true
      return 1
    fi
    sleep 0.05
  done
  echo "bench.sh: nothing listens on port $1 after 10 s" >&2
  return 1
}

# start_daemon PORT STORE -> sets DAEMON_PID
start_daemon() {
  local shards=()
  [[ -n "$SHARDS" ]] && shards=(--shards "$SHARDS")
  "$DAEMON" --bind 127.0.0.1 --port "$1" --store "$2" --log-level warn "${shards[@]}" \
    >>"$WORK/daemon.log" 2>&1 &
  DAEMON_PID=$!
  PIDS+=("$DAEMON_PID")
  wait_for_port "$1" "$DAEMON_PID"
}

stop() {  # pid: SIGTERM, then wait (the daemon flushes every accepted write first); 60 s
  kill -TERM "$1" 2>/dev/null || true
  (trap - EXIT; sleep 60 && kill -KILL "$1" 2>/dev/null) &
  local watchdog=$!
  wait "$1" 2>/dev/null || true
  kill "$watchdog" 2>/dev/null || true
  wait "$watchdog" 2>/dev/null || true
}

common=(--connections "$CONNECTIONS" --threads "$THREADS")

echo "# durable-stashd benchmarks"
echo
repo="$(dirname "$0")/.."
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')
git -C "$repo" diff --quiet HEAD 2>/dev/null || commit="$commit with local changes"
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $commit"
echo "- machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- $(redis-server --version | cut -d' ' -f1-3)"
echo

# 1. The accept path ---------------------------------------------------------------------------
REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
  --daemonize no --logfile "$WORK/redis.log" &
REDIS_PID=$!
PIDS+=("$REDIS_PID")
wait_for_port "$REDIS_PORT" "$REDIS_PID"
DS_PORT=$(free_port)
start_daemon "$DS_PORT" memory:

echo "## Accept path: daemon (--store memory:) vs Redis"
echo
# shellcheck disable=SC2086
timeout 900 "$BENCH" compare --ds "127.0.0.1:$DS_PORT" --redis "127.0.0.1:$REDIS_PORT" \
  "${common[@]}" --sessions "$SESSIONS" --duration "$DURATION" --warmup "$WARMUP" $COMPARE_ARGS
stop "$DAEMON_PID"
stop "$REDIS_PID"
echo

# 2. Memory per resident session ---------------------------------------------------------------
echo "## Memory: $MEMORY_SESSIONS resident sessions of 3 small keys (file store on /dev/shm)"
echo
DS_PORT=$(free_port)
start_daemon "$DS_PORT" "file:$SHM/store"
timeout 300 "$BENCH" memory --ds "127.0.0.1:$DS_PORT" "${common[@]}" --sessions "$MEMORY_SESSIONS"
stop "$DAEMON_PID"
echo

# 3. Cold recovers: a fresh daemon on the same store, so every session is loaded ---------------
echo "## Cold recover: $COLD_SESSIONS sessions, each recovered once after a restart (file store)"
echo
DS_PORT=$(free_port)
start_daemon "$DS_PORT" "file:$SHM/store"
timeout 300 "$BENCH" cold --ds "127.0.0.1:$DS_PORT" "${common[@]}" --sessions "$COLD_SESSIONS"
stop "$DAEMON_PID"
echo

# 4. Durable stashes on disk -------------------------------------------------------------------
echo "## Durable: DS.STASH + DS.SYNC, file store on disk ($(df -T "$WORK" | awk 'NR==2 {print $2}'))"
echo
DS_PORT=$(free_port)
start_daemon "$DS_PORT" "file:$WORK/store"
timeout 300 "$BENCH" durable --ds "127.0.0.1:$DS_PORT" "${common[@]}" --sessions "$SESSIONS" \
  --duration "$DURATION" --warmup "$WARMUP"
stop "$DAEMON_PID"
echo
echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
