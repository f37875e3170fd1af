#!/usr/bin/env bash
# start-radosgw.sh: a throwaway Ceph RADOS Gateway (a real S3 server) on 127.0.0.1, for tests.
#
#   eval "$(scripts/s3/start-radosgw.sh)"     # or: scripts/s3/start-radosgw.sh DIR
#   ... run the tests: they read the DS_TEST_S3_* variables ...
#   scripts/s3/stop-radosgw.sh "$DS_RADOSGW_DIR"
#
# What it does, each step bounded in time and failing with the log that explains why:
#   1. installs radosgw, ceph-mon and ceph-osd from Debian if they are missing;
#   2. starts a one-monitor, one-OSD cluster in DIR (a new temporary directory by default) with
#      the in-memory object store (`memstore`), `auth = none`, every daemon bound to 127.0.0.1;
#   3. starts radosgw on a free 127.0.0.1 port, creates a user with fresh random keys and one
#      bucket;
#   4. prints `export NAME=value` lines on stdout (and writes them to DIR/env.sh):
#        DS_TEST_S3_ENDPOINT, DS_TEST_S3_REGION, DS_TEST_S3_BUCKET, DS_TEST_S3_ACCESS_KEY_ID,
#        DS_TEST_S3_SECRET_ACCESS_KEY, DS_TEST_S3_OPTIONS (store URL query for this server),
#        DS_TEST_S3_SERVER=radosgw (tests of Ceph's quirks run only then),
#        DS_RADOSGW_DIR (what stop-radosgw.sh needs).
#   Timing on the 2-core CI machine: install ~90 s when missing (63 packages), start ~25 s.
#   DS_RADOSGW_WAIT_SECONDS bounds each wait (default 90).
# Progress and errors go to stderr. On any failure everything started so far is stopped.
#
# Setup gotchas this script encodes (learned the hard way, see shared/reference/s3.md):
#   - with `auth = none` the monitor client must also use `ms mon client mode = crc`, or
#     radosgw hangs at start (get_initial_auth_request returned -13);
#   - radosgw creates about eight pools at its first start: with the default 32 placement groups
#     each they exceed the per-OSD limit, so pools get 8 PGs and the limit is raised;
#   - a one-OSD cluster needs replica size 1 and `osd crush chooseleaf type = 0`.
set -Eeuo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
wait_seconds="${DS_RADOSGW_WAIT_SECONDS:-90}"

log() { echo "start-radosgw: $*" >&2; }

