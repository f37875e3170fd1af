# The adapter's tests run against a real durable-stashd (DURABLE_STASHD, see
# scripts/test-elixir.sh) with stand-ins for Phoenix and LiveStash from test/support.
Application.put_env(:live_stash, :adapters, [DurableStash])
Application.put_env(:durable_stash, :secret, String.duplicate("test-secret-", 4))

# Fail early, with the message saying what to do, when the daemon is missing.
DurableStash.TestDaemon.path()

ExUnit.start(capture_log: true)
