defmodule DurableStash.ScopesTest do
  # Every scope × mount-kind rule of SPEC §3, through LiveView mounts against a real daemon.
  use DurableStash.LiveCase

  alias DurableStash.Test.{CounterLive, DraftOnlyLive, ScopedLive}

  # A previous page of the same browser session left theme and draft stored.
  setup %{session: session, address: address} do
    session
    |> mount_fresh(ScopedLive)
    |> set(theme: "dark", draft: "Dear Ana,")

    assert {"recovered", 1, %{"theme" => "dark", "draft" => "Dear Ana,"}} =
             stored(address, session, ScopedLive, [:theme, :draft])

    :ok
  end

  defp mount_fresh(session, view), do: mount(view, session, :fresh)

  describe ":session keys" do
    test "are recovered on the dead render", %{session: session} do
      socket = mount(ScopedLive, session, :dead)
      assert socket.assigns.status == :recovered
      assert socket.assigns.theme == "dark"
    end

    test "are recovered on a fresh connected mount", %{session: session} do
      socket = mount(ScopedLive, session, :fresh)
      assert socket.assigns.status == :recovered
      assert socket.assigns.theme == "dark"
    end

    test "are recovered on a rejoin", %{session: session} do
      socket = mount(ScopedLive, session, :rejoin)
      assert socket.assigns.status == :recovered
      assert socket.assigns.theme == "dark"
    end

    test "recovered values are marked changed for re-render", %{session: session} do
      socket = mount(ScopedLive, session, :fresh)
      assert socket.assigns.__changed__[:theme]
    end
  end

  describe ":reconnect keys" do
    test "are recovered on a rejoin", %{session: session, address: address} do
      socket = mount(ScopedLive, session, :rejoin)
      assert socket.assigns.draft == "Dear Ana,"
      assert {_, _, %{"draft" => "Dear Ana,"}} = stored(address, session, ScopedLive, [:draft])
    end

    test "are neither recovered nor cleared by the dead render", %{
      session: session,
      address: address
    } do
      socket = mount(ScopedLive, session, :dead)
      assert socket.assigns.draft == ""
      assert {_, _, %{"draft" => "Dear Ana,"}} = stored(address, session, ScopedLive, [:draft])

      # ...so the rejoin after it still finds the draft.
      assert mount(ScopedLive, session, :rejoin).assigns.draft == "Dear Ana,"
    end

    test "are not recovered, and are cleared, by a fresh connected mount", %{
      session: session,
      address: address
    } do
      socket = mount(ScopedLive, session, :fresh)
      assert socket.assigns.draft == ""
      assert socket.assigns.theme == "dark"

      assert {"recovered", 1, stored} = stored(address, session, ScopedLive, [:theme, :draft])
      assert stored == %{"theme" => "dark"}

      # A later rejoin of that new page starts blank too.
      assert mount(ScopedLive, session, :rejoin).assigns.draft == ""
    end
  end

  describe "a view with only :reconnect keys" do
    setup %{session: session} do
      session |> mount_fresh(DraftOnlyLive) |> set(draft: "half a sentence")
      :ok
    end

    test "the dead render asks nothing (no I/O) and finds nothing", %{
      session: session,
      address: address
    } do
      recovers = TestDaemon.info(address, "calls_ds.recover")
      assert mount(DraftOnlyLive, session, :dead).assigns.status == :not_found
      assert TestDaemon.info(address, "calls_ds.recover") == recovers
    end

    test "a fresh mount finds nothing and clears the key", %{session: session, address: address} do
      assert mount(DraftOnlyLive, session, :fresh).assigns.status == :not_found
      assert {"not_found", _vsn, %{}} = stored(address, session, DraftOnlyLive, [:draft])
    end

    test "a rejoin recovers it", %{session: session} do
      socket = mount(DraftOnlyLive, session, :rejoin)
      assert socket.assigns.status == :recovered
      assert socket.assigns.draft == "half a sentence"
    end
  end

  describe "nothing stored" do
    test "is :not_found on every mount kind and never creates a session", %{address: address} do
      session = new_session()

      for kind <- [:dead, :fresh, :rejoin] do
        socket = mount(CounterLive, session, kind)
        assert socket.assigns.status == :not_found
        assert socket.assigns.count == 0
      end

      assert TestDaemon.dump(address, session_key(session)) == nil
    end
  end

  test "views of one session never see each other's keys", %{session: session} do
    # ScopedLive's theme is stored; CounterLive asks for its own keys only.
    socket = mount(CounterLive, session, :rejoin)
    assert socket.assigns.status == :not_found
    refute Map.has_key?(socket.assigns, :theme)
  end

  test "another browser session sees defaults" do
    socket = mount(ScopedLive, new_session(), :rejoin)
    assert socket.assigns.status == :not_found
    assert socket.assigns.theme == "light"
  end
end
