defmodule DurableStash.RoutingTest do
  use DurableStash.LiveCase

  alias DurableStash.{Client, Rendezvous}
  alias DurableStash.Test.CounterLive

  @moduletag daemon: false

  describe "two daemons" do
    setup do
      {a_id, a, _} = TestDaemon.start()
      {_, b, _} = TestDaemon.start()
      start_supervised!({Client, daemons: [a, b]})
      %{a: a, b: b, a_id: a_id}
    end

    test "each session lands on the daemon rendezvous hashing picks, and only there", %{
      a: a,
      b: b
    } do
      owners =
        for _ <- 1..40 do
          session = new_session()
          mount(CounterLive, session, :fresh) |> set(count: 1)

          key = session_key(session)
          assert {:ok, owner} = Client.owner(key)
          assert owner == Rendezvous.owner([a, b], key)
          [other] = [a, b] -- [owner]

          assert TestDaemon.dump(owner, key) =~ ~s{"count"}
          assert TestDaemon.dump(other, key) == nil
          assert mount(CounterLive, session, :rejoin).assigns.count == 1
          owner
        end

      # Both daemons got sessions (40 sessions all on one side: probability 2^-39).
      assert Enum.sort(Enum.uniq(owners)) == Enum.sort([a, b])
    end

    test "a daemon that is down affects only its own sessions", %{a: a, b: b, a_id: a_id} do
      sessions = for _ <- 1..20, do: new_session()
      for s <- sessions, do: mount(CounterLive, s, :fresh) |> set(count: 1)

      TestDaemon.stop(a_id)

      ExUnit.CaptureLog.capture_log(fn ->
        for s <- sessions do
          socket = mount(CounterLive, s, :rejoin)

          if Rendezvous.owner([a, b], session_key(s)) == b do
            assert {socket.assigns.status, socket.assigns.count} == {:recovered, 1}
          else
            assert {socket.assigns.status, socket.assigns.count} == {:error, 0}
          end
        end
      end)
    end
  end

  describe "rendezvous hashing" do
    @daemons ["10.0.0.1:7379", "10.0.0.2:7379", "10.0.0.3:7379"]
    @keys for i <- 1..3_000, do: "session-#{i}"

    test "does not depend on the order of the daemon list" do
      for key <- @keys do
        assert Rendezvous.owner(@daemons, key) == Rendezvous.owner(Enum.reverse(@daemons), key)
      end
    end

    test "spreads sessions evenly" do
      counts = @keys |> Enum.map(&Rendezvous.owner(@daemons, &1)) |> Enum.frequencies()
      # 1,000 expected each; 800..1,200 is over six standard deviations wide.
      for daemon <- @daemons, do: assert(counts[daemon] in 800..1_200)
    end

    test "adding a daemon moves only the sessions it wins" do
      grown = @daemons ++ ["10.0.0.4:7379"]

      moved =
        for key <- @keys,
            before = Rendezvous.owner(@daemons, key),
            now = Rendezvous.owner(grown, key),
            before != now do
          assert now == "10.0.0.4:7379"
          key
        end

      assert length(moved) in 550..950
    end

    test "removing a daemon moves only its sessions" do
      shrunk = List.delete(@daemons, "10.0.0.2:7379")

      for key <- @keys, Rendezvous.owner(@daemons, key) != "10.0.0.2:7379" do
        assert Rendezvous.owner(shrunk, key) == Rendezvous.owner(@daemons, key)
      end
    end

    test "is the documented function: highest first 8 bytes of SHA-256(daemon, 0, key)" do
      key = "k"

      expected =
        Enum.max_by(@daemons, fn d ->
          <<score::64, _::binary>> = :crypto.hash(:sha256, d <> <<0>> <> key)
          score
        end)

      assert Rendezvous.owner(@daemons, key) == expected
    end
  end
end
