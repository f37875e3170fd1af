defmodule DurableStash.EmbeddedTest do
  use DurableStash.LiveCase

  alias DurableStash.{Client, Embedded}
  alias DurableStash.Test.CounterLive

  @moduletag daemon: false
  @moduletag :tmp_dir

  defp start_client(dir, extra \\ []) do
    opts = [daemons: :embedded, daemon_path: TestDaemon.path(), data_dir: dir] ++ extra
    start_supervised!({Client, opts}, id: :client)
    embedded = DurableStash.Client.Embedded
    address = Embedded.address(embedded)
    daemon_pid = TestDaemon.os_pid(address, extra[:auth_token])
    %{embedded: embedded, address: address, daemon_pid: daemon_pid}
  end

  test "starts the daemon with a file store, serves the adapter, stops with the app", %{
    tmp_dir: dir
  } do
    %{daemon_pid: daemon_pid} = start_client(dir)
    session = new_session()
    mount(CounterLive, session, :fresh) |> set(count: 42)
    assert {:ok, "embedded"} = Client.owner(session_key(session))

    stop_supervised!(:client)
    refute TestDaemon.alive?(daemon_pid)
    assert File.ls!(dir) != []

    # Started again on the same directory, the state is there.
    start_client(dir)
    assert mount(CounterLive, session, :rejoin).assigns.count == 42
  end

  test "the singular form daemon: :embedded and the memory store", %{tmp_dir: dir} do
    start_supervised!(
      {Client, daemon: :embedded, daemon_path: TestDaemon.path(), data_dir: :memory}
    )

    session = new_session()
    mount(CounterLive, session, :fresh) |> set(count: 1)
    assert mount(CounterLive, session, :rejoin).assigns.count == 1
    assert File.ls!(dir) == []
  end

  test "if the daemon dies, it is restarted and the adapter carries on", %{tmp_dir: dir} do
    %{embedded: embedded, daemon_pid: daemon_pid} = start_client(dir)
    session = new_session()
    mount(CounterLive, session, :fresh) |> set(count: 7)
    # A stash is acknowledged once accepted in memory; DS.SYNC waits until it is on disk,
    # so that the kill below cannot lose it.
    key = session_key(session)
    assert {:ok, "OK"} = Client.command(key, ["DS.SYNC", key])
    ref = Process.monitor(Process.whereis(embedded))

    ExUnit.CaptureLog.capture_log(fn ->
      TestDaemon.signal(daemon_pid, "KILL")
      assert_receive {:DOWN, ^ref, :process, _, {:durable_stashd_exited, _}}, 5_000

      socket =
        TestDaemon.eventually(fn ->
          socket = mount(CounterLive, session, :rejoin)
          socket.assigns.status == :recovered and socket
        end)

      # The file store kept what was synced before the kill.
      assert socket.assigns.count == 7
    end)
  end

  test "a BEAM that dies without stopping it still stops the daemon" do
    {:ok, pid} = GenServer.start(Embedded, path: TestDaemon.path(), store: "memory:")
    daemon_pid = pid |> Embedded.address() |> TestDaemon.os_pid()
    assert TestDaemon.alive?(daemon_pid)

    # No terminate/2: the port just closes, as when the VM is killed.
    Process.exit(pid, :kill)

    TestDaemon.eventually(fn -> not TestDaemon.alive?(daemon_pid) end)
  end

  test "a missing executable is a clear error", %{tmp_dir: dir} do
    Process.flag(:trap_exit, true)

    assert {:error, {%ArgumentError{message: message}, _}} =
             Embedded.start_link(path: Path.join(dir, "nope"), store: "memory:")

    assert message =~ "daemon_path"
    assert message =~ "durable-stashd executable"
  end

  test "a daemon that fails to start is a clear error", %{tmp_dir: dir} do
    Process.flag(:trap_exit, true)

    ExUnit.CaptureLog.capture_log(fn ->
      assert {:error, {:durable_stashd_failed_to_start, message}} =
               Embedded.start_link(path: TestDaemon.path(), store: "bogus:#{dir}")

      assert message =~ "exited with status"
      assert message =~ "bogus"
    end)
  end

  test "with an auth token the client authenticates", %{tmp_dir: dir} do
    token = "a-token-for-the-test"
    start_client(dir, auth_token: token)

    session = new_session()
    mount(CounterLive, session, :fresh) |> set(count: 3)
    assert mount(CounterLive, session, :rejoin).assigns.count == 3
  end

  test "a wrong or missing auth token: logged clearly, mounts get :error" do
    {_, address, _} = TestDaemon.start(auth_token: "the-right-token")

    for {token, expected} <- [
          {"a-wrong-token", "the daemon refused the auth_token"},
          {nil, "the daemon requires a token: set auth_token"}
        ] do
      log =
        ExUnit.CaptureLog.capture_log(fn ->
          pid = start_supervised!({Client, daemons: [address], auth_token: token}, id: :c)
          assert mount(CounterLive, new_session(), :fresh).assigns.status == :error
          stop_supervised!(:c)
          refute Process.alive?(pid)
        end)

      assert log =~ expected
    end
  end
end
