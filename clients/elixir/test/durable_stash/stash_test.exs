defmodule DurableStash.StashTest do
  use DurableStash.LiveCase

  import ExUnit.CaptureLog

  alias DurableStash.Test.{CounterLive, LenientLive}

  describe "two sockets of one browser session" do
    test "writing different keys never clobber each other", %{session: session} do
      tab_a = mount(CounterLive, session, :fresh)
      tab_b = mount(CounterLive, session, :fresh)

      set(tab_a, count: 7)
      set(tab_b, username: "ana")

      socket = mount(CounterLive, session, :fresh)
      assert {socket.assigns.count, socket.assigns.username} == {7, "ana"}
    end

    test "writing the same key: the last write wins", %{session: session, address: address} do
      tab_a = mount(CounterLive, session, :fresh)
      tab_b = mount(CounterLive, session, :fresh)

      tab_a = set(tab_a, count: 1)
      set(tab_b, count: 2)
      assert {_, _, %{"count" => 2}} = stored(address, session, CounterLive, [:count])

      set(tab_a, count: 3)
      assert {_, _, %{"count" => 3}} = stored(address, session, CounterLive, [:count])
    end
  end

  describe "unchanged keys" do
    test "are not sent: a stash with nothing changed does no I/O", %{
      session: session,
      address: address
    } do
      socket = mount(CounterLive, session, :fresh) |> set(count: 1, username: "ana")
      stashes = TestDaemon.info(address, "calls_ds.stash")

      socket = socket |> LiveStash.stash() |> set(count: 1)
      assert TestDaemon.info(address, "calls_ds.stash") == stashes

      set(socket, count: 2)
      assert TestDaemon.info(address, "calls_ds.stash") == stashes + 1
    end

    test "are left out of a stash that sends others", %{session: session, address: address} do
      tab_a = mount(CounterLive, session, :fresh) |> set(count: 1, username: "ana")

      # Another tab changes username. Tab A still holds "ana", unchanged since its last
      # stash; had tab A resent it, the other tab's write would be lost.
      mount(CounterLive, session, :fresh) |> set(username: "bob")
      set(tab_a, count: 2)

      assert {_, _, %{"count" => 2, "username" => "bob"}} =
               stored(address, session, CounterLive, [:count, :username])
    end

    test "recovered values count as stored", %{session: session, address: address} do
      mount(CounterLive, session, :fresh) |> set(count: 4, username: "ana")
      socket = mount(CounterLive, session, :rejoin)
      stashes = TestDaemon.info(address, "calls_ds.stash")

      LiveStash.stash(socket)
      assert TestDaemon.info(address, "calls_ds.stash") == stashes
    end

    test "equal but not identical values (1 vs 1.0) are a change", %{
      session: session,
      address: address
    } do
      mount(CounterLive, session, :fresh) |> set(count: 1) |> set(count: 1.0)
      assert {_, _, %{"count" => 1.0}} = stored(address, session, CounterLive, [:count])
    end

    test "assigns that are not set yet are skipped", %{session: session, address: address} do
      socket = mount(CounterLive, session, :fresh)
      socket = %{socket | assigns: Map.delete(socket.assigns, :username)}
      set(socket, count: 3)

      assert {"recovered", 1, stored} = stored(address, session, CounterLive, [:count, :username])
      assert stored == %{"count" => 3}
    end
  end

  test "values come back JSON-normalized", %{session: session} do
    value = %{:atom_key => :dark, 1 => [~D[2024-01-31], nil, true, 1.5], "s" => "é"}
    mount(CounterLive, session, :fresh) |> set(username: value)

    assert mount(CounterLive, session, :fresh).assigns.username == %{
             "atom_key" => "dark",
             "1" => ["2024-01-31", nil, true, 1.5],
             "s" => "é"
           }
  end

  describe "reset_stash/1" do
    test "removes the view's state; the next stash sends every key again", %{
      session: session,
      address: address
    } do
      socket = mount(CounterLive, session, :fresh) |> set(count: 9, username: "ana")
      socket = LiveStash.reset_stash(socket)

      assert socket.assigns.count == 9
      assert {"not_found", 0, %{}} = stored(address, session, CounterLive, [:count, :username])
      assert mount(CounterLive, session, :rejoin).assigns.status == :not_found

      LiveStash.stash(socket)

      assert {"recovered", 1, %{"count" => 9, "username" => "ana"}} =
               stored(address, session, CounterLive, [:count, :username])
    end

    test "with nothing stored is harmless", %{session: session} do
      socket = mount(CounterLive, session, :fresh)
      assert %{} = LiveStash.reset_stash(socket)
    end
  end

  describe "a value the daemon refuses" do
    test "under on_invalid_value: :raise raises an ArgumentError naming the key, storing nothing",
         %{session: session, address: address} do
      socket = mount(CounterLive, session, :fresh)

      error =
        assert_raise ArgumentError, fn ->
          set(socket, count: {1, 2}, username: "ana")
        end

      assert error.message =~ ~s{key "count"}
      assert error.message =~ "tuple"
      assert error.message =~ "on_invalid_value: :log"
      assert {"not_found", _, %{}} = stored(address, session, CounterLive, [:count, :username])
    end

    test "under on_invalid_value: :log is logged and skipped; the other keys are stored", %{
      session: session,
      address: address
    } do
      socket = mount(LenientLive, session, :fresh)

      {socket, log} = with_log(fn -> set(socket, good: [1, 2], bad: self()) end)

      assert log =~ "not stashing :bad of Elixir.DurableStash.Test.LenientLive"
      assert log =~ "pid"
      refute log =~ ":good"

      assert {"recovered", 1, stored} = stored(address, session, LenientLive, [:good, :bad])
      assert stored == %{"good" => [1, 2]}

      # The good key is now known as stored; the refused one is tried again next time.
      stashes = TestDaemon.info(address, "calls_ds.stash")
      socket = set(socket, bad: nil)
      assert TestDaemon.info(address, "calls_ds.stash") == stashes + 1

      assert {_, _, %{"good" => [1, 2], "bad" => nil}} =
               stored(address, session, LenientLive, [:good, :bad])

      assert socket.assigns.bad == nil
    end
  end

  test "a value over the daemon's limit is logged, never raised", %{session: session} do
    socket = mount(CounterLive, session, :fresh)
    big = String.duplicate("x", 70_000)

    log = capture_log(fn -> assert %{} = set(socket, username: big) end)
    assert log =~ "could not stash the state of Elixir.DurableStash.Test.CounterLive"
    assert log =~ "LIMIT"
    assert mount(CounterLive, session, :rejoin).assigns.status == :not_found
  end

  describe "a session without a sid" do
    test "logs one message naming the plug; recover is :not_found and stash does nothing", %{
      address: address
    } do
      {socket, log} = with_log(fn -> mount(CounterLive, %{}, :fresh) end)

      assert log =~ ~s{the session has no "sid"}
      assert log =~ "plug DurableStash.Plug"
      assert [_one] = Regex.scan(~r/\[error\]/, log)
      assert socket.assigns.status == :not_found

      stashes = TestDaemon.info(address, "calls_ds.stash")
      assert %{} = set(socket, count: 5)
      assert TestDaemon.info(address, "calls_ds.stash") == stashes
    end
  end
end
