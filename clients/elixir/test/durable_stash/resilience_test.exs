defmodule DurableStash.ResilienceTest do
  # A daemon that is down, restarted or stalled never crashes a LiveView.
  use DurableStash.LiveCase

  import ExUnit.CaptureLog

  alias DurableStash.{Client, Error}
  alias DurableStash.Test.CounterLive

  @moduletag daemon: false

  @tag :tmp_dir
  test "daemon stopped and restarted mid-test", %{tmp_dir: dir} do
    port = TestDaemon.free_port()
    daemon = [port: port, store: "file:" <> dir]
    {id, address, _} = TestDaemon.start(daemon)
    start_supervised!({Client, daemons: [address], timeout: 1_000})

    session = new_session()
    socket = mount(CounterLive, session, :fresh) |> set(count: 1)

    TestDaemon.stop(id)

    log =
      capture_log(fn ->
        assert mount(CounterLive, session, :rejoin).assigns.status == :error
        assert %{} = set(socket, count: 2)
      end)

    assert log =~ "could not recover the state of Elixir.DurableStash.Test.CounterLive"
    assert log =~ "could not stash the state of Elixir.DurableStash.Test.CounterLive"
    assert log =~ "daemon #{address}"

    # Same port, same directory: the client reconnects by itself and the state is back.
    TestDaemon.start(daemon)

    recovered =
      TestDaemon.eventually(fn ->
        socket = mount(CounterLive, session, :rejoin)
        socket.assigns.status == :recovered and socket
      end)

    assert recovered.assigns.count == 1
    set(recovered, count: 3)
    assert mount(CounterLive, session, :rejoin).assigns.count == 3
  end

  test "a stalled daemon times out; recover is :error, stash logs; then it works again" do
    {_id, address, _} = TestDaemon.start()
    start_supervised!({Client, daemons: [address], timeout: 5_000}, id: :patient)
    session = new_session()
    socket = mount(CounterLive, session, :fresh) |> set(count: 1)

    # A short timeout keeps the stall short; only the assertions made during the stall
    # depend on it (the first one after it is polled, the rest use a patient client again).
    stop_supervised!(:patient)
    start_supervised!({Client, daemons: [address], timeout: 200}, id: :impatient)
    os_pid = TestDaemon.os_pid(address)

    TestDaemon.suspend(os_pid)

    try do
      log =
        capture_log(fn ->
          assert mount(CounterLive, session, :rejoin).assigns.status == :error
          assert %{} = set(socket, count: 2)
        end)

      assert log =~ "no reply within 200 ms"
    after
      TestDaemon.signal(os_pid, "CONT")
    end

    # The late replies are dropped; the connection carries on in order. (Polled: the daemon
    # first works through what queued up while it was stopped.)
    socket =
      TestDaemon.eventually(fn ->
        socket = mount(CounterLive, session, :rejoin)
        socket.assigns.status == :recovered and socket
      end)

    assert socket.assigns.count in [1, 2]

    stop_supervised!(:impatient)
    start_supervised!({Client, daemons: [address], timeout: 5_000})
    set(socket, count: 5)
    assert mount(CounterLive, session, :rejoin).assigns.count == 5
  end

  test "a daemon that was never up: the app starts, mounts get :error" do
    start_supervised!({Client, daemons: ["127.0.0.1:#{TestDaemon.free_port()}"]})

    log =
      capture_log(fn ->
        socket = mount(CounterLive, new_session(), :fresh)
        assert socket.assigns.status == :error
        assert socket.assigns.count == 0
      end)

    assert log =~ "could not recover"
  end

  test "without a running client, recover is :error with a message saying how to start it" do
    log =
      capture_log(fn ->
        assert mount(CounterLive, new_session(), :fresh).assigns.status == :error
      end)

    assert log =~ "DurableStash.Client is not running"
    assert log =~ "config :live_stash, adapters"

    assert {:error, %Error{kind: :not_started}} = Client.command("s", ["PING"])
  end
end
