#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, and only those that are missing,
# so that `make test` works on a fresh machine and costs nothing on a prepared one.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libgtest-dev libgmock-dev libbenchmark-dev
  clang clang-tidy clang-format libclang-rt-14-dev
  libboost1.81-dev libfmt-dev libcli11-dev libtomlplusplus-dev libxxhash-dev libjemalloc-dev
  redis-server redis-tools
  elixir
  libcurl4-openssl-dev libexpat1-dev radosgw ceph-mon ceph-osd
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "bootstrap: installing ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
