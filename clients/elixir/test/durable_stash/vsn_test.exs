defmodule DurableStash.VsnTest do
  # A view whose :vsn moved on meets state stored under the old vsn.
  use DurableStash.LiveCase

  import ExUnit.CaptureLog

  alias DurableStash.Client

  alias DurableStash.Test.{
    BrokenMigrateLive,
    CapturedMigrateLive,
    MigratedLive,
    UnmigratedLive
  }

  # What an older release of the view stored: vsn 1 with keys count, name and draft.
  defp store_v1(session, view, data) do
    key = session_key(session)

    pairs = Enum.flat_map(data, fn {name, value} -> [name, :erlang.term_to_binary(value)] end)

    assert {:ok, "OK"} = Client.command(key, ["DS.STASH", key, Atom.to_string(view), 1 | pairs])
  end

  @v1 %{"count" => 5, "name" => "ana", "draft" => "Dear"}

  describe "with :migrate" do
    test "a rejoin migrates, assigns every key and writes the result back under the new vsn",
         %{session: session, address: address} do
      store_v1(session, MigratedLive, @v1)

      socket = mount(MigratedLive, session, :rejoin)
      assert socket.assigns.status == :recovered

      assert {socket.assigns.total, socket.assigns.label, socket.assigns.draft} ==
               {"5", "ana", "Dear"}

      # Written back whole under vsn 2: the next mount needs no migration.
      assert {"recovered", 2, stored} =
               stored(address, session, MigratedLive, [:total, :label, :draft], 2)

      assert stored == %{"total" => "5", "label" => "ana", "draft" => "Dear"}
      assert mount(MigratedLive, session, :rejoin).assigns.status == :recovered
    end

    test "the old keys and keys the view does not store are gone", %{
      session: session,
      address: address
    } do
      store_v1(session, MigratedLive, @v1)
      mount(MigratedLive, session, :rejoin)

      assert {"recovered", 2, stored} =
               stored(address, session, MigratedLive, [:count, :name, :dropped_key, :total], 2)

      assert Map.keys(stored) == ["total"]
    end

    test "a fresh mount assigns the :session keys and drops the :reconnect ones", %{
      session: session,
      address: address
    } do
      store_v1(session, MigratedLive, @v1)

      socket = mount(MigratedLive, session, :fresh)
      assert socket.assigns.status == :recovered
      assert {socket.assigns.total, socket.assigns.draft} == {"5", nil}

      assert {"recovered", 2, stored} =
               stored(address, session, MigratedLive, [:total, :label, :draft], 2)

      assert stored == %{"total" => "5", "label" => "ana"}
    end

    test "the dead render assigns the :session keys and keeps the :reconnect ones stored", %{
      session: session,
      address: address
    } do
      store_v1(session, MigratedLive, @v1)

      socket = mount(MigratedLive, session, :dead)
      assert {socket.assigns.total, socket.assigns.draft} == {"5", nil}

      assert {"recovered", 2, %{"draft" => "Dear"}} =
               stored(address, session, MigratedLive, [:draft], 2)

      assert mount(MigratedLive, session, :rejoin).assigns.draft == "Dear"
    end

    test "a captured function &Mod.fun/2 works too", %{session: session} do
      store_v1(session, CapturedMigrateLive, @v1)
      socket = mount(CapturedMigrateLive, session, :fresh)
      assert {socket.assigns.status, socket.assigns.total} == {:recovered, "5"}
    end

    test "stashing after the migration stays at the new vsn", %{
      session: session,
      address: address
    } do
      store_v1(session, MigratedLive, @v1)
      mount(MigratedLive, session, :rejoin) |> set(label: "bob")

      assert {"recovered", 2, %{"total" => "5", "label" => "bob"}} =
               stored(address, session, MigratedLive, [:total, :label], 2)
    end

    test "a migration that raises is :error and keeps the stored state", %{
      session: session,
      address: address
    } do
      store_v1(session, BrokenMigrateLive, %{"count" => 5})

      {socket, log} = with_log(fn -> mount(BrokenMigrateLive, session, :fresh) end)
      assert socket.assigns.status == :error
      assert socket.assigns.total == "0"
      assert log =~ "migration bug"

      assert {"vsn_mismatch", 1, %{"count" => 5}} =
               stored(address, session, BrokenMigrateLive, [:count], 2)
    end
  end

  describe "without :migrate" do
    test "old state is discarded: defaults, :not_found, and the slice is gone", %{
      session: session,
      address: address
    } do
      store_v1(session, UnmigratedLive, %{"count" => 5})

      log =
        capture_log(fn ->
          socket = mount(UnmigratedLive, session, :fresh)
          assert {socket.assigns.status, socket.assigns.total} == {:not_found, "0"}
        end)

      assert log =~ "discarded the stored state"
      assert {"not_found", 0, %{}} = stored(address, session, UnmigratedLive, [:count], 2)
    end
  end
end
