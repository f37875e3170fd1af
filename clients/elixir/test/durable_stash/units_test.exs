defmodule DurableStash.UnitsTest do
  # The small pure modules, through their doctests and a few properties.
  use ExUnit.Case, async: true

  alias DurableStash.{Changes, Rendezvous, SessionKey}

  doctest SessionKey
  doctest Rendezvous
  doctest Changes
  doctest DurableStash.Plug

  test "session keys are what the daemon accepts and depend on secret and sid" do
    secret = String.duplicate("s", 32)
    key = SessionKey.derive(secret, "sid-1")
    assert key =~ ~r/\A[A-Za-z0-9_-]{43}\z/
    assert key != SessionKey.derive(secret, "sid-2")
    assert key != SessionKey.derive(String.duplicate("t", 32), "sid-1")
    refute key =~ "sid"
  end

  test "session ids are random" do
    sids = for _ <- 1..1_000, do: DurableStash.Plug.new_sid()
    assert length(Enum.uniq(sids)) == 1_000
  end
end