die() {
  log "ERROR: $*"
  if [ -n "${dir:-}" ] && [ -d "$dir/log" ]; then
    for f in "$dir"/log/*.log; do
      [ -f "$f" ] || continue
      echo "---- last lines of $f" >&2
      tail -n 15 "$f" >&2
    done
  fi
  if [ -n "${dir:-}" ]; then "$here/stop-radosgw.sh" "$dir" >&2 || true; fi
  exit 1
}

trap 'die "line $LINENO: command failed (exit $?)"' ERR

# --- 1. install --------------------------------------------------------------------------------
need_install=0
for bin in radosgw radosgw-admin ceph-mon ceph-osd ceph monmaptool ceph-authtool; do
  command -v "$bin" >/dev/null 2>&1 || need_install=1
done
if [ "$need_install" -eq 1 ]; then
  log "installing radosgw ceph-mon ceph-osd (Debian packages)"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq >&2
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    radosgw ceph-mon ceph-osd ceph-common >/dev/null ||
    die "apt-get install radosgw ceph-mon ceph-osd failed"
fi
command -v curl >/dev/null 2>&1 || die "curl is needed to create the bucket"
command -v python3 >/dev/null 2>&1 || die "python3 is needed to find free ports"

# --- helpers -----------------------------------------------------------------------------------
# A TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_until DESCRIPTION COMMAND...: runs COMMAND every 0.2 s until it succeeds, or dies after
# $wait_seconds.
wait_until() {
  local what="$1"
  shift
  local deadline=$((SECONDS + wait_seconds))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then die "timed out after ${wait_seconds}s waiting for $what"; fi
    sleep 0.2
  done
}

random_string() {  # random_string LENGTH CHARACTERS
  python3 -c 'import secrets, sys; print("".join(secrets.choice(sys.argv[2]) for _ in range(int(sys.argv[1]))))' "$1" "$2"
}

# Starts "$@" in the background in its own process group and records its pid in DIR/pids, so
# that stop-radosgw.sh ends exactly what this script started.
spawn() {
  local name="$1"
  shift
  setsid "$@" >"$dir/log/$name.out" 2>&1 </dev/null &
  echo "$! $name" >>"$dir/pids"
}

# --- 2. the cluster ----------------------------------------------------------------------------
dir="${1:-}"
if [ -z "$dir" ]; then
  dir="$(mktemp -d "${TMPDIR:-/tmp}/ds-radosgw.XXXXXX")"
else
  # A directory left by an earlier run (a test run that was killed): stop what it recorded and
  # start afresh. Anything else that is not empty is not ours to wipe.
  if [ -e "$dir/ceph.conf" ]; then
    log "stopping the cluster left in $dir by an earlier run"
    DS_RADOSGW_KEEP=0 "$here/stop-radosgw.sh" "$dir"
  elif [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
    dir_arg="$dir"
    dir=""
    die "$dir_arg is not empty and was not made by this script"
  fi
  mkdir -p "$dir"
fi
dir="$(cd "$dir" && pwd)"
mkdir -p "$dir/log" "$dir/run" "$dir/mon" "$dir/osd" "$dir/rgw"
: >"$dir/pids"
started=$SECONDS

fsid="$(cat /proc/sys/kernel/random/uuid)"
mon_port="$(free_port)"
rgw_port="$(free_port)"
[ "$mon_port" != "$rgw_port" ] || rgw_port="$(free_port)"
conf="$dir/ceph.conf"

cat >"$conf" <<EOF
# Written by scripts/s3/start-radosgw.sh: a one-node test cluster, nothing of it survives.
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
mon initial members = a
public addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
run dir = $dir/run
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
pid file = $dir/run/\$name.pid
keyring = $dir/keyring
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 1
mon data avail crit = 0

[mon]
mon data = $dir/mon/\$cluster-\$id

[osd]
osd data = $dir/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = 1073741824
osd max object name len = 460
osd max object namespace len = 64

[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw data = $dir/rgw
rgw thread pool size = 64
EOF

log "starting a Ceph cluster in $dir (monitor on 127.0.0.1:$mon_port)"
ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" >"$dir/log/mon-mkfs.out" 2>&1 ||
  die "ceph-mon --mkfs failed: $(cat "$dir/log/mon-mkfs.out")"
spawn mon.a ceph-mon -c "$conf" -i a -f

ceph_cli() { timeout 20 ceph -c "$conf" --connect-timeout 15 "$@"; }
wait_until "the monitor to answer" ceph_cli mon stat

osd_uuid="$(cat /proc/sys/kernel/random/uuid)"
osd_id="$(ceph_cli osd new "$osd_uuid")" || die "ceph osd new failed"
mkdir -p "$dir/osd/ceph-$osd_id"
ceph-osd -c "$conf" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" >"$dir/log/osd-mkfs.out" 2>&1 ||
  die "ceph-osd --mkfs failed: $(cat "$dir/log/osd-mkfs.out")"
spawn "osd.$osd_id" ceph-osd -c "$conf" -i "$osd_id" -f
osd_up() { ceph_cli osd dump 2>/dev/null | grep -q "^osd\.$osd_id up"; }
wait_until "osd.$osd_id to come up" osd_up
log "monitor and osd.$osd_id up after $((SECONDS - started))s"

# --- 3. radosgw, a user and a bucket -----------------------------------------------------------
spawn rgw.a radosgw -c "$conf" -n client.rgw.a -f
rgw_answers() { curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$rgw_port/"; }
wait_until "radosgw to answer on 127.0.0.1:$rgw_port" rgw_answers
log "radosgw answers on 127.0.0.1:$rgw_port after $((SECONDS - started))s"

access_key="$(random_string 20 ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789)"
secret_key="$(random_string 40 ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789)"
bucket="ds-test-$(random_string 8 abcdefghijklmnopqrstuvwxyz0123456789)"
timeout 60 radosgw-admin -c "$conf" -n client.rgw.a user create --uid=ds-test \
  --display-name="durable-stash tests" --access-key="$access_key" --secret-key="$secret_key" \
  >"$dir/log/user-create.out" 2>&1 || die "radosgw-admin user create failed: $(tail -5 "$dir/log/user-create.out")"

# curl's own SigV4 signing is fine for a PUT without a query string.
status="$(curl -s -o "$dir/log/bucket-create.out" -w '%{http_code}' --max-time 30 -X PUT \
  --aws-sigv4 "aws:amz:us-east-1:s3" --user "$access_key:$secret_key" \
  -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
  "http://127.0.0.1:$rgw_port/$bucket")" || true
[ "$status" = "200" ] || die "creating bucket $bucket answered HTTP $status: $(cat "$dir/log/bucket-create.out")"
log "bucket $bucket ready after $((SECONDS - started))s"

# --- 4. the environment for the tests ----------------------------------------------------------
cat >"$dir/env.sh" <<EOF
export DS_RADOSGW_DIR=$dir
export DS_TEST_S3_ENDPOINT=http://127.0.0.1:$rgw_port
export DS_TEST_S3_REGION=us-east-1
export DS_TEST_S3_BUCKET=$bucket
export DS_TEST_S3_ACCESS_KEY_ID=$access_key
export DS_TEST_S3_SECRET_ACCESS_KEY=$secret_key
export DS_TEST_S3_OPTIONS='path_style=true'
export DS_TEST_S3_SERVER=radosgw
EOF
cat "$dir/env.sh"
