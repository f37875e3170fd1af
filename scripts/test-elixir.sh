#!/usr/bin/env bash
# Checks the Elixir adapter (clients/elixir) against a durable-stashd binary: formatting, a
# compile without warnings, and the ExUnit suite, which starts real daemons from that binary.
# Builds nothing itself; needs only Debian's elixir package (no Hex, no network).
#
#   scripts/test-elixir.sh path/to/durable-stashd
#   DURABLE_STASHD=path/to/durable-stashd scripts/test-elixir.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
daemon="${1:-${DURABLE_STASHD:-}}"

if [ -z "$daemon" ]; then
  echo "usage: $0 path/to/durable-stashd   (or set DURABLE_STASHD)" >&2
  exit 2
fi
if [ ! -x "$daemon" ] || [ -d "$daemon" ]; then
  echo "test-elixir: '$daemon' is not an executable; build it first (cmake --build ... --target durable-stashd)" >&2
  exit 2
fi
if ! command -v mix >/dev/null; then
  echo "test-elixir: mix not found; install Debian's elixir package (scripts/bootstrap.sh does)" >&2
  exit 2
fi

DURABLE_STASHD="$(cd "$(dirname "$daemon")" && pwd)/$(basename "$daemon")"
export DURABLE_STASHD

cd "$root/clients/elixir"

# Mix's and Hex's homes inside _build: the run reads and writes nothing outside the checkout,
# and a Hex archive a developer may have installed elsewhere cannot change what is compiled.
export MIX_HOME="$PWD/_build/mix_home" HEX_HOME="$PWD/_build/hex_home"
# The BEAM warns on every start under a non-UTF-8 locale.
export LC_ALL=C.UTF-8 LANG=C.UTF-8

echo "test-elixir: mix format --check-formatted" >&2
mix format --check-formatted

# Compiled twice: in :dev, with no Phoenix or LiveStash module at all (the adapter must compile
# without a warning even so), and in :test, with the stand-ins of test/support.
echo "test-elixir: mix compile --warnings-as-errors (dev, then test)" >&2
MIX_ENV=dev mix compile --force --warnings-as-errors
MIX_ENV=test mix compile --force --warnings-as-errors

echo "test-elixir: mix test (daemon: $DURABLE_STASHD)" >&2
MIX_ENV=test mix test --warnings-as-errors

echo "test-elixir: all Elixir checks passed" >&2
